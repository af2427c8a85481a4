/**
 * A rename of a group made on this desktop and not yet sent, against the name the team server holds (#15, docs/SYNC.md
 * "A rename its lead may no longer send"). Renaming, this desktop keeps the name it replaces as agreed (store-agreed-name.ts),
 * and keeps it as agreed when a newer record from elsewhere names the group (taken in or not: a rename held here goes
 * after it). Its person no longer managing the group by signed records taken in (unmade as its lead, their role
 * narrowed: replica-people-in.ts dropUnsendable), the rename can never be sent (replica-people.ts sends only groups its
 * person manages, and the server would refuse it): the group goes back to the agreed name, at the agreed revision, and
 * the rename is told once as not made (audited).
 * Must never: put back a name that does not open here or is not its index's, or one another group here holds; keep a
 * name from a record its signer could not have made here; or drop a rename while its person still manages the group.
 */
import type { GroupRecord } from '../../shared/sync/records';
import { isCrewvaultError } from '../../shared/errors';
import { openJson } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { contexts, groupNameIndex, type KeyRing } from './keys';
import { bin, managesHere, signerOf, type PeopleIntake } from './replica-people-checks';
import { agreedNameOf, keepAgreedName } from './store-agreed-name';
import { ownDevices } from './store-device';
import { findGroupByIndex, getGroupRow, renameGroupRow, setGroupRowRevision, type GroupRow } from './store-groups';
import { replicaBase, sentSeq } from './store-replica';
import { groupRenamedOnSince, setGroupRevision } from './store-replica-people';

/**
 * Whether the group's row holds a rename of this desktop's own not yet sent: renamed here since the last push stored,
 * and named otherwise than as agreed (a rename from elsewhere taken in over it, or one put back, holds none).
 */
export function renameHeldHere(db: ReadDb, groupId: number): boolean {
  if (!groupRenamedOnSince(db, groupId, sentSeq(db), ownDevices(db))) return false;
  const agreed = agreedNameOf(db, groupId);
  const row = getGroupRow(db, groupId);
  return agreed === undefined || row === undefined || !agreed.nameIndex.equals(row.name_index);
}

/** Before this desktop renames `row`: its name as agreed kept, unless a rename of its own waits already (then the one kept stays). */
export function keepNameBeforeRename(db: WriteDb, row: GroupRow): void {
  if (renameHeldHere(db, row.id)) return;
  const base = replicaBase(db, row.uid);
  keepAgreedName(db, row.id, { sealedName: row.sealed_name, nameIndex: row.name_index, revision: base > 0 ? base : row.revision });
}

/** The name sealed in `sealed` if it opens with this desktop's directory key and is `index`'s, else undefined. */
export function nameOpening(ring: KeyRing, row: Pick<GroupRow, 'uid'>, sealed: Buffer, index: Buffer): string | undefined {
  try {
    const name = openJson(ring.directoryKey, sealed, contexts.groupName(row));
    return typeof name === 'string' && groupNameIndex(ring, name).equals(index) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A group record from elsewhere newer than the revision agreed here, while a rename of this desktop's waits in `row`:
 * its name is the one the server holds now (taken in or, below a rename kept here, not), kept as agreed. Only from a
 * record whose signer manages the group here, with a name that opens here; any other leaves what was kept.
 */
export function noteNameFrom(db: WriteDb, intake: PeopleIntake, r: GroupRecord, row: GroupRow): void {
  if (r.deletedAt !== null || r.revision <= replicaBase(db, row.uid) || !renameHeldHere(db, row.id)) return;
  const sealed = bin(r.sealedName);
  const index = bin(r.nameIndex);
  if (nameOpening(intake.ring, row, sealed, index) === undefined) return;
  try {
    if (!managesHere(db, signerOf(db, intake, r), row.id)) return;
  } catch (error) {
    // A record that does not hold is judged (and set aside) where it is taken, not here.
    if (isCrewvaultError(error)) return;
    throw error;
  }
  keepAgreedName(db, row.id, { sealedName: sealed, nameIndex: index, revision: r.revision });
}

/** A rename from elsewhere taken in (replica-people-new.ts takeRename): it is the agreed name now, where one is kept. */
export function agreeNameTaken(db: WriteDb, groupId: number, r: GroupRecord): void {
  if (agreedNameOf(db, groupId) === undefined) return;
  keepAgreedName(db, groupId, { sealedName: bin(r.sealedName), nameIndex: bin(r.nameIndex), revision: r.revision });
}

/**
 * Its person no longer manages the group (by records this batch took in: the caller's to judge): a rename of theirs
 * waiting here goes back to the name agreed, the row at the agreed revision (never below the one kept with the name),
 * told once (intake.groupChangeUnmade, audited). A name kept that does not open here (a directory key changed since),
 * one another group here holds now, or none kept (a file from before names were kept): the rename's name stays shown
 * here until the group is renamed elsewhere, but is no longer held as a change (nothing of it waits to go), the row at
 * the agreed revision all the same, so that rename is taken in.
 */
export function dropUnsentRename(db: WriteDb, intake: PeopleIntake, groupId: number): void {
  const row = getGroupRow(db, groupId);
  if (row === undefined || !renameHeldHere(db, groupId)) return;
  const renamedTo = nameOpening(intake.ring, row, row.sealed_name, row.name_index) ?? 'a name that does not open here';
  const agreed = agreedNameOf(db, groupId);
  const name = agreed === undefined ? undefined : nameOpening(intake.ring, row, agreed.sealedName, agreed.nameIndex);
  const same = agreed === undefined ? undefined : findGroupByIndex(db, agreed.nameIndex);
  const back = name !== undefined && agreed !== undefined && (same === undefined || same.id === row.id);
  if (back) renameGroupRow(db, row.id, agreed.sealedName, agreed.nameIndex);
  else keepAgreedName(db, row.id, { sealedName: row.sealed_name, nameIndex: row.name_index, revision: agreed?.revision ?? 0 });
  const base = replicaBase(db, row.uid);
  const revision = Math.max(base, agreed?.revision ?? 0);
  // Not above it: the group's next record from elsewhere (an owner's rename) is newer than the row, and taken in.
  if (base > 0) setGroupRevision(db, row.id, revision);
  else if (revision > 0) setGroupRowRevision(db, row.id, revision);
  intake.groupChangeUnmade(groupId, back ? name : renamedTo, back ? `renamed "${renamedTo}"` : `renamed "${renamedTo}" (the name it replaced is not known here: shown so until the group is renamed elsewhere)`);
}
