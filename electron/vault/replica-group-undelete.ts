/**
 * A group this desktop deleted and has not sent, once its person may no longer send the deletion (#15, docs/SYNC.md "A
 * rename its lead may no longer send"): bob, a lead of Ops, deletes it (empty) on his desktop, and before it syncs the
 * owner unmakes him, or narrows his role. A desktop sends a group's record only for a group its person manages
 * (replica-people.ts), so the deletion was kept here for good, neither sent nor told: the team held Ops, his desktop
 * did not, and took nothing of it again (a tombstone takes no record). Deleting, this desktop keeps what the team server
 * holds of the group (store-agreed-group.ts keepDeletion: its name and setting as agreed, each member's wrap); a pull
 * that may stop its person managing it (a record of their own membership of it, of themselves, of their custom role)
 * puts the group back first, so the pull's records of it are taken in (so does any record of the group, or a live entry
 * record of it: the server deletes no group holding a live entry); at the pull's last page, once its entries are in,
 * managing it still and holding no live entry, the deletion is made again (it goes with the push), else it stays back,
 * told once as not made (audited).
 * Must never: put back a group the team deleted too, or under a name's index another group here holds; drop a deletion
 * its person may still send; keep what it kept after the deletion was stored or the group put back for good.
 */
import { memberRecordId, type GroupRecord, type ReplicaRecord } from '../../shared/sync/records';
import { foldRoleName } from '../../shared/policy';
import type { ReadDb, WriteDb } from './db';
import { openHeldGroupKey } from './group-keys';
import { uidText } from './ids';
import { agreedCodesOf, agreedNameOf, dropKeptDeletion, groupsDeletionKept, keepDeletion, keptDeletionOf } from './store-agreed-group';
import { findGroupByIndex, getGroupRow, groupKeysOfGroup, membershipRevisions, putGroupKey, reviveGroupRow, setGroupRowRevision, tombstoneGroup, tombstoneRow, type GroupRow } from './store-groups';
import { countEntriesByGroup } from './store-entries';
import { deletePagesOfGroup } from './store-pages';
import { idByUid, replicaBase } from './store-replica';
import { agreedMember, setGroupRevision, setMemberRevision } from './store-replica-people';
import { getUser } from './store-users';
import { codesChangeHeldHere, renameHeldHere } from './replica-group-unsent';
import { groupNameHere, managesHere, sha256Hex, uidBytes, type PeopleIntake } from './replica-people-checks';

/**
 * Before this desktop deletes `row`: what the team server holds of it kept, for a group the server holds (agreed at a
 * revision here). Its name and setting as agreed where a change of its own of them waits unsent.
 */
export function keepBeforeDelete(db: WriteDb, row: GroupRow, userId: number, deletedAt: number): void {
  const base = replicaBase(db, row.uid);
  const me = getUser(db, userId);
  // Agreed at no revision, the group is the server's when this person's own membership is agreed (a file copy agreed
  // whole, a record taken in unchanged: replica-people.ts withTheirRecords reads it so).
  const own = me === undefined ? undefined : agreedMember(db, uidBytes(memberRecordId(uidText(row.uid), uidText(me.uid), sha256Hex)));
  if (base === 0 && own === undefined) return;
  const revision = base > 0 ? base : row.revision;
  const agreed = renameHeldHere(db, row.id) ? agreedNameOf(db, row.id) : undefined;
  const codes = codesChangeHeldHere(db, row.id) ? agreedCodesOf(db, row.id) : undefined;
  const revisions = membershipRevisions(db, row.id);
  keepDeletion(db, row.id, {
    sealedName: agreed?.sealedName ?? row.sealed_name, nameIndex: agreed?.nameIndex ?? row.name_index,
    serverCodes: codes ?? row.server_codes === 1, revision, deletedAt,
    wraps: groupKeysOfGroup(db, row.id).map((gk) => ({
      userId: gk.user_id, keyVersion: gk.key_version, wrappedKey: gk.wrapped_key, wrappedSecretKey: gk.wrapped_secret_key,
      lead: gk.is_lead === 1, byRole: gk.by_role === 1, revision: revisions.get(gk.user_id) ?? 0,
    })),
  });
}

