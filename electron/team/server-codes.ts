/**
 * The desktop's half of server-computed codes (format: shared/sync/server-codes.ts): sealing a
 * TOTP key of a group set to "server computes codes" to the team server's code key, bound to the
 * vault, entry, group and key version, and the fingerprint of that key as the server shows it.
 *
 * Must never: seal an HOTP key (its counter lives in the sealed entry, which the server cannot
 * write), seal to a key other than the one pinned for the server, or log a key.
 */
import { createCipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import type { OtpParams } from '../../shared/otp';
import { SEAL_INFO, SEAL_NONCE_BYTES, sealedCodeAad, serverCodeKeySchema, X25519_SPKI_BYTES } from '../../shared/sync/server-codes';

/** The server's published code key (SPKI DER, base64url), checked to be X25519. */
export function serverCodePublicKey(text: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(text, 'base64url'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType === 'x25519') return key;
  } catch {
    // fall through: one message for every bad key
  }
  throw new CrewvaultError('SERVER_UNREACHABLE', 'The server\'s code key is not an X25519 key');
}

/** SHA-256 of the SPKI DER, in groups of four hex digits (the server prints the same). */
export function serverCodeKeyFingerprint(publicKey: KeyObject): string {
  const hex = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

export interface CodeSealBinding {
  readonly vault: string;
  readonly entry: string;
  readonly group: string;
  readonly keyVersion: number;
}

/** An ephemeral X25519 key, HKDF-SHA256 and AES-256-GCM over the TOTP key's parameters. */
export function sealCodeKeyForServer(serverKey: KeyObject, binding: CodeSealBinding, params: OtpParams): string {
  if (params.kind === 'hotp') throw new CrewvaultError('INVALID_INPUT', 'The server computes time-based codes only: an HOTP key stays with the people who hold it.');
  const plain = serverCodeKeySchema.parse({ kind: params.kind, secret: params.secret, algorithm: params.algorithm, digits: params.digits, period: params.period });
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralDer = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  if (ephemeralDer.length !== X25519_SPKI_BYTES) throw new CrewvaultError('INTERNAL', 'an X25519 key of an unexpected size');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: serverKey });
  const salt = Buffer.concat([ephemeralDer, serverKey.export({ type: 'spki', format: 'der' })]);
  const key = Buffer.from(hkdfSync('sha256', shared, salt, SEAL_INFO, 32));
  const nonce = randomBytes(SEAL_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(sealedCodeAad(binding.vault, binding.entry, binding.group, binding.keyVersion), 'utf8'));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  return Buffer.concat([ephemeralDer, nonce, sealed, cipher.getAuthTag()]).toString('base64url');
}
