/**
 * Sign-in throttling, per account name and per source address. OPAQUE stops guessing
 * offline; guessing online is what is left, and with OPAQUE a client learns a guess was wrong
 * from login *start* alone (it cannot finish), so every start counts as an attempt and a
 * successful finish takes it back. Past the limit, each further attempt waits twice as long
 * as the last (from 30 s up to 15 min); an hour without attempts forgets them.
 *
 * A name nobody has is counted and refused exactly like a real one, so the throttle tells
 * nobody who exists. Must never: lock out by anything but the clock (no permanent lock an
 * attacker could put on someone's account).
 */
import { CrewvaultError } from '../../shared/errors';
import { signInTurns } from './turns';
import type { ServerContext, ThrottleLimits } from '../context';
import { countAttempt, creditAttempt, deleteThrottle, lockThrottle, setBlockedUntil, type ThrottleScope } from '../store/throttle';

export const THROTTLE_WINDOW_MS = 60 * 60_000;
export const FIRST_WAIT_MS = 30_000;
export const LONGEST_WAIT_MS = 15 * 60_000;

export function waitAfter(attempts: number, limit: number): number {
  const over = attempts - limit;
  return over < 0 ? 0 : Math.min(FIRST_WAIT_MS * 2 ** Math.min(over, 20), LONGEST_WAIT_MS);
}

function minutes(ms: number): string {
  const n = Math.max(1, Math.ceil(ms / 60_000));
  return n === 1 ? '1 minute' : `${n} minutes`;
}

/**
 * Throws TOO_MANY_ATTEMPTS while either scope waits; else counts this attempt in both. One
 * transaction, under both rows' locks (account, then address: always that order), so starts that
 * race on a name or an address are decided one after another, each seeing the wait the last one
 * set; checked apart from the count, a burst all read "no wait" and all went on to guess.
 * A refusal rolls back: it is not counted. Queued first in this process (turns.ts), so a burst
 * waits in memory rather than on the pool's connections.
 */
export async function admitSignIn(ctx: ServerContext, accountKey: string, address: string): Promise<void> {
  const limits: ThrottleLimits = ctx.throttle;
  const scopes: [ThrottleScope, string, number][] = [['account', accountKey, limits.perAccount], ['address', address, limits.perAddress]];
  const atOnce = (): CrewvaultError => new CrewvaultError('TOO_MANY_ATTEMPTS', 'Too many sign-in attempts at once: try again in a minute');
  await signInTurns(ctx).run([`sign-in account ${accountKey}`, `sign-in address ${address}`], atOnce, () => ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    for (const [scope, key] of scopes) {
      const until = await lockThrottle(tx, scope, key, now);
      if (until > now) {
        const whose = scope === 'account' ? 'this user name' : 'this address';
        throw new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many sign-in attempts for ${whose}: try again in ${minutes(until - now)}`);
      }
    }
    for (const [scope, key, limit] of scopes) {
      const attempts = await countAttempt(tx, scope, key, now, now - THROTTLE_WINDOW_MS);
      const wait = waitAfter(attempts, limit);
      if (wait > 0) await setBlockedUntil(tx, scope, key, now + wait);
    }
  }));
}

/** A sign-in that finished: the account's count is forgotten, the address's attempt taken back. */
export async function signInSucceeded(ctx: ServerContext, accountKey: string, address: string): Promise<void> {
  await deleteThrottle(ctx.db, 'account', accountKey);
  await creditAttempt(ctx.db, 'address', address);
}
