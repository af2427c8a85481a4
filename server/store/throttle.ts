/**
 * SQL for sign-in throttling (schema 2). Only this file reads or writes `sign_in_throttle`.
 * The rules (limits, backoff) are server/auth/throttle.ts's; this only counts and stores,
 * each count one statement so that sign-ins racing on one name all count, and a sign-in's
 * decision taken under its rows' locks (lockThrottle) so that they wait for each other's. The `address`
 * scope also counts wrong second steps, under keys of their own (`second step <address>`,
 * server/auth/second-step.ts).
 */
import { int, type Queryable, type Transaction } from './db';

export type ThrottleScope = 'account' | 'address';

/**
 * The scope's row, made if missing (nothing counted yet), locked until the transaction ends, and
 * when it waits until. Sign-ins on one name or address that race all queue here, so each decides
 * on the wait the one before it set: a burst of starts is not admitted on the "no wait" every one
 * of them read before any of them counted (admitSignIn).
 */
export async function lockThrottle(tx: Transaction, scope: ThrottleScope, key: string, now: number): Promise<number> {
  const [row] = await tx.query(
    `INSERT INTO sign_in_throttle (scope, key, attempts, blocked_until, updated_at) VALUES ($1, $2, 0, 0, $3)
     ON CONFLICT (scope, key) DO UPDATE SET attempts = sign_in_throttle.attempts
     RETURNING blocked_until`,
    [scope, key, now],
  );
  return row === undefined ? 0 : int(row, 'blocked_until');
}

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
