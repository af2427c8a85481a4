/**
 * The vault's cryptography, built only from node:crypto (AES-256-GCM, X25519, HKDF-SHA256,
 * HMAC-SHA256, randomBytes) and the argon2 package (Argon2id). No hand-written primitive.
 *
 * - seal/open: AES-256-GCM with a random 96-bit nonce; the associated data names the table,
 *   row, field and key version, so a blob copied onto another row or field does not open.
 * - wrapKey/unwrapKey: a 256-bit key sealed for one X25519 public key (ephemeral ECDH →
 *   HKDF-SHA256 → AES-256-GCM), as DESIGN.md "Keys" says.
 * Never log a key, a plaintext or a password; errors here say only that something failed.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import argon2 from 'argon2';
import { randomNonSecret } from './random-pool';
import { CrewvaultError } from '../../shared/errors';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/**
 * The seal format's first byte, which says how its associated data names the row:
 * 1 by the SQLite row id (schema 9 and before: ids only this file knows), 2 by the object's
 * global id (schema 10: the same on every desktop and on a team server). A new seal is
 * always 2; a 1 still opens (its row id is bound in, so it cannot move to another row) until
 * an owner's sign-in re-seals the vault (id-seals.ts). Changing the byte changes the
 * associated data, so a 2 cannot be read as a 1.
 */
const SEAL_BY_ROW_ID = 1;
const SEAL_BY_GLOBAL_ID = 2;
export const SEAL_VERSION = SEAL_BY_GLOBAL_ID;

export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Where a sealed value lives; bound into its associated data. `row` is the SQLite row id (or
 * ids) that format 1 names; `uid` the global id (or ids) that format 2 names.
 */
export interface SealContext {
  readonly table: string;
  /** Undefined for a row not yet inserted: nothing sealed by row id can be opened for it. */
  readonly row: number | string | undefined;
  readonly uid: string;
  readonly field: string;
  readonly keyVersion: number;
}

function associatedData(context: SealContext, format: number): Buffer {
  if (format === SEAL_BY_GLOBAL_ID) return Buffer.from(`crewvault/v2|${context.table}|${context.uid}|${context.field}|${context.keyVersion}`, 'utf8');
  if (context.row === undefined) throw tampered();
  return Buffer.from(`crewvault/v1|${context.table}|${context.row}|${context.field}|${context.keyVersion}`, 'utf8');
}

/** Whether a seal names its row by the old row id (format 1), so an owner's sign-in re-seals it. */
export function sealedByRowId(sealed: Buffer): boolean {
  return sealed[0] === SEAL_BY_ROW_ID;
}

export function tampered(): CrewvaultError {
  return new CrewvaultError('VAULT_TAMPERED', 'A sealed value in the vault failed its integrity check: the file was altered or damaged.');
}

/** version(1) ‖ nonce(12) ‖ ciphertext ‖ tag(16) */
export function seal(key: Buffer, plaintext: Buffer, context: SealContext): Buffer {
  const nonce = randomNonSecret(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedData(context, SEAL_VERSION));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(SEAL_VERSION), nonce, body, cipher.getAuthTag()]);
}

/**
 * A key for many `open` calls in a row: node:crypto checks a raw Buffer key by trying it as a
 * KeyObject first (a thrown and caught error, ~10 µs), which a KeyObject skips. Node frees its
 * copy of the key when it is garbage-collected: make one for a batch, never keep it.
 */
export function batchKey(key: Buffer): KeyObject {
  return createSecretKey(key);
}

export function open(key: Buffer | KeyObject, sealed: Buffer, context: SealContext): Buffer {
  const format = sealed[0];
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || (format !== SEAL_BY_ROW_ID && format !== SEAL_BY_GLOBAL_ID)) throw tampered();
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(associatedData(context, format));
  decipher.setAuthTag(tag);
  const plain = decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES));
  let rest: Buffer;
  try {
    rest = decipher.final();
  } catch {
    // The tag did not hold: what update gave is unauthenticated, never handed on.
    plain.fill(0);
    throw tampered();
  }
  // GCM's final() gives nothing more (it only checks the tag): no copy of every plaintext into a new buffer, as a first sync opens 200,000.
  return rest.length === 0 ? plain : Buffer.concat([plain, rest]);
}

export function sealJson(key: Buffer, value: unknown, context: SealContext): Buffer {
  return seal(key, Buffer.from(JSON.stringify(value), 'utf8'), context);
}

export function openJson(key: Buffer | KeyObject, sealed: Buffer, context: SealContext): unknown {
  const plain = open(key, sealed, context);
  try {
    return JSON.parse(plain.toString('utf8')) as unknown;
  } finally {
    plain.fill(0);
  }
}

// ---- Argon2id: password → key-encryption key -------------------------------------------