/** A group record of this desktop's the server stored (replica-service.ts markSent): a deletion stored keeps nothing more. */
export function deletionSent(db: WriteDb, r: GroupRecord): void {
  const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
  if (groupId !== undefined && r.deletedAt !== null) dropKeptDeletion(db, groupId);
}

/**
 * Before a batch's people records are taken in (replica-people-in.ts takePeople): each group deleted here, not sent,
 * that the batch may stop this person managing (a record of their own membership of it, of themselves, of their custom
 * role) is put back as kept, so its records in the batch are taken in over it; judged at the pull's last page
 * (judgePutBack). One the batch deletes too is the team's deletion: nothing more is kept of it.
 */
export function putBackBeforeTaking(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[]): void {
  const me = getUser(db, intake.userId);
  if (me === undefined) return;
  const own = uidText(me.uid);
  const self = records.some((r) => (r.kind === 'user' && r.id === own) || (r.kind === 'role' && foldRoleName(r.name) === foldRoleName(me.role)));
  for (const groupId of groupsDeletionKept(db)) {
    const tomb = tombstoneRow(db, groupId);
    if (tomb === undefined) continue;
    const uid = uidText(tomb.uid);
    if (records.some((r) => r.kind === 'group' && r.id === uid && r.deletedAt !== null)) {
      dropKeptDeletion(db, groupId);
      continue;
    }
    // Or any record of the group (a rename, a rotation, a member changed elsewhere): put back, it is taken in, and a deletion
    // made again goes above it, kept as the team then holds it. Left on the tombstone, it was dropped, and the deletion, at
    // the revision the record holds, was stored as nothing (stale) and forgotten as sent: the team kept the group, untold.
    // So does a live entry written into it elsewhere: the server deletes no group that holds one, and refused the deletion,
    // with every other change of the push, at every sync, for good (an owner's as a lead's); back, the entry is taken in.
    if (self || records.some((r) => (r.kind === 'member' && r.group === uid) || (r.kind === 'group' && r.id === uid) || liveEntryIn(db, r, uid))) putBack(db, intake, groupId);
  }
}

/**
 * Whether `r` is a live entry of the group `groupUid` written elsewhere: above the revision agreed here (a record of this
 * desktop's own, or one it took in before, handed again by a pull behind its push, is not). One this desktop deleted
 * unsent counts too: an edit of it elsewhere keeps it (replica-both-changed.ts, the delete loses), and it is judged only
 * once taken in (judgePutBack); left on the tombstone, its record was set aside and the delete pushed over it, the edit
 * lost untold (hostile review of 4a2305a). After the page's entries are taken in, one still above is one set aside here.
 */
function liveEntryIn(db: ReadDb, r: ReplicaRecord, groupUid: string): boolean {
  return r.kind === 'entry' && r.group === groupUid && r.deletedAt === null && r.revision > replicaBase(db, uidBytes(r.id));
}

