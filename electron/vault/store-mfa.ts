/**
 * Shared: sign-in MFA as stored — a user's sealed TOTP key, a started setup's sealed key and
 * the last time step accepted (columns of users, schemas 4 and 5), their recovery codes as
 * HMACs (and, schema 17, sealed until they are seen), the emergency code an admin issued them
 * as a SHA-256, and the vault's MFA policy (a setting). Rows as stored; functions take the db
 * first. The rules and the crypto are mfa.ts's.
 * Never handed a code or a key in clear: only sealed bytes and hashes reach these rows.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

/** The MFA columns of a users row (UserRow has mfa_enabled_at). */
export interface MfaColumns {
  readonly mfa_sealed_secret: Buffer | null;
  readonly mfa_last_step: number | null;
  /** Schema 5: a started setup's key, sealed, and when it was started. */
  readonly mfa_pending_secret: Buffer | null;
  readonly mfa_pending_at: number | null;
}

// ---- The policy ------------------------------------------------------------------------------

/** The policy as stored (JSON; mfa.ts readMfaPolicy parses it), if one was ever set. */
export function getMfaPolicySetting(db: ReadDb): string | undefined {
  return db.prepare<[], { value: string }>("SELECT value FROM settings WHERE key = 'mfa_policy'").get()?.value;
}

export function setMfaPolicySetting(db: WriteDb, json: string): void {
  db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('mfa_policy', ?)").run(json);
}

// ---- A user's key and setup ------------------------------------------------------------------

/** A started (or restarted) setup: its key, sealed, waits here for its first code. */
export function setPendingSetup(db: WriteDb, userId: number, sealedPending: Buffer, at: number): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET mfa_pending_secret = ?, mfa_pending_at = ? WHERE id = ?').run(sealedPending, at, userId);
}

/** A confirmed setup: its key becomes the user's, with the step its code used; the setup is gone. */
export function enableMfa(db: WriteDb, userId: number, sealedSecret: Buffer, at: number, step: number): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET mfa_sealed_secret = ?, mfa_enabled_at = ?, mfa_last_step = ?, mfa_pending_secret = NULL, mfa_pending_at = NULL WHERE id = ?')
    .run(sealedSecret, at, step, userId);
}

/** The last time step accepted: no code at or before it is accepted again (RFC 6238 §5.2). */
export function setLastStep(db: WriteDb, userId: number, step: number): void {
  db.prepare('UPDATE users SET mfa_last_step = ? WHERE id = ?').run(step, userId);
}

/** The user's key, setup and last step, all gone (MFA off or reset). */
export function clearMfaColumns(db: WriteDb, userId: number): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET mfa_sealed_secret = NULL, mfa_enabled_at = NULL, mfa_last_step = NULL, mfa_pending_secret = NULL, mfa_pending_at = NULL WHERE id = ?').run(userId);
}

// ---- Recovery codes --------------------------------------------------------------------------

export function countUnusedRecoveryCodes(db: ReadDb, userId: number): number {
  return db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL').get(userId)?.n ?? 0;
}

export function unusedRecoveryCodeHashes(db: ReadDb, userId: number): Buffer[] {
  return db.prepare<[number], { code_hash: Buffer }>('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL').all(userId).map((r) => r.code_hash);
}

/** Marks one code used; true only if this call did (it was unused when the write ran). */
export function spendRecoveryCode(db: WriteDb, userId: number, codeHash: Buffer, at: number): boolean {
  return db.prepare('UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL').run(at, userId, codeHash).changes === 1;
}

/** A user's recovery codes are these, and only these, from now on. */
export function replaceRecoveryCodeHashes(db: WriteDb, userId: number, codeHashes: readonly Buffer[]): void {
  deleteRecoveryCodes(db, userId);
  const insert = db.prepare('INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (?, ?)');
  for (const codeHash of codeHashes) insert.run(userId, codeHash);
}

export function deleteRecoveryCodes(db: WriteDb, userId: number): void {
  db.prepare('DELETE FROM mfa_recovery_codes WHERE user_id = ?').run(userId);
  deleteUnseenRecoveryCodes(db, userId);
}

/** Schema 17: a user's recovery codes, sealed, until they say they saw them. */
export function getUnseenRecoveryCodes(db: ReadDb, userId: number): Buffer | undefined {
  return db.prepare<[number], { sealed_codes: Buffer }>('SELECT sealed_codes FROM mfa_unseen_recovery_codes WHERE user_id = ?').get(userId)?.sealed_codes;
}

export function putUnseenRecoveryCodes(db: WriteDb, userId: number, sealedCodes: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('INSERT OR REPLACE INTO mfa_unseen_recovery_codes (user_id, sealed_codes) VALUES (?, ?)').run(userId, sealedCodes);
}

/** True when there was a copy to delete. */
export function deleteUnseenRecoveryCodes(db: WriteDb, userId: number): boolean {
  noteSealedReplaced(db);
  return db.prepare('DELETE FROM mfa_unseen_recovery_codes WHERE user_id = ?').run(userId).changes > 0;
}

// ---- Emergency codes -------------------------------------------------------------------------

export interface EmergencyCodeRow {
  readonly code_hash: Buffer;
  readonly expires_at: number;
}

/** A user's emergency code (one at most: a new one replaces it). */
export function getEmergencyCode(db: ReadDb, userId: number): EmergencyCodeRow | undefined {
  return db.prepare<[number], EmergencyCodeRow>('SELECT code_hash, expires_at FROM emergency_codes WHERE user_id = ?').get(userId);
}

export function putEmergencyCode(db: WriteDb, userId: number, codeHash: Buffer, expiresAt: number, issuedBy: number): void {
  db.prepare('INSERT OR REPLACE INTO emergency_codes (user_id, code_hash, expires_at, issued_by) VALUES (?, ?, ?, ?)').run(userId, codeHash, expiresAt, issuedBy);
}

/** Uses the emergency code `codeHash` up; true only if this call did (it was still there). */
export function spendEmergencyCode(db: WriteDb, userId: number, codeHash: Buffer): boolean {
  return db.prepare('DELETE FROM emergency_codes WHERE user_id = ? AND code_hash = ?').run(userId, codeHash).changes === 1;
}

export function deleteEmergencyCodes(db: WriteDb, userId: number): void {
  db.prepare('DELETE FROM emergency_codes WHERE user_id = ?').run(userId);
}
