/**
 * The pace of HOTP codes for someone who may not see the key (no otp.reveal_secret): one code of
 * an entry per HOTP_CODE_INTERVAL_MS, counted from their last code of it in the audit log, so
 * codes cannot be collected ahead in a burst. On a new desktop whose audit history is still
 * arriving (a first sync's history cursor, store-history.ts; docs/SYNC.md "Speed" step 8), their
 * last code may be in the part not yet here, taken on another desktop a moment ago: it is unknown,
 * and unknown counts as "just now" — no HOTP code for them until the history is in (the desktop
 * takes it in the background), never a looser pace than with the whole history.
 * Must never: let the pace be looser for a history not yet taken in, or apply to someone who may
 * see the key (they may take codes ahead anyway).
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb } from './db';
import { lastEntryActionAt } from './store-audit';
import { historyCursor } from './store-history';

/** How often a role without otp.reveal_secret may take the next HOTP code of one entry. */
export const HOTP_CODE_INTERVAL_MS = 30_000;

/** The audit actions an HOTP code was written under: otp.hotp now, otp.code and otp.copy before it had its own. */
const HOTP_CODE_ACTIONS = ['otp.hotp', 'otp.code', 'otp.copy'] as const;

/** TOO_MANY_ATTEMPTS, nothing taken, unless `userId` may take the next HOTP code of entry `entryId` at `now`. */
export function requireHotpPace(db: ReadDb, userId: number, entryId: number, now: number): void {
  if (historyCursor(db) !== undefined) {
    throw new CrewvaultError('TOO_MANY_ATTEMPTS', 'One HOTP code at a time for your role, and your last one may be in the audit history this desktop is still taking in: the next once it is in (Team server shows how far it is).');
  }
  const last = lastEntryActionAt(db, userId, entryId, [...HOTP_CODE_ACTIONS]);
  if (last !== undefined && now - last < HOTP_CODE_INTERVAL_MS) {
    throw new CrewvaultError('TOO_MANY_ATTEMPTS', `One HOTP code at a time for your role: the next in ${Math.ceil((last + HOTP_CODE_INTERVAL_MS - now) / 1000)} s.`);
  }
}
