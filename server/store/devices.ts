/**
 * SQL for a person's devices (schema 9). Only this file reads or writes `devices`; it reads
 * `sessions` (to name a device and count its sessions) and deletes a removed device's sessions.
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

export async function deviceStanding(db: Queryable, userId: string, deviceId: string): Promise<DeviceStanding> {
  const [row] = await db.query(
    `SELECT (SELECT authorised_at FROM devices WHERE user_id = $1 AND device_id = $2) AS authorised_at,
            (SELECT trusted_until FROM devices WHERE user_id = $1 AND device_id = $2) AS trusted_until,
            EXISTS (SELECT 1 FROM user_contacts WHERE user_id = $1 AND email IS NOT NULL)
              AND EXISTS (SELECT 1 FROM delivery_settings WHERE channel = 'smtp') AS can_email`,
    [userId, deviceId],
  );
  return {
    authorised: row !== undefined && row.authorised_at !== null,
    trustedUntil: row === undefined || row.trusted_until === null ? null : int(row, 'trusted_until'),
    canEmail: row?.can_email === true,
  };
}

/** Authorises the device a session is on (named as the session names it). */
export async function authoriseSessionDevice(db: Queryable, sessionId: string, now: number): Promise<void> {
  await db.query(
    `INSERT INTO devices (user_id, device_id, name, authorised_at) SELECT user_id, device_id, device_name, $2 FROM sessions WHERE id = $1
     ON CONFLICT (user_id, device_id) DO UPDATE SET authorised_at = $2, name = coalesce(EXCLUDED.name, devices.name)`,
    [sessionId, now],
  );
}

/** Trusts the device a session is on until `until`. */
export async function trustSessionDevice(db: Queryable, sessionId: string, until: number): Promise<void> {
  await db.query(
    `INSERT INTO devices (user_id, device_id, name, trusted_until) SELECT user_id, device_id, device_name, $2 FROM sessions WHERE id = $1
     ON CONFLICT (user_id, device_id) DO UPDATE SET trusted_until = $2, name = coalesce(EXCLUDED.name, devices.name)`,
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
