/**
 * What the vault handed the page to VIEW in this session (a code from otp.code, a password or OTP
 * key from secrets.reveal), kept as keyed fingerprints, so clipboard.copy can tell a copy of one
 * apart from free text (review round eleven hole 2): the page's copy of a viewed secret or code
 * is then done, and audited, by the vault's own copy path, or refused. Main process only.
 * Must never keep a value itself, log one, or outlive its session (keyed by the session object).
 */
import { createHmac, randomBytes } from 'node:crypto';

/** What a handed-out value was: where its audited copy comes from. */
export interface Handed {
  readonly id: number;
  readonly kind: 'password' | 'totp' | 'hotp' | 'otpKey';
}

export class HandedOut {
  private readonly key = randomBytes(32);
  private readonly bySession = new WeakMap<object, Map<string, Handed>>();

  private fingerprint(value: string): string {
    return createHmac('sha256', this.key).update(value, 'utf8').digest('hex');
  }

  /** Notes `value` as handed to the page of `session` for viewing (an empty value is not noted). */
  note(session: object, value: string | undefined, handed: Handed): void {
    if (value === undefined || value === '') return;
    let seen = this.bySession.get(session);
    if (!seen) {
      seen = new Map();
      this.bySession.set(session, seen);
    }
    seen.set(this.fingerprint(value), handed);
  }

  /** What `value` was, when this session's page was handed it to view; undefined for free text. */
  find(session: object, value: string): Handed | undefined {
    if (value === '') return undefined;
    return this.bySession.get(session)?.get(this.fingerprint(value));
  }
}
