/**
 * SQL for sign-in attempts and sessions (schema 1). Only this file reads or writes
 * `login_attempts` and `sessions`; findSessionStanding also reads the session's person, their
 * second-step standing and device, with the other stores' own columns (one statement a request). Tokens arrive here already hashed (server/auth/tokens.ts);
 * an attempt's OPAQUE state arrives sealed (server/keys.ts).
 */
import type { ServerRole } from '../../shared/api/server-contract';
import { role } from './accounts';
import { int, text, textOrNull, type Queryable, type Row } from './db';
import { canEmailSql, deviceStandingOf, type DeviceStanding } from './devices';
import { authenticatorSql, mfaStandingOf, type MfaStanding } from './mfa';
import { POLICY_SETTING_KEYS, policyColumnsSql } from './mfa-policy';

export async function insertLoginAttempt(db: Queryable, attempt: { id: string; userId: string | null; sealedState: string; expiresAt: number }): Promise<void> {
  await db.query('INSERT INTO login_attempts (id, user_id, sealed_state, expires_at) VALUES ($1, $2, $3, $4)', [attempt.id, attempt.userId, attempt.sealedState, attempt.expiresAt]);
}

/** Removes and returns a live attempt: a finish is accepted once, even when two race. */
export async function takeLoginAttempt(db: Queryable, id: string, now: number): Promise<{ userId: string | null; sealedState: string } | undefined> {
  const [row] = await db.query('DELETE FROM login_attempts WHERE id = $1 AND expires_at > $2 RETURNING user_id, sealed_state', [id, now]);
  return row === undefined ? undefined : { userId: textOrNull(row, 'user_id'), sealedState: text(row, 'sealed_state') };
}

/**
 * Housekeeping on each sign-in: attempts and sessions past their time. Rows another transaction
 * holds are left for the next sign-in (SKIP LOCKED): this never waits, so it never waits in a
 * cycle with a password change, which deletes the same rows in another order.
 */
export async function deleteExpired(db: Queryable, now: number): Promise<void> {
  await db.query('DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)', [now]);
  await db.query('DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE refresh_expires_at <= $1 FOR UPDATE SKIP LOCKED)', [now]);
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly deviceName: string | null;
  readonly now: number;
  readonly accessHash: string;
  readonly accessExpiresAt: number;
  readonly refreshHash: string;
  readonly refreshExpiresAt: number;
}

export async function insertSession(db: Queryable, s: NewSession): Promise<void> {
  await db.query(
    `INSERT INTO sessions (id, user_id, device_id, device_name, created_at, authenticated_at, access_hash, access_expires_at, refresh_hash, refresh_expires_at)
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)`,
    [s.id, s.userId, s.deviceId, s.deviceName, s.now, s.accessHash, s.accessExpiresAt, s.refreshHash, s.refreshExpiresAt],
  );
}

export interface SessionRow {
  readonly id: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly authenticatedAt: number;
  readonly accessExpiresAt: number;
  /** When the second step was done in this session; null: only the password step. */
  readonly secondStepAt: number | null;
  /** A session lives REFRESH_TTL_MS from its last use (server/auth/sessions.ts lastUseOf). */
  readonly refreshExpiresAt: number;
}

function toSession(row: Row): SessionRow {
  return {
    id: text(row, 'id'),
    userId: text(row, 'user_id'),
    deviceId: text(row, 'device_id'),
    authenticatedAt: int(row, 'authenticated_at'),
    accessExpiresAt: int(row, 'access_expires_at'),
    secondStepAt: row.second_step_at === null ? null : int(row, 'second_step_at'),
    refreshExpiresAt: int(row, 'refresh_expires_at'),
  };
}

/** A session with everything that decides, at each request, whether it may act (server/auth/sessions.ts authenticate). */
export interface SessionStanding {
  readonly session: SessionRow;
  readonly user: { readonly id: string; readonly username: string; readonly role: ServerRole };
  readonly mfa: MfaStanding;
  readonly device: DeviceStanding;
}

/**
 * The session behind an access token hash, its person, their second-step standing and their
 * device's, in one statement: every request asks this, so it is one round trip, read in one
 * snapshot (a sign-out, a removed device or an MFA reset committed before it is seen whole).
 * Undefined when no session holds the hash or its person is gone. The device row counts only
 * when it holds the token hash this session signed in with (server/store/devices.ts).
 */
export async function findSessionStanding(db: Queryable, accessHash: string): Promise<SessionStanding | undefined> {
  return (await findSessionStandings(db, [accessHash])).get(accessHash);
}

/**
 * findSessionStanding for several access token hashes in the same one statement (requests that
 * arrived together: server/auth/session-reads.ts), by hash; a hash no session holds is absent.
 */
