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
 *
 * And whether its author may have held the group an event names when the entry it names is not held
 * here (mayHaveHeldGroup: replica-service.ts namedOnlyEntry holds such an entry as a tombstone only then).
 * Must never: take an event of a user not in this vault, or one signed at or after their disabling.
 */
import { ALL_GROUP_ROLES } from '../../shared/policy';
import { memberRecordId } from '../../shared/sync/records';
import type { ReadDb } from './db';
import { uidText } from './ids';
import { sha256Hex, uidBytes } from './replica-people-checks';
import { groupAndUserUids, memberKnownSigners, membershipEverKnown } from './store-replica-people';
import { getUser } from './store-users';

/** True when user `userId` is here and enabled, or disabled here after `at` (the event's signed time). */
export function mayHaveWritten(db: ReadDb, userId: number, at: number, enabled: boolean): boolean {
  if (enabled) return true;
  const user = getUser(db, userId);
  return user !== undefined && user.disabled_at !== null && at < user.disabled_at;
}

/**
 * True when user `userId` may have held group `groupId` (live or deleted) when they signed an event naming it: their
 * role holds every group now (owner, admin), or this desktop knows a membership of theirs in it in any state, revoked
 * included (store-replica-people.ts membershipEverKnown), or holds a signed record of it that left no row
 * (memberKnownSigners) from someone else who may have held the group themselves, by the same test (at most
 * NOTED_HOPS records deep). Not its member's own (hostile review of 940f723: such a record is taken here without asking
 * who may sign it, and a member's own revoke of herself in a group she never held, which the server refuses from her
 * but a dishonest one hands on, made her a known member of it); not only a signer who manages the group now either
 * (an admin who revoked someone and was demoted since: the revoked member's events waited for good on a desktop that
 * learnt of him only by that revoke). Not when the event was signed: no membership's start or end
 * is dated here, and a role's history is not kept (an admin demoted since is known by the by-role memberships their
 * demotion revoked). Before #15's tombstone a receiver refused every event naming an entry it lacked; the tombstone is
 * for an entry its author made while holding the group (kept on their desktop, or dropped with the group's deletion),
 * and without this a member could sign, on their own chain, an act in a group they never held (a reveal of an entry
 * that does not exist) and every desktop took it (hostile review of #15). A desktop that holds no member record of the
 * group (one it does not hold: the server hands those only to its holders) knows nothing of it: refused there, as before.
 */
export function mayHaveHeldGroup(db: ReadDb, userId: number, groupId: number): boolean {
  return heldWithin(db, userId, groupId, NOTED_HOPS);
}

/** How many noted records deep a membership is followed: a demoted admin's revoke of someone, noted by the owner's record of her demotion, is two. */
const NOTED_HOPS = 3;

function heldWithin(db: ReadDb, userId: number, groupId: number, hops: number): boolean {
  const user = getUser(db, userId);
  if (user === undefined) return false;
  if (ALL_GROUP_ROLES.includes(user.role)) return true;
  const uids = groupAndUserUids(db, groupId, userId);
  if (uids === undefined) return false;
  const recordId = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
  if (membershipEverKnown(db, groupId, userId, recordId)) return true;
  return hops > 0 && memberKnownSigners(db, recordId).some((signer) => signer.id !== userId && heldWithin(db, signer.id, groupId, hops - 1));
}
