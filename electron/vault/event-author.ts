/**
 * Whether an audit event taken in from the team server has an author who may have written it
 * (replica-service.ts takeEvent): a user of this vault, enabled here, or disabled here by a
 * disabling the event was signed before. The disabling's own time (`disabledAt` of the user
 * record that disabled them, signed by the owner or admin who did it, kept as users.disabled_at)
 * says when: an event signed before it is part of the vault's history whichever order the two
 * arrive in (the old full pull took the event first; a first sync takes the state, disabling
 * included, before the history, docs/SYNC.md "Speed" step 8), and one signed at or after it is
 * refused in either order. The event's time is its author's signed word, bounded where order is
 * known: the server refuses a disabled author's events from anyone after the disabling
 * (server/sync/verify.ts, review 12b hole 3), so one backdated with their key reaches a desktop
 * only from a dishonest server, the same trust the old sequence order placed in the server
 * (docs/SYNC.md says so); and this desktop refuses an event dated before the one it follows on its
 * own device chain (store-audit.ts appendReceivedEvent), the one bound it checks itself.
 * Must never: take an event of a user not in this vault, or one signed at or after their disabling.
 */
import type { ReadDb } from './db';
import { getUser } from './store-users';

/** True when user `userId` is here and enabled, or disabled here after `at` (the event's signed time). */
export function mayHaveWritten(db: ReadDb, userId: number, at: number, enabled: boolean): boolean {
  if (enabled) return true;
  const user = getUser(db, userId);
  return user !== undefined && user.disabled_at !== null && at < user.disabled_at;
}