export interface KdfParams {
  readonly algorithm: 'argon2id';
  /** KiB */
  readonly memory: number;
  readonly iterations: number;
  readonly parallelism: number;
  /** base64 */
  readonly salt: string;
}

/** DESIGN.md's default: m = 64 MiB, t = 3, p = 1. */
export const DEFAULT_KDF = { memory: 64 * 1024, iterations: 3, parallelism: 1 } as const;
/** Below this the vault refuses: cheaper settings exist only for tests, never by accident. */
export const MIN_KDF = { memory: 1024, iterations: 1, parallelism: 1 } as const;

export function newKdfParams(options: Partial<Pick<KdfParams, 'memory' | 'iterations' | 'parallelism'>> = {}): KdfParams {
  const params = {
    algorithm: 'argon2id' as const,
    memory: options.memory ?? DEFAULT_KDF.memory,
    iterations: options.iterations ?? DEFAULT_KDF.iterations,
    parallelism: options.parallelism ?? DEFAULT_KDF.parallelism,
    salt: randomBytes(16).toString('base64'),
  };
  if (params.memory < MIN_KDF.memory || params.iterations < MIN_KDF.iterations || params.parallelism < MIN_KDF.parallelism) {
    throw new CrewvaultError('INVALID_INPUT', `Argon2 settings below the minimum (memory ${MIN_KDF.memory} KiB, 1 iteration, parallelism 1).`);
  }
  return params;
}

export async function deriveKek(password: string, params: KdfParams): Promise<Buffer> {
  return argon2.hash(password, {
    type: argon2.argon2id,
    raw: true,
    hashLength: KEY_BYTES,
    memoryCost: params.memory,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    salt: Buffer.from(params.salt, 'base64'),
  });
}

// ---- X25519 key pairs and key wrapping ----------------------------------------------------

export interface KeyPair {
  /** Raw 32-byte public key. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('x25519 key without x');
  return Buffer.from(jwk.x, 'base64url');
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The private key's raw 32 bytes, for sealing under the user's key-encryption key. */
export function exportPrivateKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('x25519 key without d');
  return Buffer.from(jwk.d, 'base64url');
}

/** PKCS #8 for a raw X25519 private key (RFC 8410): this prefix, then the 32 bytes. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key a raw X25519 private key has, worked out from it (not read from anywhere). */
export function publicKeyOf(raw: Buffer): Buffer {
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return rawPublicKey(createPublicKey(key));
}

export function importPrivateKey(raw: Buffer, publicKey: Buffer): KeyObject {
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: raw.toString('base64url'), x: publicKey.toString('base64url') },
    format: 'jwk',
  });
}

const WRAP_INFO = Buffer.from('crewvault/v1 key wrap', 'utf8');
const EPHEMERAL_BYTES = 32;

/** sealedByRowId for a wrapped key (the seal follows the ephemeral public key). */
export function wrappedByRowId(wrapped: Buffer): boolean {
  return wrapped[EPHEMERAL_BYTES] === SEAL_BY_ROW_ID;
}

/** Where a seal's format byte sits in a column: 1 for a seal, after the ephemeral key for a wrap (SQL substr). */
export const SEAL_FORMAT_AT = 1;
export const WRAP_FORMAT_AT = EPHEMERAL_BYTES + 1;

/** ephemeralPublic(32) ‖ seal(HKDF(ECDH(ephemeral, recipient)), key) */
export function wrapKey(recipientPublicKey: Buffer, key: Buffer, context: SealContext): Buffer {
  const ephemeral = generateKeyPair();
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyObject(recipientPublicKey) });
  const wrappingKey = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral.publicKey, recipientPublicKey]), WRAP_INFO, KEY_BYTES));
  shared.fill(0);
  try {
    return Buffer.concat([ephemeral.publicKey, seal(wrappingKey, key, context)]);
  } finally {
    wrappingKey.fill(0);
  }
}

export function unwrapKey(keyPair: KeyPair, wrapped: Buffer, context: SealContext): Buffer {
  if (wrapped.length <= EPHEMERAL_BYTES) throw tampered();
  const ephemeralPublic = wrapped.subarray(0, EPHEMERAL_BYTES);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: keyPair.privateKey, publicKey: publicKeyObject(Buffer.from(ephemeralPublic)) });
  } catch {
    throw tampered();
  }
  const wrappingKey = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPublic, keyPair.publicKey]), WRAP_INFO, KEY_BYTES));
  shared.fill(0);
  try {
    return open(wrappingKey, wrapped.subarray(EPHEMERAL_BYTES), context);
  } finally {
    wrappingKey.fill(0);
  }
}

// ---- Keyed lookup index ---------------------------------------------------------------------

/** A separate key for the HMAC index, so the index never uses the sealing key itself. */
export function indexKey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), Buffer.from(`crewvault/v1 index ${purpose}`, 'utf8'), KEY_BYTES));
}

export function keyedHash(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
