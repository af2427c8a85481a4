/**
 * Local (this desktop's, never shared): the computers trusted to skip the code step, per user,
 * until each expires (schema 4). Rows as stored; functions take the db first.
 * Only a hash of a device's token is ever stored here: the token itself lives in the OS keychain.
 */
import type { ReadDb, WriteDb } from './db';

export interface TrustedDeviceRow {
  readonly id: number;
  readonly label: string;
  readonly created_at: number;
  readonly last_used_at: number;
  readonly expires_at: number;
}

/** Returns the new device's id. */
export function insertTrustedDevice(db: WriteDb, userId: number, tokenHash: Buffer, label: string, at: number, expiresAt: number): number {
  const inserted = db.prepare('INSERT INTO trusted_devices (user_id, token_hash, label, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(userId, tokenHash, label, at, at, expiresAt);
  return Number(inserted.lastInsertRowid);
}

/** The device of `userId` whose token hashes to `tokenHash`, expired or not. */
export function findTrustedDevice(db: ReadDb, userId: number, tokenHash: Buffer): Pick<TrustedDeviceRow, 'id' | 'created_at' | 'expires_at'> | undefined {
  return db.prepare<[number, Buffer], Pick<TrustedDeviceRow, 'id' | 'created_at' | 'expires_at'>>('SELECT id, created_at, expires_at FROM trusted_devices WHERE user_id = ? AND token_hash = ?').get(userId, tokenHash);
}

/** Whose trusted device `deviceId` is, if it exists. */
export function trustedDeviceUser(db: ReadDb, deviceId: number): number | undefined {
  return db.prepare<[number], { user_id: number }>('SELECT user_id FROM trusted_devices WHERE id = ?').get(deviceId)?.user_id;
}

/** A user's devices not expired at `now`, the one used last first. */
export function listTrustedDevices(db: ReadDb, userId: number, now: number): TrustedDeviceRow[] {
  return db.prepare<[number, number], TrustedDeviceRow>(
    'SELECT id, label, created_at, last_used_at, expires_at FROM trusted_devices WHERE user_id = ? AND expires_at > ? ORDER BY last_used_at DESC',
  ).all(userId, now);
}

export function setTrustedDeviceUsed(db: WriteDb, deviceId: number, at: number): void {
  db.prepare('UPDATE trusted_devices SET last_used_at = ? WHERE id = ?').run(at, deviceId);
}

export function deleteTrustedDevice(db: WriteDb, deviceId: number): void {
  db.prepare('DELETE FROM trusted_devices WHERE id = ?').run(deviceId);
}

/** A user's MFA is gone (reset, turned off): so is every computer trusted for it. */
export function deleteTrustedDevicesOf(db: WriteDb, userId: number): void {
  db.prepare('DELETE FROM trusted_devices WHERE user_id = ?').run(userId);
}

/** How many computers, not yet expired, each user has trusted here. */
export function countTrustedDevicesByUser(db: ReadDb, now: number): Map<number, number> {
  const rows = db.prepare<[number], { user_id: number; n: number }>('SELECT user_id, count(*) AS n FROM trusted_devices WHERE expires_at > ? GROUP BY user_id').all(now);
  return new Map(rows.map((d) => [d.user_id, d.n]));
}
