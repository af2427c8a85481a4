/**
 * A person's key material on a team server: made by their client at registration, sealed
 * under a key derived from OPAQUE's export key (which only their password gives), stored by
 * the server as bytes it cannot open, and opened by the client at each sign-in. Today it holds
 * the account's X25519 key pair (what group keys will be wrapped for, when a team vault syncs).
 * HKDF-SHA256 → AES-256-GCM, random 96-bit nonce; base64url of nonce ‖ ciphertext ‖ tag.
 * Must never: send the export key or the opened material anywhere.
 */
import { createCipheriv, createHash, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { CrewvaultError } from '../../shared/errors';

const INFO = 'crewvault account keys v1';

function cipherKey(exportKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(exportKey, 'base64url'), Buffer.alloc(0), INFO, 32));
}

export function sealWithExportKey(exportKey: string, plaintext: Buffer): string {
  const key = cipherKey(exportKey);
  try {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
  } finally {
    key.fill(0);
  }
}

/** The plaintext, or undefined when the export key is not the one it was sealed under (or the bytes were changed). */
export function openWithExportKey(exportKey: string, sealed: string): Buffer | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < 28) return undefined;
  const key = cipherKey(exportKey);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  } catch {
    return undefined;
  } finally {
    key.fill(0);
  }
}

export interface AccountKeys {
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

const stored = z.strictObject({ v: z.literal(1), x25519: z.string(), public: z.string() });

export function newAccountKeys(): AccountKeys {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: publicKey.export({ format: 'der', type: 'spki' }), privateKey };
}

/** The 32 raw bytes of an account's X25519 public key (its SPKI DER ends with them): what a vault user record names. */
export function rawPublicKey(keys: AccountKeys): Buffer {
  return Buffer.from(keys.publicKey.subarray(keys.publicKey.length - 32));
}

/**
 * An account public key's fingerprint, to read aloud when an owner binds the account (#15, team
 * join): SHA-256 of its 32 raw bytes, the first 16 in groups of four hex digits, as the owner's
 * signing key's (owner-anchor.ts).
 */
export function publicKeyFingerprint(raw: Buffer): string {
  const hex = createHash('sha256').update(raw).digest('hex').slice(0, 32);
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

export function sealAccountKeys(exportKey: string, keys: AccountKeys): string {
  const der = keys.privateKey.export({ format: 'der', type: 'pkcs8' });
  const text = Buffer.from(JSON.stringify({ v: 1, x25519: der.toString('base64'), public: keys.publicKey.toString('base64') }), 'utf8');
  der.fill(0);
  try {
    return sealWithExportKey(exportKey, text);
  } finally {
    text.fill(0);
  }
}

/**
 * Opens what the server returned. A seal that does not open under this sign-in's export key
 * (the server handed back someone else's, or bytes it changed) is refused: the server is
 * another machine and is not trusted with what it stores.
 */
export function openAccountKeys(exportKey: string, sealed: string | null): AccountKeys {
  const refused = new CrewvaultError('VAULT_TAMPERED', 'the key material the server returned does not open with this password: it was changed or is not this account\'s');
  if (sealed === null) throw refused;
  const opened = openWithExportKey(exportKey, sealed);
  if (opened === undefined) throw refused;
  try {
    const parsed = stored.safeParse(JSON.parse(opened.toString('utf8')));
    if (!parsed.success) throw refused;
    const privateKey = createPrivateKey({ key: Buffer.from(parsed.data.x25519, 'base64'), format: 'der', type: 'pkcs8' });
    const publicKey = Buffer.from(parsed.data.public, 'base64');
    if (privateKey.asymmetricKeyType !== 'x25519' || !createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).equals(publicKey)) throw refused;
    return { publicKey, privateKey };
  } catch (error) {
    if (error === refused) throw error;
    throw refused;
  } finally {
    opened.fill(0);
  }
}
