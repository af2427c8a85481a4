/**
 * SQL for sign-in throttling (schema 2). Only this file reads or writes `sign_in_throttle`.
 * The rules (limits, backoff) are server/auth/throttle.ts's; this only counts and stores,
 * each count one statement so that sign-ins racing on one name all count. The `address`
 * scope also counts wrong second steps, under keys of their own (`second step <address>`,
 * server/auth/second-step.ts).
 */
import { int, type Queryable } from './db';

export type ThrottleScope = 'account' | 'address';

export async function blockedUntil(db: Queryable, scope: ThrottleScope, key: string): Promise<number> {
  const [row] = await db.query('SELECT blocked_until FROM sign_in_throttle WHERE scope = $1 AND key = $2', [scope, key]);
  return row === undefined ? 0 : int(row, 'blocked_until');
}

/** Counts one attempt and returns the count; a row quiet since `windowStart` starts again at 1. */
export async function countAttempt(db: Queryable, scope: ThrottleScope, key: string, now: number, windowStart: number): Promise<number> {
  const [row] = await db.query(
    `INSERT INTO sign_in_throttle (scope, key, attempts, blocked_until, updated_at) VALUES ($1, $2, 1, 0, $3)
     ON CONFLICT (scope, key) DO UPDATE SET
       attempts = CASE WHEN sign_in_throttle.updated_at <= $4 THEN 1 ELSE sign_in_throttle.attempts + 1 END,
       updated_at = $3
     RETURNING attempts`,
    [scope, key, now, windowStart],
  );
  return row === undefined ? 1 : int(row, 'attempts');
}

export async function setBlockedUntil(db: Queryable, scope: ThrottleScope, key: string, until: number): Promise<void> {
  await db.query('UPDATE sign_in_throttle SET blocked_until = greatest(blocked_until, $3) WHERE scope = $1 AND key = $2', [scope, key, until]);
}

export async function deleteThrottle(db: Queryable, scope: ThrottleScope, key: string): Promise<void> {
  await db.query('DELETE FROM sign_in_throttle WHERE scope = $1 AND key = $2', [scope, key]);
}

/** One honest sign-in from an address takes back the attempt it counted (its block stays). */
export async function creditAttempt(db: Queryable, scope: ThrottleScope, key: string): Promise<void> {
  await db.query('UPDATE sign_in_throttle SET attempts = greatest(attempts - 1, 0) WHERE scope = $1 AND key = $2', [scope, key]);
}
