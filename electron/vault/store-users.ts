/** Users and the wrapped directory key: rows as stored. Functions take the db first. */
import type { ReadDb, WriteDb } from './db';

export interface UserRow {
  readonly id: number;
  readonly name: string;
  readonly role: string;
  readonly kdf: string;
  readonly public_key: Buffer;
  readonly sealed_private_key: Buffer;
  readonly created_at: number;
  readonly disabled_at: number | null;
  /** Schema 3: 1 while the user still has a one-time password from an admin. */
  readonly must_change_password: number;
  /** Schema 4: wrong passwords in a row, and when the next attempt may be made. */
  readonly failed_passwords: number;
  readonly next_attempt_at: number | null;
  /** Schema 4: when the user's authenticator was confirmed (null: no MFA). */
  readonly mfa_enabled_at: number | null;
  /** Schema 5: the last correct password, and wrong second factors in a row. */
  readonly last_sign_in_at: number | null;
  readonly failed_codes: number;
}

export function findUserByName(db: ReadDb, name: string): UserRow | undefined {
  return db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?').get(name);
}

export function getUser(db: ReadDb, id: number): UserRow | undefined {
  return db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?').get(id);
}

export function listUsers(db: ReadDb): UserRow[] {
  return db.prepare<[], UserRow>('SELECT * FROM users ORDER BY id').all();
}

export function insertUser(db: WriteDb, row: Pick<UserRow, 'name' | 'role' | 'kdf' | 'public_key' | 'created_at'>): number {
  const result = db
    .prepare('INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(row.name, row.role, row.kdf, row.public_key, Buffer.alloc(0), row.created_at);
  return Number(result.lastInsertRowid);
}

export function setSealedPrivateKey(db: WriteDb, userId: number, sealed: Buffer): void {
  db.prepare('UPDATE users SET sealed_private_key = ? WHERE id = ?').run(sealed, userId);
}

/** Whether anyone's directory key is wrapped as DIRECTORY_WRAP_ANCHORED or later (keys.ts). */
export function anyDirectoryWrapAtLeast(db: ReadDb, version: number): boolean {
  return db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM directory_keys WHERE key_version >= ?').get(version)?.n !== 0;
}

export function getWrappedDirectoryKey(db: ReadDb, userId: number): { key_version: number; wrapped_key: Buffer } | undefined {
  return db.prepare<[number], { key_version: number; wrapped_key: Buffer }>('SELECT key_version, wrapped_key FROM directory_keys WHERE user_id = ?').get(userId);
}

export function putWrappedDirectoryKey(db: WriteDb, userId: number, keyVersion: number, wrapped: Buffer): void {
  db.prepare('INSERT OR REPLACE INTO directory_keys (user_id, key_version, wrapped_key) VALUES (?, ?, ?)').run(userId, keyVersion, wrapped);
}

export function setUserRole(db: WriteDb, userId: number, role: string): void {
  db.prepare('UPDATE users SET role = ? WHERE id = ?').run(role, userId);
}

export function setUserDisabled(db: WriteDb, userId: number, at: number | null): void {
  db.prepare('UPDATE users SET disabled_at = ? WHERE id = ?').run(at, userId);
}

/** A new key pair and KDF for a user (an owner's password reset). */
export function replaceUserKeys(db: WriteDb, userId: number, kdf: string, publicKey: Buffer): void {
  db.prepare('UPDATE users SET kdf = ?, public_key = ? WHERE id = ?').run(kdf, publicKey, userId);
}

export function deleteDirectoryKey(db: WriteDb, userId: number): void {
  db.prepare('DELETE FROM directory_keys WHERE user_id = ?').run(userId);
}

export function setMustChangePassword(db: WriteDb, userId: number, must: boolean): void {
  db.prepare('UPDATE users SET must_change_password = ? WHERE id = ?').run(must ? 1 : 0, userId);
}

/** A user's new password: the same key pair, sealed under a key from new KDF settings. */
export function setUserPasswordSeal(db: WriteDb, userId: number, kdf: string, sealedPrivateKey: Buffer): void {
  db.prepare('UPDATE users SET kdf = ?, sealed_private_key = ?, must_change_password = 0 WHERE id = ?').run(kdf, sealedPrivateKey, userId);
}

/** Wrong passwords back off exponentially after three free tries, up to 15 minutes. */
export const FREE_PASSWORD_TRIES = 3;
export const MAX_BACKOFF_MS = 15 * 60_000;

export function recordFailedPassword(db: WriteDb, row: UserRow, now: number): void {
  const failed = row.failed_passwords + 1;
  const wait = failed < FREE_PASSWORD_TRIES ? null : now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failed - FREE_PASSWORD_TRIES));
  db.prepare('UPDATE users SET failed_passwords = ?, next_attempt_at = ? WHERE id = ?').run(failed, wait, row.id);
}

/** Wrong second factors allowed in a row before each further one makes the next attempt wait. */
export const FREE_CODE_TRIES = 5;

/** A wrong code, recovery code or emergency code: from the fifth in a row, the next attempt
 * (password or code) waits 1 s, 2 s, 4 s … up to 15 minutes. Only a right second factor resets it. */
export function recordFailedCode(db: WriteDb, row: Pick<UserRow, 'id' | 'failed_codes' | 'next_attempt_at'>, now: number): void {
  const failed = row.failed_codes + 1;
  const wait = failed < FREE_CODE_TRIES ? row.next_attempt_at : now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failed - FREE_CODE_TRIES));
  db.prepare('UPDATE users SET failed_codes = ?, next_attempt_at = ? WHERE id = ?').run(failed, wait, row.id);
}

export function clearFailedCodes(db: WriteDb, userId: number): void {
  db.prepare('UPDATE users SET failed_codes = 0, next_attempt_at = NULL WHERE id = ?').run(userId);
}

export function clearFailedPasswords(db: WriteDb, userId: number): void {
  db.prepare('UPDATE users SET failed_passwords = 0, next_attempt_at = NULL WHERE id = ?').run(userId);
}
