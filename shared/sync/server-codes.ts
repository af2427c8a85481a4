/**
 * [Note: server-computed codes] The format both ends agree on for a group set to "server
 * computes codes" (issue #15, docs/SYNC.md): a desktop seals each TOTP key of such a group to
 * the server's code key (an X25519 public key the server publishes) as an authenticated sealed
 * box, and the server opens it only to compute the current code for a member who may see codes.
 *
 *   sealed = base64url( ephemeral X25519 public key (SPKI DER, 44 bytes) | nonce (12) | AES-256-GCM ciphertext | tag (16) )
 *   key    = HKDF-SHA256(ikm = X25519(ephemeral, server), salt = ephemeral public | server public, info = SEAL_INFO, 32 bytes)
 *   aad    = sealedCodeAad(vault, entry, group, keyVersion)
 *
 * The associated data binds the vault, the entry's global id, the group and its key version:
 * a sealed key moved to another entry (or another vault, group or key version) does not open.
 * The crypto itself is node:crypto's at each end (electron/team/server-codes.ts seals,
 * server/codes/sealed-box.ts opens); this file is pure TypeScript, so it states the bytes only.
 *
 * Server-computed codes are TOTP and Steam only: an HOTP code moves a counter every desktop
 * keeps in the sealed entry, which the server cannot write, so HOTP entries of such a group stay
 * with the people who hold its key (their desktops compute them as before).
 * Must never: carry a key in plain, or a field the server would need to trust without the seal.
 */
import { z } from 'zod';
import { OTP_ALGORITHMS, MAX_DIGITS, MAX_PERIOD, MIN_DIGITS, MIN_PERIOD } from '../otp/codes';
import { keyVersionSchema } from './records';

// Apart so the CLI's group command and the Groups screen show it without the schemas below (server-codes-note.ts).
export { SERVER_CODES_NOTE } from './server-codes-note';

/** HKDF's info, naming this use and its version. */
export const SEAL_INFO = 'crewvault/v1 server code key seal';
/** The SPKI DER of an X25519 public key is 44 bytes (12 of prefix, 32 of key). */
export const X25519_SPKI_BYTES = 44;
export const SEAL_NONCE_BYTES = 12;
export const SEAL_TAG_BYTES = 16;

/** Where a sealed code key belongs: what its associated data binds (both ends use this one shape). */
export interface SealBinding {
  readonly vault: string;
  readonly entry: string;
  readonly group: string;
  readonly keyVersion: number;
}

/**
 * The code key's fingerprint, as `crewvault server` prints it and a desktop compares it: the first
 * 16 bytes of SHA-256 over the public key's SPKI DER, in groups of four hex digits. shared/ uses no
 * Node built-in (it is in the renderer's bundle too), so the caller hands its SHA-256 in
 * (node:crypto's at both ends); the rule of what is hashed and how it is written lives here only.
 */
export function codeKeyFingerprint(spkiDer: Uint8Array, sha256: (bytes: Uint8Array) => Uint8Array): string {
  const hex = [...sha256(spkiDer).subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

/** What the associated data of a sealed code key says: the entry it belongs to, and where. */
export function sealedCodeAad(vault: string, entry: string, group: string, keyVersion: number): string {
  return JSON.stringify(['crewvault/v1 server code key', vault, entry, group, keyVersion]);
}

/**
 * What a desktop names a TOTP key it holds by when it asks the server whether it holds that very key sealed (POST
 * /v1/codes/keys/held): SHA-256 over the seal's binding and plaintext, as hex. The desktop sends it over its session to
 * the server, which can open the seal anyway; the server keeps only a keyed digest of it (server/codes/held.ts), so its
 * database alone tells nothing of a short key. The one rule of what is hashed lives here (SHA-256 of UTF-8 text, as hex,
 * handed in, as vaultObjectId's).
 */
export function serverCodeKeyDigest(binding: SealBinding, key: ServerCodeKey, sha256Hex: (text: string) => string): string {
  return sha256Hex(JSON.stringify(['crewvault/v1 server code key digest', binding.vault, binding.entry, binding.group, binding.keyVersion, key.kind, key.secret, key.algorithm, key.digits, key.period]));
}

/** The sealed plaintext: what the server needs to compute a time-based code, nothing more (no issuer, no name). */
export const serverCodeKeySchema = z.strictObject({
  kind: z.enum(['totp', 'steam']),
  /** Normalised base32 (shared/otp normaliseSecret). */
  secret: z.string().min(1).max(1024).regex(/^[A-Z2-7]+$/, 'not a normalised base32 key'),
  algorithm: z.enum(OTP_ALGORITHMS),
  digits: z.number().int().min(5).max(MAX_DIGITS),
  period: z.number().int().min(MIN_PERIOD).max(MAX_PERIOD),
}).refine((k) => k.kind === 'steam' || k.digits >= MIN_DIGITS, 'too few digits');
export type ServerCodeKey = z.infer<typeof serverCodeKeySchema>;

/** A global id as text (electron/vault/ids.ts uidText). */
const uid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not a global id');
/** Base64url; a sealed key of the longest secret stays well under this. */
const sealedBytes = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/, 'not base64url');

/**
 * One entry's sealed code key as a desktop hands it to the server, beside the entry's own
 * record: `sealed` null is a tombstone (the group's setting turned off, the entry's OTP key
 * removed or made HOTP, the entry moved or deleted) and the server deletes what it held.
 */
export const serverCodeRecordSchema = z.strictObject({
  kind: z.literal('server_code'),
  entry: uid,
  group: uid,
  keyVersion: keyVersionSchema,
  sealed: sealedBytes.nullable(),
});
export type ServerCodeRecord = z.infer<typeof serverCodeRecordSchema>;

/** A key a desktop holds, named by its digest (serverCodeKeyDigest): does the server hold it sealed, to its current code key? */
export const serverCodeHeldAskSchema = z.strictObject({
  entry: uid,
  group: uid,
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256 digest'),
});
export type ServerCodeHeldAsk = z.infer<typeof serverCodeHeldAskSchema>;

/** The most sealed code keys one call carries. */
export const MAX_SERVER_CODE_RECORDS = 500;
