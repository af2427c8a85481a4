/** Shared: users' MFA keys wrapped for their holders (schema 9) — owners, and the user after a reset. Rows as stored. */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

export function getMfaKeyWrap(db: ReadDb, userId: number, holderId: number): Buffer | undefined {
  return db.prepare<[number, number], { wrapped_key: Buffer }>('SELECT wrapped_key FROM mfa_key_wraps WHERE user_id = ? AND holder_id = ?').get(userId, holderId)?.wrapped_key;
}

export function putMfaKeyWrap(db: WriteDb, userId: number, holderId: number, wrapped: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('INSERT OR REPLACE INTO mfa_key_wraps (user_id, holder_id, wrapped_key) VALUES (?, ?, ?)').run(userId, holderId, wrapped);
}

/** The users whose MFA key `holderId` holds (not their own). */
export function mfaKeysHeldBy(db: ReadDb, holderId: number): Array<{ user_id: number; wrapped_key: Buffer }> {
  return db.prepare<[number], { user_id: number; wrapped_key: Buffer }>('SELECT user_id, wrapped_key FROM mfa_key_wraps WHERE holder_id = ? AND user_id != holder_id').all(holderId);
}

/** The holders of `userId`'s MFA key other than the user. */
export function mfaKeyHolders(db: ReadDb, userId: number): number[] {
  return db.prepare<[number], { holder_id: number }>('SELECT holder_id FROM mfa_key_wraps WHERE user_id = ? AND holder_id != user_id').all(userId).map((r) => r.holder_id);
}

/** Someone who is no longer an owner (or no longer active) holds nobody's MFA key. */
export function dropMfaKeysHeldBy(db: WriteDb, holderId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM mfa_key_wraps WHERE holder_id = ? AND user_id != holder_id').run(holderId);
}

/** A user's MFA is gone (reset, turned off): so are the wraps of its key. */
export function dropMfaKeyWraps(db: WriteDb, userId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM mfa_key_wraps WHERE user_id = ?').run(userId);
}

/** A user's TOTP key and pending setup key, sealed again (schema 10's re-seal by global id). */
export function setMfaSeals(db: WriteDb, userId: number, secret: Buffer | null, pending: Buffer | null): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET mfa_sealed_secret = ?, mfa_pending_secret = ? WHERE id = ?').run(secret, pending, userId);
}

/** Every MFA key `holderId` holds, their own included. */
export function mfaKeyWrapsHeldBy(db: ReadDb, holderId: number): Array<{ user_id: number; wrapped_key: Buffer }> {
  return db.prepare<[number], { user_id: number; wrapped_key: Buffer }>('SELECT user_id, wrapped_key FROM mfa_key_wraps WHERE holder_id = ? ORDER BY user_id').all(holderId);
}
