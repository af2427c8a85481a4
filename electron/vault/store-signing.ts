/**
 * Shared (schema 11): users' signing public keys and what vouches for each, and a user's own
 * wrapped private signing key. Local: this desktop's device id (made in store-device.ts). Rows as stored.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';
import { forgetThisDevice, thisDevice } from './store-device';

export interface SigningKeyRow {
  readonly id: number;
  readonly uid: Buffer;
  readonly user_id: number;
  readonly public_key: Buffer;
  readonly created_at: number;
  readonly certified_by: number | null;
  readonly certificate: Buffer | null;
  /** Schema 14: this key's signature over its user's X25519 public key (signing.ts bindingBytes). */
  readonly binding: Buffer | null;
}

export function listSigningKeys(db: ReadDb): SigningKeyRow[] {
  return db.prepare<[], SigningKeyRow>('SELECT id, uid, user_id, public_key, created_at, certified_by, certificate, binding FROM signing_keys ORDER BY id').all();
}

export function getSigningKey(db: ReadDb, id: number): SigningKeyRow | undefined {
  return db.prepare<[number], SigningKeyRow>('SELECT id, uid, user_id, public_key, created_at, certified_by, certificate, binding FROM signing_keys WHERE id = ?').get(id);
}

export function insertSigningKey(db: WriteDb, row: Omit<SigningKeyRow, 'id'>): number {
  return Number(db.prepare('INSERT INTO signing_keys (uid, user_id, public_key, created_at, certified_by, certificate, binding) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(row.uid, row.user_id, row.public_key, row.created_at, row.certified_by, row.certificate, row.binding).lastInsertRowid);
}

/** A key made before schema 14 vouches for its user's public key at their next sign-in. */
export function setSigningKeyBinding(db: WriteDb, keyId: number, binding: Buffer): void {
  db.prepare('UPDATE signing_keys SET binding = ? WHERE id = ?').run(binding, keyId);
}

/** The user's current signing key and its private half wrapped for them (null: none yet, or a reset took it). */
export function getUserSigning(db: ReadDb, userId: number): { readonly signing_key_id: number | null; readonly wrapped_signing_key: Buffer | null } | undefined {
  return db.prepare<[number], { signing_key_id: number | null; wrapped_signing_key: Buffer | null }>('SELECT signing_key_id, wrapped_signing_key FROM users WHERE id = ?').get(userId);
}

export function setUserSigning(db: WriteDb, userId: number, keyId: number | null, wrapped: Buffer | null): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET signing_key_id = ?, wrapped_signing_key = ? WHERE id = ?').run(keyId, wrapped, userId);
}

/** The user's own sealed record of the signing keys they have seen (schema 13). */
export function getKeyPins(db: ReadDb, userId: number): Buffer | null {
  return db.prepare<[number], { sealed_key_pins: Buffer | null }>('SELECT sealed_key_pins FROM users WHERE id = ?').get(userId)?.sealed_key_pins ?? null;
}

export function setKeyPins(db: WriteDb, userId: number, sealed: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET sealed_key_pins = ? WHERE id = ?').run(sealed, userId);
}

/** This desktop's device id as it is (none yet: no signed event was written here). Derived ids: store-device.ts. */
export function thisDeviceId(db: ReadDb): Buffer | undefined {
  return thisDevice(db);
}

/** A new device id (a vault restored or copied onto another desktop is another device). */
export function renewDeviceId(db: WriteDb): void {
  forgetThisDevice(db);
}
