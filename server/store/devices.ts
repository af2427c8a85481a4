/**
 * SQL for a person's devices (schemas 9-10). Only this file reads or writes `devices` and a
 * session's `device_token_hash`; it reads `sessions` (to name a device, count its sessions and
 * take the token hash that binds a device to the session that vouched for it) and deletes a
 * removed device's sessions. Device tokens arrive here hashed (server/auth/tokens.ts).
 */
import type { DeviceView } from '../../shared/api/server-contract';
import { int, text, textOrNull, type Queryable, type Row } from './db';

/** What decides a session's device step, in one read. */
export interface DeviceStanding {
  readonly authorised: boolean;
  readonly trustedUntil: number | null;
  /** The person has an e-mail address on file and the server has SMTP settings: authorisation applies. */
  readonly canEmail: boolean;
}

/**
 * The device's standing for a session that presents the device token whose hash is
 * `tokenHash` (or, given `sessionId`, the one that session signed in with): authorised and
 * trusted count only when the device row holds that same hash.
 */
export async function deviceStanding(db: Queryable, userId: string, deviceId: string, proof: { readonly tokenHash: string } | { readonly sessionId: string }): Promise<DeviceStanding> {
  const [row] = await db.query(
    `WITH device AS (
       SELECT authorised_at, trusted_until FROM devices
       WHERE user_id = $1 AND device_id = $2 AND token_hash = coalesce($3, (SELECT device_token_hash FROM sessions WHERE id = $4))
     )
     SELECT (SELECT authorised_at FROM device) AS authorised_at, (SELECT trusted_until FROM device) AS trusted_until, ${canEmailSql('$1')}`,
    [userId, deviceId, 'tokenHash' in proof ? proof.tokenHash : null, 'sessionId' in proof ? proof.sessionId : null],
  );
  return deviceStandingOf(row);
}

/** The `can_email` column for the person whose id is `userId` (a parameter or a column of the caller's query). */
export function canEmailSql(userId: string): string {
  return `EXISTS (SELECT 1 FROM user_contacts WHERE user_id = ${userId} AND email IS NOT NULL)
              AND EXISTS (SELECT 1 FROM delivery_settings WHERE channel = 'smtp') AS can_email`;
}

/**
 * A device's standing from the columns `authorised_at` and `trusted_until` (of the device row
 * bound to the session's token; null when there is none) and canEmailSql's `can_email`: the one
 * reading of them, for deviceStanding and for the session read of every request (sessions.ts).
 */
export function deviceStandingOf(row: Row | undefined): DeviceStanding {
  return {
    authorised: row !== undefined && row.authorised_at !== null,
    trustedUntil: row === undefined || row.trusted_until === null ? null : int(row, 'trusted_until'),
    canEmail: row?.can_email === true,
  };
}

/** Does a live device row hold this token hash (the device's own token, presented at sign-in)? */
export async function deviceTokenFits(db: Queryable, userId: string, deviceId: string, tokenHash: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM devices WHERE user_id = $1 AND device_id = $2 AND token_hash = $3', [userId, deviceId, tokenHash]);
  return rows.length === 1;
}

/** The device token a new session signed in with (found by its access token's hash, just made). */
export async function setSessionDeviceToken(db: Queryable, accessHash: string, tokenHash: string): Promise<void> {
  await db.query('UPDATE sessions SET device_token_hash = $2 WHERE access_hash = $1', [accessHash, tokenHash]);
}

/**
 * Authorises the device a session is on (named as the session names it), bound to that
 * session's device token: a token the device held before for this row stops counting.
 */
export async function authoriseSessionDevice(db: Queryable, sessionId: string, now: number): Promise<void> {
  await db.query(
    `INSERT INTO devices (user_id, device_id, name, authorised_at, token_hash) SELECT user_id, device_id, device_name, $2, device_token_hash FROM sessions WHERE id = $1
     ON CONFLICT (user_id, device_id) DO UPDATE SET authorised_at = $2, token_hash = EXCLUDED.token_hash,
       trusted_until = CASE WHEN devices.token_hash = EXCLUDED.token_hash THEN devices.trusted_until END,
       name = coalesce(EXCLUDED.name, devices.name)`,
    [sessionId, now],
  );
}

/** Trusts the device a session is on until `until`, bound to that session's device token. */
export async function trustSessionDevice(db: Queryable, sessionId: string, until: number): Promise<void> {
  await db.query(
    `INSERT INTO devices (user_id, device_id, name, trusted_until, token_hash) SELECT user_id, device_id, device_name, $2, device_token_hash FROM sessions WHERE id = $1
     ON CONFLICT (user_id, device_id) DO UPDATE SET trusted_until = $2, token_hash = EXCLUDED.token_hash,
       authorised_at = CASE WHEN devices.token_hash = EXCLUDED.token_hash THEN devices.authorised_at END,
       name = coalesce(EXCLUDED.name, devices.name)`,
    [sessionId, until],
  );
}

function toDevice(row: Row): DeviceView {
  return {
    deviceId: text(row, 'device_id'),
    name: textOrNull(row, 'name'),
    authorisedAt: row.authorised_at === null ? null : int(row, 'authorised_at'),
    trustedUntil: row.trusted_until === null ? null : int(row, 'trusted_until'),
    sessions: int(row, 'sessions'),
  };
}

export async function listDevices(db: Queryable, userId: string): Promise<DeviceView[]> {
  const rows = await db.query(
    `SELECT d.device_id, d.name, d.authorised_at, d.trusted_until,
            (SELECT count(*) FROM sessions s WHERE s.user_id = d.user_id AND s.device_id = d.device_id) AS sessions
     FROM devices d WHERE d.user_id = $1 ORDER BY d.device_id`,
    [userId],
  );
  return rows.map(toDevice);
}

/** Removes the device's standing and ends its sessions; returns whether it was there and how many sessions ended. */
export async function removeDevice(tx: Queryable, userId: string, deviceId: string): Promise<{ removed: boolean; endedSessions: number }> {
  const removed = (await tx.query('DELETE FROM devices WHERE user_id = $1 AND device_id = $2 RETURNING device_id', [userId, deviceId])).length === 1;
  const endedSessions = (await tx.query('DELETE FROM sessions WHERE user_id = $1 AND device_id = $2 RETURNING id', [userId, deviceId])).length;
  return { removed, endedSessions };
}

/** Forgets every trust the person's devices hold (their authorisations stay); returns how many were trusted. */
export async function forgetTrustedDevices(tx: Queryable, userId: string, now: number): Promise<number> {
  const rows = await tx.query(
    `WITH old AS (SELECT device_id, trusted_until FROM devices WHERE user_id = $1 AND trusted_until IS NOT NULL FOR UPDATE)
     UPDATE devices d SET trusted_until = NULL FROM old WHERE d.user_id = $1 AND d.device_id = old.device_id RETURNING old.trusted_until`,
    [userId],
  );
  return rows.filter((row) => int(row, 'trusted_until') > now).length;
}
