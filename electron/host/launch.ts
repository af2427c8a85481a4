/**
 * How the browser host knows the page it talks to: `crewvault serve` opens the browser at a
 * one-time launch code, and the first load that presents it gets a fresh session secret in an
 * HttpOnly cookie (electron/host/server.ts sets it). Only the session secret opens /rpc.
 *
 * Why two secrets: the launch URL has to reach the browser through `xdg-open URL`, whose
 * arguments every local user can read in /proc/PID/cmdline (and a freshly started browser
 * keeps the URL in its own). So the code in it must be worthless once read: it works once,
 * for LAUNCH_CODE_TTL_MS, and the secret it is traded for travels only in HTTP headers.
 *
 * Must never: accept a code twice or past its lifetime; compare a secret in time that depends
 * on its bytes; keep a secret itself (only its SHA-256); hand a secret to a log or a URL.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Long enough for a cold browser to start, short enough that a stale link in a scrollback is dead. */
export const LAUNCH_CODE_TTL_MS = 2 * 60_000;

/** 256 bits each, base64url (43 characters): unguessable, and safe in a URL and a cookie. */
const SECRET_BYTES = 32;

/** Why a launch code was refused: `used` and `expired` are the real code, too late. */
export type LaunchRefusal = 'used' | 'expired' | 'wrong';

export type LaunchExchange = { readonly ok: true; readonly sessionSecret: string } | { readonly ok: false; readonly refusal: LaunchRefusal };

export interface LaunchClock {
  readonly now: () => number;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Equal digests, in time independent of the bytes compared: hashing first makes both sides
 * 32 bytes, so not even the length of what was given leaks through timingSafeEqual.
 */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

export class LaunchGate {
  private readonly codeDigest: Buffer;
  private readonly codeExpiresAt: number;
  private codeSpent = false;
  private sessionDigest: Buffer | undefined;

  /** The one launch code this gate will ever accept; put it in the URL, nowhere else. */
  readonly code: string;

  constructor(private readonly clock: LaunchClock, ttlMs = LAUNCH_CODE_TTL_MS) {
    this.code = randomBytes(SECRET_BYTES).toString('base64url');
    this.codeDigest = digest(this.code);
    this.codeExpiresAt = clock.now() + ttlMs;
  }

  /**
   * Trades the launch code for a session secret, once. The real code is spent by being
   * presented, whatever the outcome, so a replay of a link seen in a process list, a history
   * or a scrollback is refused. A wrong code spends nothing: guessing 256 bits is hopeless,
   * and letting a guess kill the real code would let anyone lock the person out for free.
   */
  exchange(given: string): LaunchExchange {
    if (!sameSecret(given, this.codeDigest)) return { ok: false, refusal: 'wrong' };
    if (this.codeSpent) return { ok: false, refusal: 'used' };
    this.codeSpent = true;
    if (this.clock.now() >= this.codeExpiresAt) return { ok: false, refusal: 'expired' };
    const sessionSecret = randomBytes(SECRET_BYTES).toString('base64url');
    this.sessionDigest = digest(sessionSecret);
    return { ok: true, sessionSecret };
  }

  /** True when `given` is the session secret the code was traded for. */
  holdsSession(given: string | undefined): boolean {
    if (given === undefined || this.sessionDigest === undefined) return false;
    return sameSecret(given, this.sessionDigest);
  }
}
