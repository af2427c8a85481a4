/**
 * The pace of HOTP codes for someone who may not see the key (no otp.reveal_secret): one code of
 * an entry per HOTP_CODE_INTERVAL_MS, counted from their last code of it in the audit log, so
 * codes cannot be collected ahead in a burst. On a new desktop whose audit history is still
 * arriving (a first sync's history cursor, store-history.ts; docs/SYNC.md "Speed" step 8), their
 * last code may be in the part not yet here, taken on another desktop a moment ago: it is unknown,
 * and unknown counts as "just now" — no HOTP code for them until the history is in (the desktop
 * takes it in the background), never a looser pace than with the whole history. The same holds
 * for any event of theirs set aside here, for whatever reason (its device chain waiting for
 * earlier events, review 12b hole 4): it may be that code; none until it is taken in. The pace
 * reads the newest signed time of their codes (max), so a code dated back cannot loosen it.
 * Must never: let the pace be looser for a history not yet taken in, or apply to someone who may
 * see the key (they may take codes ahead anyway).
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb } from './db';
import { lastEntryActionAt } from './store-audit';
import { historyCursor } from './store-history';
import { uidText } from './ids';
import { heldEventOf } from './store-replica';
import { getUser } from './store-users';

/** How often a role without otp.reveal_secret may take the next HOTP code of one entry. */
export const HOTP_CODE_INTERVAL_MS = 30_000;

/** The audit actions an HOTP code was written under: otp.hotp now, otp.code and otp.copy before it had its own. */
const HOTP_CODE_ACTIONS = ['otp.hotp', 'otp.code', 'otp.copy'] as const;

/** TOO_MANY_ATTEMPTS, nothing taken, unless `userId` may take the next HOTP code of entry `entryId` at `now`. */
export function requireHotpPace(db: ReadDb, userId: number, entryId: number, now: number): void {
  if (historyCursor(db) !== undefined) {
    throw new CrewvaultError('TOO_MANY_ATTEMPTS', 'One HOTP code at a time for your role, and your last one may be in the audit history this desktop is still taking in: the next once it is in (Team server shows how far it is).');
  }
  const user = getUser(db, userId);
  if (user !== undefined && heldEventOf(db, uidText(user.uid))) {
    throw new CrewvaultError('TOO_MANY_ATTEMPTS', 'One HOTP code at a time for your role, and an event of yours this desktop set aside (waiting for what comes before it) may be your last one: the next once it is taken in (sync again).');
  }
  const last = lastEntryActionAt(db, userId, entryId, [...HOTP_CODE_ACTIONS]);
  if (last !== undefined && now - last < HOTP_CODE_INTERVAL_MS) {
    throw new CrewvaultError('TOO_MANY_ATTEMPTS', `One HOTP code at a time for your role: the next in ${Math.ceil((last + HOTP_CODE_INTERVAL_MS - now) / 1000)} s.`);
  }
}
