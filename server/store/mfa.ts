/**
 * SQL for the second sign-in step (schema 5): authenticators, the per-account back-off for
 * wrong codes, recovery codes (schema 6), emergency codes (schema 7) and the server's
 * settings (the MFA policy, read through mfa-policy.ts). Only this file reads or writes `mfa_authenticators`,
 * `mfa_throttle`, `mfa_recovery_codes` and `mfa_emergency_codes`. Secrets arrive here sealed
 * (server/keys.ts); nothing here sees a code or a key in the clear.
 */
import { int, text, textOrNull, type Queryable, type Row, type Transaction } from './db';
import { personPolicyOf, policyColumnsSql, policyForUser, POLICY_SETTING_KEYS, type PersonPolicy } from './mfa-policy';

/** What decides a session's second step: has the person an authenticator, the level that applies, since when a second step counts, and the idle time. */
export interface MfaStanding extends PersonPolicy {
  readonly authenticator: boolean;
}

/** The `authenticator` column for the users row `user` (an alias of the caller's query): the one place it is asked. */
export function authenticatorSql(user: string): string {
  return `EXISTS (SELECT 1 FROM mfa_authenticators WHERE user_id = ${user}.id AND enabled_at IS NOT NULL) AS authenticator`;
}

/** mfaStanding from authenticatorSql's and policyColumnsSql's columns. */
export function mfaStandingOf(row: Row): MfaStanding {
  return { authenticator: row.authenticator === true, ...personPolicyOf(row) };
}

/** In one read; an unknown person stands as the defaults say, with no authenticator. */
export async function mfaStanding(db: Queryable, userId: string): Promise<MfaStanding> {
  const [row] = await db.query(`SELECT ${authenticatorSql('u')}, ${policyColumnsSql('u', ['$2', '$3', '$4'])} FROM users u WHERE u.id = $1`, [userId, ...POLICY_SETTING_KEYS]);
  return row === undefined ? { authenticator: false, ...await policyForUser(db, userId) } : mfaStandingOf(row);
}

export interface AuthenticatorRow {
  readonly pendingSecret: string | null;
  readonly pendingAt: number | null;
  readonly sealedSecret: string | null;
  readonly enabled: boolean;
  readonly lastStep: number;
}

function toAuthenticator(row: Row): AuthenticatorRow {
  return {
    pendingSecret: textOrNull(row, 'pending_secret'),
    pendingAt: row.pending_at === null ? null : int(row, 'pending_at'),
    sealedSecret: textOrNull(row, 'sealed_secret'),
    enabled: row.enabled_at !== null,
    lastStep: int(row, 'last_step'),
  };
}

/**
 * The person's authenticator, locked until the transaction ends: a check and the use of what
 * it checked (a step, a code) are decided on the row as it is then, so of two requests with
 * one code exactly one is accepted.
 */
export async function lockAuthenticator(tx: Queryable, userId: string): Promise<AuthenticatorRow | undefined> {
  const [row] = await tx.query('SELECT pending_secret, pending_at, sealed_secret, enabled_at, last_step FROM mfa_authenticators WHERE user_id = $1 FOR UPDATE', [userId]);
  return row === undefined ? undefined : toAuthenticator(row);
}

