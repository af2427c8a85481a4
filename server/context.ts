/**
 * What every service of the server is handed: its database, its keys and its clock. There
 * is no global state: two servers in one process (the tests) share nothing.
 */
import type { Database } from './store/db';
import type { ServerKeys } from './keys';
import type { CodeLimits } from './codes/batch';

export interface ServerContext {
  readonly db: Database;
  readonly keys: ServerKeys;
  /** Milliseconds since the Unix epoch; tests pass a clock they move by hand. */
  readonly now: () => number;
  readonly throttle: ThrottleLimits;
  /** Server-computed codes' rate limits (server/codes/batch.ts DEFAULT_CODE_LIMITS when absent). */
  readonly codeLimits?: CodeLimits;
}

/** How many sign-ins may start without completing before waiting begins (server/auth/throttle.ts). */
export interface ThrottleLimits {
  /** Per account name, registered or not. */
  readonly perAccount: number;
  /** Per source address: an office behind one address signs in together, so it is higher. */
  readonly perAddress: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = { perAccount: 10, perAddress: 100 };

/** An access token's life: short, so a stolen one is soon worthless; refresh renews it. */
export const ACCESS_TTL_MS = 15 * 60_000;
/** A session's life from its last use whole (each refresh replaces its refresh token, but is no use). */
export const REFRESH_TTL_MS = 30 * 24 * 60 * 60_000;

/**
 * When a session was last used whole (or opened): it lives REFRESH_TTL_MS from then, so its
 * refresh expiry says it (server/auth/sessions.ts moves it on use; a refresh does not).
 */
export function lastUseOf(session: { readonly refreshExpiresAt: number }): number {
  return session.refreshExpiresAt - REFRESH_TTL_MS;
}
/** Between OPAQUE's login start and finish: a client does both in well under a second of work. */
export const LOGIN_ATTEMPT_TTL_MS = 2 * 60_000;
export const INVITE_TTL_MS = 7 * 24 * 60 * 60_000;
/**
 * How long a session may wait for its second step after the password: the code is asked in
 * the same attempt as the password (Q360), not days later with a session kept from then.
 */
export const SECOND_STEP_TTL_MS = 10 * 60_000;
/** A password change needs a sign-in at most this old: proof the person knows the current one. */
export const PASSWORD_FRESH_MS = 10 * 60_000;
