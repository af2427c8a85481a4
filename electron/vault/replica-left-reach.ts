/**
 * Entries that left this person's reach (review 13b hole 4; review 14 hole 1; docs/SYNC.md "An
 * entry crossing the edge of a person's reach"): the team server's pull hands, for each entry
 * moved out of a group this person holds into one they do not, the signed record that moved it
 * (server/store/left-reach.ts). An entry leaves this desktop only when that record holds as any
 * record does and says so: its author's signature under a key of theirs in force here, the author
 * not disabled, allowed to move it out of the group it is in here, the record naming a group known
 * here that this person does not hold at a revision above the one agreed here (an older record
 * played back, from when the entry was once elsewhere, moves nothing). An entry's records are
 * followed in revision order: one into another group this person holds moves where it stands for
 * the next (a move out in two hops, the server keeping the newest record only). Each then leaves as a revoke's entries do; an
 * edit of it made here and not sent is kept first, as a copy in the group it was in (which this
 * person holds), sent with their next push: never lost, and never pushed as a change of the entry
 * the server refuses them (review 13b hole 2) — but only where their role may add entries: a copy is
 * a new entry, which no push of theirs may carry (entries.create, as the server and every desktop
 * ask), so for anyone else (codes-only: their HOTP counter step) the change goes with the entry,
 * told and audited as dropped; a delete of it made here and not sent goes with it
 * (finding C8a: the move, or the delete made where it went, stands), audited as dropped. A marker that does not hold, or an id alone (a
 * server older than schema 27), leaves the entry where it is, counted and told in one line.
 * Must never: drop an entry on the server's word alone, drop an entry of an owner or admin (they
 * hold every group: the server tells them none, and a relay that did is ignored), or drop an edit
 * made here unsaid.
 */
import { isCrewvaultError } from '../../shared/errors';
import { ALL_GROUP_ROLES, can, type Permission, type Role } from '../../shared/policy';
import { entryWriteNeeds } from '../../shared/policy-writes';
import type { EntryRecord } from '../../shared/sync/records';
import type { ReadDb, WriteDb } from './db';
import type { EntrySummary } from '../../shared/model';
import { uidBytes } from './replica-people-checks';
import { dropEntryLeftReach } from './store-replica-people';
import { entryByUid, holdsGroupKey, idByUid, replicaBase, type EntryReplicaRow } from './store-replica';
import { getGroupRow } from './store-groups';
import { getUser } from './store-users';
import { rolePermissions } from './store-roles';

/** What a pull told of entries that left this person's reach: the records that moved them (schema 27), or their ids alone (schema 25 and 26). */
export interface LeftTold {
  readonly records?: readonly EntryRecord[] | undefined;
  readonly ids?: readonly string[] | undefined;
}

/** What leaving did: entries dropped here, the copies kept of edits made here to them, and markers that did not hold. */
export interface LeftReach {
  readonly dropped: number;
  readonly kept: readonly EntrySummary[];
  /** Changes made here that could not be kept (this person's role holds no secret key of the group to copy them: a codes-only member's counter steps). */
  readonly notKept: number;
  /** Changes made here dropped as their role may not add entries (entries.create), so no copy could go: a codes-only member's counter steps. */
  readonly notAdded: number;
  /** Entries held here the server said left this person's reach, left where they are: nothing it handed vouches for it, with why (each reason once). */
  readonly unverified: number;
  readonly unverifiedWhy: readonly string[];
  /** The ids of those entries, to judge again once the page that told them is taken in (a mover's grant or key it brings). */
  readonly standing: readonly string[];
}

/** A record's author as this vault knows them (ReplicaService's sender): their row, role and what the role may do. */
export interface Voucher {
  readonly id: number;
  readonly role: Role;
  readonly permissions: readonly Permission[];
}

export interface LeftReachDeps {
  readonly userId: number;
  readonly now: number;
  /** This desktop's version of an entry kept as a new entry beside it (ReplicaService.conflictCopy). */
  readonly keepCopy: (db: WriteDb, local: EntryReplicaRow) => EntrySummary | undefined;
  /** Takes the entry off its group's summary page (where its key is held). */
  readonly unlist: (groupId: number, entryId: number) => void;
  /**
   * Audits a change of `local` made here and not sent that goes with it: a delete (the move, or the delete made where it
   * went, stands), or a change no copy may keep (the role may not add entries); as `group.changes_dropped`, reason
   * LEFT_REACH, no name in plain text (droppedText says what).
   */
  readonly dropped: (db: WriteDb, local: EntryReplicaRow, change: DroppedChange) => void;
  /**
   * The record's author once its signature (or its batch's) holds under a key of theirs in force
   * here and they are not disabled here (ReplicaService.sender); throws VAULT_TAMPERED or CONFLICT.
   */
  readonly vouched: (db: ReadDb, record: EntryRecord) => Voucher;
}