export async function findSessionStandings(db: Queryable, accessHashes: readonly string[]): Promise<Map<string, SessionStanding>> {
  if (accessHashes.length === 0) return new Map();
  const rows = await db.query(
    `SELECT s.access_hash, s.id, s.user_id, s.device_id, s.authenticated_at, s.access_expires_at, s.second_step_at, s.refresh_expires_at,
            u.username, u.role, d.authorised_at, d.trusted_until, ${canEmailSql('u.id')},
            ${authenticatorSql('u')}, ${policyColumnsSql('u', ['$2', '$3', '$4'])}
     FROM sessions s
     JOIN users u ON u.id = s.user_id
     LEFT JOIN devices d ON d.user_id = s.user_id AND d.device_id = s.device_id AND d.token_hash = s.device_token_hash
     WHERE s.access_hash = ANY($1::text[])`,
    [[...accessHashes], ...POLICY_SETTING_KEYS],
  );
  return new Map(rows.map((row) => {
    const session = toSession(row);
    return [text(row, 'access_hash'), {
      session,
      user: { id: session.userId, username: text(row, 'username'), role: role(row) },
      mfa: mfaStandingOf(row),
      device: deviceStandingOf(row),
    }];
  }));
}

/**
 * What a codes batch reads again of a session (server/codes/batch.ts): that it still stands, whose it
 * is, and where its second step stands, as authenticate reads it (findSessionStandings).
 */
export interface HeldSession {
  readonly session: SessionRow;
  readonly mfa: MfaStanding;
  readonly device: DeviceStanding;
}

/**
 * The device rows of these sessions (by id in `idsParam`, or by access token hash in `hashesParam`: text[]
 * parameters), held FOR SHARE until the transaction ends: a trust forgotten, a device removed or authorised
 * anew waits for it, and one committed before it is read. Held before the sessions (sessionsHeldSql): a
 * device's removal deletes its row and then its sessions, so a batch holding them in the other order could
 * wait on it in a cycle. The sessions are only read here, not held.
 */
export function sessionDevicesHeldSql(idsParam: string, hashesParam: string): string {
  return `SELECT d.user_id, d.device_id, d.token_hash, d.authorised_at, d.trusted_until FROM devices d
     WHERE (d.user_id, d.device_id) IN (SELECT user_id, device_id FROM sessions WHERE id = ANY(${idsParam}::text[]) OR access_hash = ANY(${hashesParam}::text[]))
     ORDER BY d.user_id, d.device_id FOR SHARE OF d`;
}

/**
 * These sessions (by id in `idsParam`, or by access token hash in `hashesParam`: text[] parameters), held
 * FOR SHARE until the transaction ends: a sign-out, a refresh (which replaces the access hash) or any other
 * end of one waits for it, and one committed before it is read (a session refreshed meanwhile no longer
 * holds the hash it was asked by). For a codes batch's statement (store/codes.ts holdVaultsAndAskers), after
 * sessionDevicesHeldSql; its rows are read with sessionHeldOf.
 */
export function sessionsHeldSql(idsParam: string, hashesParam: string): string {
  return `SELECT id, user_id, device_id, access_hash FROM sessions WHERE id = ANY(${idsParam}::text[]) OR access_hash = ANY(${hashesParam}::text[])
     ORDER BY id FOR SHARE`;
}

/** A session a codes batch holds: whose it is, on which device, and the access token hash it holds now. */
export interface SessionHeld {
  readonly id: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly accessHash: string;
}

export function sessionHeldOf(row: Row): SessionHeld {
  return { id: text(row, 'id'), userId: text(row, 'user_id'), deviceId: text(row, 'device_id'), accessHash: text(row, 'access_hash') };
}

/**
 * These sessions (ids in `idsParam`, a text[] parameter, held already by sessionsHeldSql, and their device
 * rows by sessionDevicesHeldSql, in an earlier statement of the transaction) with their people's second-step
 * standing and their devices', the MFA policy's keys as the parameters `keys` (POLICY_SETTING_KEYS, in order);
 * its rows are read with heldSessionOf. Read in a statement after the one that held them, so what it reads
 * is as of after they were held.
 */
export function heldSessionStandingsSql(idsParam: string, keys: readonly [string, string, string]): string {
  return `SELECT s.id, s.user_id, s.device_id, s.authenticated_at, s.access_expires_at, s.second_step_at, s.refresh_expires_at,
            d.authorised_at, d.trusted_until, ${canEmailSql('u.id')}, ${authenticatorSql('u')}, ${policyColumnsSql('u', keys)}
     FROM sessions s
     JOIN users u ON u.id = s.user_id
     LEFT JOIN devices d ON d.user_id = s.user_id AND d.device_id = s.device_id AND d.token_hash = s.device_token_hash
     WHERE s.id = ANY(${idsParam}::text[])`;
}