/** The group made live again as kept, at the revision agreed: its name, setting and wraps; this person's key in the ring. */
function putBack(db: WriteDb, intake: PeopleIntake, groupId: number): void {
  const kept = keptDeletionOf(db, groupId);
  const tomb = tombstoneRow(db, groupId);
  if (kept === undefined || tomb === undefined) return;
  // A group made here of that name since holds its keyed index: this one comes back under the index its tombstone holds
  // (its own id, as no name's), its name shown as kept until the group is renamed elsewhere. Left deleted, its lead's
  // deletion was sent when they no longer managed it, refused at every push.
  const index = findGroupByIndex(db, kept.nameIndex) === undefined ? kept.nameIndex : tomb.name_index;
  if (!reviveGroupRow(db, groupId, kept.sealedName, index, kept.serverCodes)) return;
  for (const w of kept.wraps) {
    putGroupKey(db, { group_id: groupId, user_id: w.userId, key_version: w.keyVersion, wrapped_key: w.wrappedKey, wrapped_secret_key: w.wrappedSecretKey, is_lead: w.lead ? 1 : 0, by_role: w.byRole ? 1 : 0 });
    setMemberRevision(db, groupId, w.userId, w.revision);
  }
  // At the revision agreed, nothing of it waits to go: the pull's records of it are newer, and taken in.
  if (replicaBase(db, tomb.uid) > 0) setGroupRevision(db, groupId, kept.revision);
  else setGroupRowRevision(db, groupId, kept.revision);
  const mine = kept.wraps.find((w) => w.userId === intake.userId);
  if (mine !== undefined) {
    try {
      intake.ring.addGroup(groupId, openHeldGroupKey(db, intake.ring.keyPair, intake.userId, {
        group_id: groupId, user_id: mine.userId, key_version: mine.keyVersion, wrapped_key: mine.wrappedKey, wrapped_secret_key: mine.wrappedSecretKey,
        is_lead: mine.lead ? 1 : 0, by_role: mine.byRole ? 1 : 0, secret_split: tomb.secret_split,
      }));
    } catch {
      // A wrap that no longer opens here (a key pair changed since): the group is held at the next sign-in as any is.
    }
  }
}

/**
 * At the pull's last page, once its entries are taken in (replica-service.ts apply): each group put back (a deletion
 * kept, the group live here) is judged as its person stands after every page. Managing it still and holding no live
 * entry, the deletion is made again (a tombstone one above the revision agreed, sent with the push); else it stays back
 * as the team holds it, nothing kept, told once (intake.groupChangeUnmade, audited). Returns the groups deleted again: what
 * the page staged for their pages goes too (their key left the ring: flushed, it failed the whole apply).
 */
export function judgePutBack(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[]): number[] {
  const me = getUser(db, intake.userId);
  const deletedAgain: number[] = [];
  const deletions = groupsDeletionKept(db);
  const live = deletions.length === 0 ? new Map<number, number>() : countEntriesByGroup(db);
  for (const groupId of deletions) {
    const row = getGroupRow(db, groupId);
    if (row === undefined) continue;
    const kept = keptDeletionOf(db, groupId);
    const manages = me !== undefined && kept !== undefined && managesHere(db, { id: me.id, role: me.role }, groupId);
    // Holding a live entry as taken in (on any page; an entry this desktop deleted that an edit elsewhere kept), or one whose
    // record was set aside here: the server deletes no group that holds one and refused the deletion, with every other
    // change of the push, at every sync, for good; not made, told, the person may move or delete it and delete it again.
    // Judged before the page's entries, one moved out or deleted elsewhere on the last page still counted (the deletion
    // lost though the server takes it), and one whose delete here an edit there undid did not.
    const holdsEntries = (live.get(groupId) ?? 0) > 0 || records.some((r) => liveEntryIn(db, r, uidText(row.uid)));
    if (manages && !holdsEntries) {
      // Kept again as the team now holds it (the pull's records of it taken in: a rotation, a member gone), or the next
      // put back brought back what the pull took over, never to be handed again.
      keepBeforeDelete(db, row, me.id, kept.deletedAt);
      tombstoneGroup(db, groupId, kept.deletedAt);
      deletePagesOfGroup(db, groupId);
      intake.ring.dropGroup(groupId);
      deletedAgain.push(groupId);
      continue;
    }
    dropKeptDeletion(db, groupId);
    intake.groupChangeUnmade(groupId, groupNameHere(db, intake, groupId), 'deleted', manages ? 'it holds entries written elsewhere: move or delete them, then delete it again' : 'you no longer manage the group');
  }
  return deletedAgain;
}

/**
 * The groups `userId` led when they deleted them here, the deletion not sent yet: the session's key ring holds no deleted
 * group, and a lead's deletion, judged by who led, was never sent (replica-service.ts peopleSender): the team kept the
 * group, their desktop did not, for good.
 */
export function deletedLeading(db: ReadDb, userId: number): number[] {
  return groupsDeletionKept(db).filter((groupId) => tombstoneRow(db, groupId) !== undefined && keptDeletionOf(db, groupId)?.wraps.some((w) => w.userId === userId && w.lead) === true);
}