/** The reason code (the event's subject) of a `group.changes_dropped` event for an unsent change that went with an entry leaving reach. */
export const LEFT_REACH = 'left_reach';

/** An unsent change that went with an entry leaving reach: a delete, or a change kept by no copy as the role may not add entries. */
export type DroppedChange = 'delete' | 'not_added';

/** The sealed detail of a `group.changes_dropped` event of reason LEFT_REACH: what went, and why; no name. */
export function droppedText(change: DroppedChange): string {
  const what = change === 'delete'
    ? 'your delete of the entry: it left your reach, moved into an access group you do not hold, and the move (or the delete made where it went) stands'
    : 'your change of the entry: it left your reach, moved into an access group you do not hold, and your role may not add entries (entries.create), so no copy of it could be kept';
  return `1 unsent change made here dropped, ${what}`;
}

const NOTHING: LeftReach = { dropped: 0, kept: [], notKept: 0, notAdded: 0, unverified: 0, unverifiedWhy: [], standing: [] };

/** Why an id alone moves nothing. */
const ID_ALONE = 'the server named it alone, with no signed record of the move (a server older than schema 27: ask its administrator to upgrade it)';

/** Where an entry stands as this desktop follows the records that moved it: its group, whether deleted, and the revision agreed there. */
interface Standing {
  readonly group: number;
  readonly deleted: boolean;
  readonly revision: number;
}

/** What one record does to an entry standing at `at`: takes it out of reach, moves it on to another group this person holds (the next record judged from there), or nothing, with why. */
type Step = { readonly out: true } | { readonly out: false; readonly next?: Standing; readonly why: string };

const HELD = 'the record handed puts it in a group you hold';

/**
 * What `r` does to the entry standing at `at`: it must hold as a pulled record does (vouched), be
 * newer than the revision `at` stands at, name a group known and not deleted here, and its author
 * may make that change of the entry as it stands at `at` (shared/policy-writes.ts, as
 * replica-service.ts requireAllowed): entries.edit in the group it is in at `at`, whose members
 * this desktop knows; in the group it went to, whose members it is not handed, the role's
 * permission alone. Into a group this person does not hold, it takes the entry out; into one they
 * hold, the entry stands there at its revision for the next record (a move out in two hops by two
 * people: test/integration/sync-left-reach-two-hops.test.ts).
 */
function step(db: ReadDb, r: EntryRecord, at: Standing, deps: LeftReachDeps): Step {
  let author: Voucher;
  try {
    author = deps.vouched(db, r);
  } catch (error) {
    if (!isCrewvaultError(error) || (error.code !== 'VAULT_TAMPERED' && error.code !== 'CONFLICT')) throw error;
    return { out: false, why: 'the record handed does not hold under a key of its author in force here, or its author is disabled or unknown here' };
  }
  const groupId = idByUid(db, 'access_groups', uidBytes(r.group));
  if (groupId === undefined || getGroupRow(db, groupId) === undefined) return { out: false, why: 'the record handed names an access group unknown or deleted here' };
  const held = groupId === at.group || holdsGroupKey(db, groupId, deps.userId);
  if (r.revision <= at.revision) return { out: false, why: held ? HELD : 'the record handed is no newer than the version agreed here (an old record played back)' };
  const deleted = r.deletedAt !== null;
  const needs = entryWriteNeeds({ group: at.group, deleted: at.deleted }, { group: groupId, deleted });
  const allowed = needs.every((need) => can({ role: author.role, permissions: author.permissions, groups: new Map() }, need.permission)
    && (need.group !== at.group || holdsGroupKey(db, at.group, author.id)));
  if (!allowed) return { out: false, why: 'the record handed is signed by someone who may not move it out of its group' };
  if (held) return { out: false, next: { group: groupId, deleted, revision: r.revision }, why: HELD };
  return { out: true };
}

