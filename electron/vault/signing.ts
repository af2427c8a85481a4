/**
 * Signed audit events (schema 11): each user's Ed25519 signing keys, what vouches for each, and
 * the signature over one event. A key is vouched for by a certificate — a signature by the key
 * of whoever made it for the user (an owner resetting their password) — or, for a user's first
 * key only, by nobody: it was made at their own sign-in ("self-introduced"). A second key
 * without a certificate is not theirs. Uses node:crypto's Ed25519 only.
 * Must never let a private signing key leave the ring unwrapped, nor accept a signature that
 * does not verify.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { certificateText, certificateTextV1 } from '../../shared/sync/signing-keys';

export interface SigningKeyPair {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

/** The signing key a session holds: its row in signing_keys, its global id and the private key. */
export interface Signer {
  readonly keyId: number;
  readonly keyUid: Buffer;
  readonly privateKey: KeyObject;
}

export function newSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('ed25519 key without x');
  return { publicKey: Buffer.from(jwk.x, 'base64url'), privateKey };
}

/** The 32-byte seed, for wrapping for the user; wipe it after. */
export function signingSeed(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('ed25519 key without d');
  return Buffer.from(jwk.d, 'base64url');
}

export function signingKeyFromSeed(seed: Buffer, publicKey: Buffer): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicKey.toString('base64url') }, format: 'jwk' });
}

export function signBytes(key: KeyObject, bytes: Buffer): Buffer {
  return sign(null, bytes, key);
}

export function signatureValid(publicKey: Buffer, bytes: Buffer, signature: Buffer): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
    return verify(null, bytes, key, signature);
  } catch {
    return false; // a damaged key or signature is a signature that does not hold
  }
}

/** What a binding signs: that this X25519 public key is this user's (schema 14). */
export function bindingBytes(userUid: string, publicKey: Buffer): Buffer {
  return Buffer.from(JSON.stringify(['crewvault/v1 public key', userUid, publicKey.toString('base64')]), 'utf8');
}

/** What a certificate signs: the vault (review round seven hole 4), the new key, whose it is and its own id. */
export function certificateBytes(vault: string, keyUid: string, userUid: string, publicKey: Buffer): Buffer {
  return Buffer.from(certificateText(vault, keyUid, userUid, publicKey.toString('base64')), 'utf8');
}

/** What a certificate signed before hole 4's fix (no vault): checked for what a file holds, never signed. */
export function certificateBytesV1(keyUid: string, userUid: string, publicKey: Buffer): Buffer {
  return Buffer.from(certificateTextV1(keyUid, userUid, publicKey.toString('base64')), 'utf8');
}
