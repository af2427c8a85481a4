/**
 * Entries that left this person's reach (review 13b hole 4; docs/SYNC.md "An entry crossing the
 * edge of a person's reach"): the team server's pull tells, by id alone, entries moved out of a
 * group this person holds into one they do not (server/store/left-reach.ts). Each leaves this
 * desktop as a revoke's entries do; an edit of it made here and not sent is kept first, as a copy
 * in the group it was in (which this person holds), sent with their next push: never lost, and
 * never pushed as a change of the entry the server refuses them (which held back every other
 * change of theirs: review 13b hole 2).
 * Must never: drop an entry of an owner or admin (they hold every group: the server tells them
 * none, and a relay that did is ignored), or drop an edit made here unsaid.
 */
import { isCrewvaultError } from '../../shared/errors';
import { ALL_GROUP_ROLES } from '../../shared/policy';
import type { WriteDb } from './db';
import type { EntrySummary } from '../../shared/model';
import { uidBytes } from './replica-people-checks';
import { dropEntryLeftReach } from './store-replica-people';
import { entryByUid, replicaBase, type EntryReplicaRow } from './store-replica';
import { getUser } from './store-users';

/** What leaving did: entries dropped here, and the copies kept of edits made here to them. */
export interface LeftReach {
  readonly dropped: number;
  readonly kept: readonly EntrySummary[];
  /** Changes made here that could not be kept (this person's role holds no secret key of the group to copy them: a codes-only member's counter steps). */
  readonly notKept: number;
}

export interface LeftReachDeps {
  readonly userId: number;
  readonly now: number;
  /** This desktop's version of an entry kept as a new entry beside it (ReplicaService.conflictCopy). */
  readonly keepCopy: (db: WriteDb, local: EntryReplicaRow) => EntrySummary | undefined;
  /** Takes the entry off its group's summary page (where its key is held). */
  readonly unlist: (groupId: number, entryId: number) => void;
}

/** Drops each entry of `ids` held here live, keeping a copy of one changed here since last agreed. */
export function leaveReach(db: WriteDb, ids: readonly string[], deps: LeftReachDeps): LeftReach {
  const me = getUser(db, deps.userId);
  if (me === undefined || ALL_GROUP_ROLES.some((role) => role === me.role)) return { dropped: 0, kept: [], notKept: 0 };
  let dropped = 0;
  let notKept = 0;
  const kept: EntrySummary[] = [];
  for (const id of ids) {
    const uid = uidBytes(id);
    const local = entryByUid(db, uid);
    if (local === undefined || local.deleted_at !== null) continue;
    if (local.revision !== replicaBase(db, uid)) {
      try {
        const copy = deps.keepCopy(db, local);
        if (copy) kept.push(copy);
      } catch (error) {
        // No secret key here to copy it with (it wrote nothing): told, never a sync that fails for good.
        if (!isCrewvaultError(error) || error.code !== 'CONFLICT') throw error;
        notKept++;
      }
    }
    deps.unlist(local.group_id, local.id);
    dropEntryLeftReach(db, local.id, deps.now);
    dropped++;
  }
  return { dropped, kept, notKept };
}

/** One line for a person: how many entries left their reach, and the copies kept of their unsent edits (by customer/title). */
export function leftReachLine(dropped: number, kept: readonly string[], notKept = 0): string {
  const lost = notKept === 0 ? '' : `; ${notKept} change${notKept === 1 ? '' : 's'} made here could not be kept (your role holds no key to copy ${notKept === 1 ? 'it' : 'them'})`;
  const entries = `${dropped} entr${dropped === 1 ? 'y' : 'ies'}`;
  const copies = kept.length === 0 ? '' : `; your change${kept.length === 1 ? '' : 's'} of ${kept.length === 1 ? 'it' : 'them'} not yet sent ${kept.length === 1 ? 'was' : 'were'} kept as ${kept.map((k) => `"${k}"`).join(', ')} in the group ${kept.length === 1 ? 'it was' : 'they were'} in, sent as new`;
  return `${entries} left your reach (moved into an access group you do not hold) and ${dropped === 1 ? 'was' : 'were'} taken off this desktop${copies}${lost}.`;
}