/** Drops each entry held here live (or deleted here, not sent) that a record of `told` takes out of this person's reach, keeping a copy of one edited here since last agreed. */
export function leaveReach(db: WriteDb, told: LeftTold, deps: LeftReachDeps): LeftReach {
  const me = getUser(db, deps.userId);
  if (me === undefined || ALL_GROUP_ROLES.some((role) => role === me.role)) return NOTHING;
  let dropped = 0;
  let notKept = 0;
  let notAdded = 0;
  // A copy is a new entry in the group the change was made in (held): one this person's push may carry only with entries.create (Sender.whyNotVouch).
  const mayAdd = rolePermissions(db, me.role).includes('entries.create');
  const kept: EntrySummary[] = [];
  /** Entries held here live the server named, and why none of its records took each out (dropped ones leave this map). */
  const standing = new Map<string, string>();
  // Live here, or deleted here and not sent: a delete of an entry that left this person's reach
  // goes with it (the server refuses it to them, FORBIDDEN at every push: finding C8a).
  const inReach = (id: string): EntryReplicaRow | undefined => {
    const local = entryByUid(db, uidBytes(id));
    if (local === undefined) return undefined;
    return local.deleted_at === null || local.revision !== replicaBase(db, local.uid) ? local : undefined;
  };
  for (const id of told.ids ?? []) if (inReach(id) !== undefined) standing.set(id, ID_ALONE);
  // One record for each of this person's groups the entry left, each entry's in revision order:
  // followed from where it stands here, through groups this person holds, until one takes it out.
  const byEntry = new Map<string, EntryRecord[]>();
  for (const r of told.records ?? []) byEntry.set(r.id, [...(byEntry.get(r.id) ?? []), r]);
  for (const [id, records] of byEntry) {
    const local = inReach(id);
    if (local === undefined) continue;
    let at: Standing = { group: local.group_id, deleted: false, revision: replicaBase(db, local.uid) };
    let out = false;
    let why: string | undefined;
    for (const r of [...records].sort((x, y) => x.revision - y.revision)) {
      const s = step(db, r, at, deps);
      if (s.out) {
        out = true;
        break;
      }
      if (s.next !== undefined) at = s.next;
      // The reason told is the first refusal met; a record moving it on within reach is told only when nothing else was.
      if (why === undefined || why === HELD) why = s.why;
    }
    if (!out) {
      if (why !== undefined) standing.set(id, why);
      continue;
    }
    standing.delete(id);
    // A delete made here and not sent goes with it, in this person's log (her entry.delete event still goes, and says nothing of it).
    if (local.revision !== replicaBase(db, local.uid) && local.deleted_at !== null) deps.dropped(db, local, 'delete');
    else if (local.revision !== replicaBase(db, local.uid) && !mayAdd) {
      // Kept as a copy, it was set aside at every push for good, and every event of this desktop after it waited with it.
      deps.dropped(db, local, 'not_added');
      notAdded++;
    } else if (local.revision !== replicaBase(db, local.uid)) {
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
  return { dropped, kept, notKept, notAdded, unverified: standing.size, unverifiedWhy: [...new Set(standing.values())], standing: [...standing.keys()] };
}

/** One line for a person: how many entries left their reach, and the copies kept of their unsent edits (by customer/title). */
export function leftReachLine(dropped: number, kept: readonly string[], notKept = 0, notAdded = 0): string {
  const lost = notKept === 0 ? '' : `; ${notKept} change${notKept === 1 ? '' : 's'} made here could not be kept (your role holds no key to copy ${notKept === 1 ? 'it' : 'them'})`;
  const notCopied = notAdded === 0 ? '' : `; ${notAdded} change${notAdded === 1 ? '' : 's'} made here ${notAdded === 1 ? 'was' : 'were'} dropped (your role may not add entries (entries.create), so no copy of ${notAdded === 1 ? 'it' : 'them'} could be kept)`;
  const entries = `${dropped} entr${dropped === 1 ? 'y' : 'ies'}`;
  const copies = kept.length === 0 ? '' : `; your change${kept.length === 1 ? '' : 's'} of ${kept.length === 1 ? 'it' : 'them'} not yet sent ${kept.length === 1 ? 'was' : 'were'} kept as ${kept.map((k) => `"${k}"`).join(', ')} in the group ${kept.length === 1 ? 'it was' : 'they were'} in, sent as new`;
  return `${entries} left your reach (moved into an access group you do not hold) and ${dropped === 1 ? 'was' : 'were'} taken off this desktop${copies}${notCopied}${lost}.`;
}

/** One line for a person: entries the server said left their reach that stay here, nothing signed vouching for it, and why (ids are the server's; no name is told). */
export function leftUnverifiedLine(unverified: number, why: readonly string[]): string {
  const entries = `${unverified} entr${unverified === 1 ? 'y' : 'ies'}`;
  return `${entries} the server said left your reach ${unverified === 1 ? 'stays' : 'stay'} on this desktop, as nothing signed by someone who may move ${unverified === 1 ? 'it' : 'them'} says so: ${why.join('; ')}.`;
}