export function heldSessionOf(row: Row): HeldSession {
  return { session: toSession(row), mfa: mfaStandingOf(row), device: deviceStandingOf(row) };
}

export async function findSessionByAccess(db: Queryable, accessHash: string): Promise<SessionRow | undefined> {
  const [row] = await db.query('SELECT id, user_id, device_id, authenticated_at, access_expires_at, second_step_at, refresh_expires_at FROM sessions WHERE access_hash = $1', [accessHash]);
  return row === undefined ? undefined : toSession(row);
}

/**
 * Swaps a live refresh token for new tokens in one statement; the old refresh hash is kept
 * as `previous_refresh_hash`, so presenting it again is recognised as a copy. The session's
 * expiry stays where its last use put it (a refresh is not a use: touchSession). Returns
 * undefined when no live session holds that refresh token on that device.
 */
export async function rotateSessionTokens(db: Queryable, r: { refreshHash: string; deviceId: string; now: number; accessHash: string; accessExpiresAt: number; refreshHashNext: string }): Promise<{ id: string; refreshExpiresAt: number } | undefined> {
  const [row] = await db.query(
    `UPDATE sessions SET access_hash = $4, access_expires_at = $5, previous_refresh_hash = refresh_hash, refresh_hash = $6
     WHERE refresh_hash = $1 AND device_id = $2 AND refresh_expires_at > $3 RETURNING id, refresh_expires_at`,
    [r.refreshHash, r.deviceId, r.now, r.accessHash, r.accessExpiresAt, r.refreshHashNext],
  );
  return row === undefined ? undefined : { id: text(row, 'id'), refreshExpiresAt: int(row, 'refresh_expires_at') };
}

/** touchSession for several sessions in one statement (a codes batch's: server/codes/batch.ts). */
export async function touchSessions(db: Queryable, ids: readonly string[], refreshExpiresAt: number): Promise<void> {
  if (ids.length === 0) return;
  await db.query('UPDATE sessions SET refresh_expires_at = $2 WHERE id = ANY($1::text[]) AND refresh_expires_at < $2', [[...ids], refreshExpiresAt]);
}

/** A use of a whole session: it lives until `refreshExpiresAt` from now (never shortened). */
export async function touchSession(db: Queryable, id: string, refreshExpiresAt: number): Promise<void> {
  await db.query('UPDATE sessions SET refresh_expires_at = $2 WHERE id = $1 AND refresh_expires_at < $2', [id, refreshExpiresAt]);
}

/** Ends the session a refresh token (current or replaced) belongs to; returns whose it was (none or one). */
export async function deleteSessionByRefresh(db: Queryable, refreshHash: string): Promise<string[]> {
  const rows = await db.query('DELETE FROM sessions WHERE refresh_hash = $1 OR previous_refresh_hash = $1 RETURNING user_id', [refreshHash]);
  return rows.map((row) => text(row, 'user_id'));
}

export async function deleteSession(db: Queryable, id: string): Promise<number> {
  return (await db.query('DELETE FROM sessions WHERE id = $1 RETURNING id', [id])).length;
}

/** Every session of a person, but `keepId` when given (the one changing the password). */
export async function deleteUserSessions(db: Queryable, userId: string, keepId: string | null): Promise<number> {
  const rows = await db.query('DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2) RETURNING id', [userId, keepId]);
  return rows.length;
}

export async function deleteUserLoginAttempts(db: Queryable, userId: string): Promise<void> {
  await db.query('DELETE FROM login_attempts WHERE user_id = $1', [userId]);
}

/** The second step done in this session, now: its wrong codes are forgotten. */
export async function setSecondStepDone(db: Queryable, id: string, now: number): Promise<void> {
  await db.query('UPDATE sessions SET second_step_at = $2, wrong_codes = 0 WHERE id = $1', [id, now]);
}

/** Counts a wrong code in this session; returns the count (0 when the session is gone). */
/** Whether the session is still there (a second step in flight may outlive it: ended by the fifth wrong code beside it). */
export async function sessionStands(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM sessions WHERE id = $1', [id])).length > 0;
}

export async function countWrongCode(db: Queryable, id: string): Promise<number> {
  const [row] = await db.query('UPDATE sessions SET wrong_codes = wrong_codes + 1 WHERE id = $1 RETURNING wrong_codes', [id]);
  return row === undefined ? 0 : int(row, 'wrong_codes');
}