/** A setup waiting for its first code; refused (false) when an authenticator is already on. */
export async function putPendingSecret(db: Queryable, userId: string, sealed: string, now: number): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO mfa_authenticators (user_id, pending_secret, pending_at) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET pending_secret = $2, pending_at = $3 WHERE mfa_authenticators.enabled_at IS NULL
     RETURNING user_id`,
    [userId, sealed, now],
  );
  return rows.length === 1;
}

export async function enableAuthenticator(tx: Queryable, userId: string, sealed: string, now: number, step: number): Promise<void> {
  await tx.query(
    'UPDATE mfa_authenticators SET sealed_secret = $2, enabled_at = $3, last_step = $4, pending_secret = NULL, pending_at = NULL WHERE user_id = $1',
    [userId, sealed, now, step],
  );
}

export async function setLastStep(tx: Queryable, userId: string, step: number): Promise<void> {
  await tx.query('UPDATE mfa_authenticators SET last_step = $2 WHERE user_id = $1', [userId, step]);
}

/**
 * Holds, until the transaction ends, the second steps of one account and of one address (a
 * transaction-scoped advisory lock each, account first: only second steps take them, so they
 * wait only for each other). Codes sent together for one account are then checked one after
 * another, each seeing the wait and the ended session the one before left (second-step.ts).
 */
export async function holdSecondSteps(tx: Transaction, userId: string, addressKey: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(1, hashtext($1))', [userId]);
  await tx.query('SELECT pg_advisory_xact_lock(2, hashtext($1))', [addressKey]);
}

export async function mfaBlockedUntil(db: Queryable, userId: string): Promise<number> {
  const [row] = await db.query('SELECT blocked_until FROM mfa_throttle WHERE user_id = $1', [userId]);
  return row === undefined ? 0 : int(row, 'blocked_until');
}

/** Counts one wrong second step in a row and returns the count. */
export async function countMfaFailure(db: Queryable, userId: string): Promise<number> {
  const [row] = await db.query(
    `INSERT INTO mfa_throttle (user_id, failures, blocked_until) VALUES ($1, 1, 0)
     ON CONFLICT (user_id) DO UPDATE SET failures = mfa_throttle.failures + 1 RETURNING failures`,
    [userId],
  );
  return row === undefined ? 1 : int(row, 'failures');
}

export async function setMfaBlockedUntil(db: Queryable, userId: string, until: number): Promise<void> {
  await db.query('UPDATE mfa_throttle SET blocked_until = greatest(blocked_until, $2) WHERE user_id = $1', [userId, until]);
}

/** A second step done: the wrong ones before it are forgotten. */
export async function clearMfaFailures(db: Queryable, userId: string): Promise<void> {
  await db.query('DELETE FROM mfa_throttle WHERE user_id = $1', [userId]);
}

/** The ten recovery codes: their hashes (checked) and all of them sealed (shown again); the old ones go. */
export async function replaceRecoveryCodes(tx: Queryable, userId: string, hashes: readonly string[], sealed: string): Promise<void> {
  await tx.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
  for (const hash of hashes) await tx.query('INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)', [userId, hash]);
  await tx.query('UPDATE mfa_authenticators SET sealed_recovery_codes = $2 WHERE user_id = $1', [userId, sealed]);
}

/** Marks an unused code used; false when there is none with that hash (wrong, or used). */
export async function spendRecoveryCode(tx: Queryable, userId: string, hash: string, now: number): Promise<boolean> {
  const rows = await tx.query('UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING user_id', [userId, hash, now]);
  return rows.length === 1;
}

export async function recoveryCodeHashes(db: Queryable, userId: string): Promise<{ hash: string; used: boolean }[]> {
  const rows = await db.query('SELECT code_hash, used_at FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
  return rows.map((row) => ({ hash: text(row, 'code_hash'), used: row.used_at !== null }));
}

export async function sealedRecoveryCodes(db: Queryable, userId: string): Promise<string | null> {
  const [row] = await db.query('SELECT sealed_recovery_codes FROM mfa_authenticators WHERE user_id = $1 AND enabled_at IS NOT NULL', [userId]);
  return row === undefined ? null : textOrNull(row, 'sealed_recovery_codes');
}

/** An emergency code for `userId`, replacing any before it. */
export async function putEmergencyCode(db: Queryable, userId: string, hash: string, issuedBy: string, expiresAt: number): Promise<void> {
  await db.query(
    `INSERT INTO mfa_emergency_codes (user_id, code_hash, issued_by, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE SET code_hash = $2, issued_by = $3, expires_at = $4`,
    [userId, hash, issuedBy, expiresAt],
  );
}

/**
 * Takes the person's emergency code when `hash` is it: gone after this, used or late. Returns
 * whether it was still live, or undefined when it is not this code (or there is none).
 */
export async function takeEmergencyCode(tx: Queryable, userId: string, hash: string, now: number): Promise<{ live: boolean } | undefined> {
  const [row] = await tx.query('DELETE FROM mfa_emergency_codes WHERE user_id = $1 AND code_hash = $2 RETURNING expires_at', [userId, hash]);
  return row === undefined ? undefined : { live: int(row, 'expires_at') > now };
}

/**
 * Takes away the person's second-step material: authenticator (and a setup waiting), recovery
 * codes, an emergency code, wrong-code counts. Returns whether an authenticator was on.
 */
export async function deleteSecondSteps(tx: Queryable, userId: string): Promise<boolean> {
  const [row] = await tx.query('DELETE FROM mfa_authenticators WHERE user_id = $1 RETURNING enabled_at', [userId]);
  await tx.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
  await tx.query('DELETE FROM mfa_emergency_codes WHERE user_id = $1', [userId]);
  await tx.query('DELETE FROM mfa_throttle WHERE user_id = $1', [userId]);
  return row !== undefined && row.enabled_at !== null;
}

/** Everyone's second steps as an administrator sees them: authenticator on, recovery codes left, contacts on file, trusted devices. */
export async function secondStepsOfEveryone(db: Queryable, now: number): Promise<{
  userId: string; username: string; role: string; authenticator: boolean; recoveryCodesLeft: number; email: boolean; phone: boolean; trustedDevices: number;
}[]> {
  const rows = await db.query(
    `SELECT u.id, u.username, u.role,
            EXISTS (SELECT 1 FROM mfa_authenticators a WHERE a.user_id = u.id AND a.enabled_at IS NOT NULL) AS authenticator,
            (SELECT count(*) FROM mfa_recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS recovery_left,
            EXISTS (SELECT 1 FROM user_contacts c WHERE c.user_id = u.id AND c.email IS NOT NULL) AS email,
            EXISTS (SELECT 1 FROM user_contacts c WHERE c.user_id = u.id AND c.phone IS NOT NULL) AS phone,
            (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.trusted_until > $1) AS trusted
     FROM users u ORDER BY u.username_key`,
    [now],
  );
  return rows.map((row) => ({
    userId: text(row, 'id'), username: text(row, 'username'), role: text(row, 'role'),
    authenticator: row.authenticator === true, recoveryCodesLeft: int(row, 'recovery_left'),
    email: row.email === true, phone: row.phone === true, trustedDevices: int(row, 'trusted'),
  }));
}
