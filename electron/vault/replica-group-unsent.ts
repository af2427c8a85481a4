/**
 * A change of a group's own record made on this desktop and not yet sent, against what the team server holds (#15,
 * docs/SYNC.md "A rename its lead may no longer send"): a rename, the server codes setting. Making one, this desktop
 * keeps what it replaces as agreed (store-agreed-group.ts), and keeps as agreed what a newer record from elsewhere says
 * of it (taken in or not: a change held here goes after it). Its person may no longer send it (a rename: no longer
 * managing the group, unmade as its lead or their role narrowed: replica-people-in.ts takePeople, at the pull's last page; the setting: no
 * longer an owner or admin), by signed records taken in: replica-people.ts would never send it, or the server would
 * refuse it at every push. The group goes back to what was agreed, and the change is told once as not made (audited).
 * Must never: put back a name that does not open here or is not its index's, or one another group here holds; keep
 * what a record says that its signer could not have made here; or drop a change its person may still send.
 */
import type { GroupRecord } from '../../shared/sync/records';
import { isCrewvaultError } from '../../shared/errors';
import { openJson } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { contexts, groupNameIndex, type KeyRing } from './keys';
import { bin, managesHere, signerOf, uidBytes, type PeopleIntake } from './replica-people-checks';
import { agreedCodesOf, agreedNameOf, keepAgreedCodes, keepAgreedName } from './store-agreed-group';
import { ownDevices } from './store-device';
import { findGroupByIndex, getGroupRow, renameGroupRow, setGroupRowRevision, type GroupRow } from './store-groups';
import { idByUid, replicaBase, sentSeq } from './store-replica';
import { groupChangedOnSince, groupRenamedOnSince, setGroupRevision } from './store-replica-people';
import { holdsAllGroups, type Role } from '../../shared/policy';

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
 * A group record from elsewhere newer than the revision agreed here, while a change of this desktop's waits in `row`:
 * what it says is what the server holds now (taken in or, below a change kept to go after it, not), kept as agreed. Its
 * name only from a signer who manages the group here, a name that opens here; its setting only from an owner or admin.
 */
export function noteAgreedFrom(db: WriteDb, intake: PeopleIntake, r: GroupRecord, row: GroupRow): void {
  if (r.deletedAt !== null || r.revision <= replicaBase(db, row.uid)) return;
  const rename = renameHeldHere(db, row.id) && nameOpening(intake.ring, row, bin(r.sealedName), bin(r.nameIndex)) !== undefined;
  const codes = r.serverCodes !== undefined && codesChangeHeldHere(db, row.id);
  if (!rename && !codes) return;
  let role: Role;
  try {
    const signer = signerOf(db, intake, r);
    if (!managesHere(db, signer, row.id)) return;
    role = signer.role;
  } catch (error) {
    // A record that does not hold is judged (and set aside) where it is taken, not here.
    if (isCrewvaultError(error)) return;
    throw error;
  }
  if (rename) keepAgreedName(db, row.id, { sealedName: bin(r.sealedName), nameIndex: bin(r.nameIndex), revision: r.revision });
  if (codes && holdsAllGroups(role)) keepAgreedCodes(db, row.id, r.serverCodes === true);
}

/**
 * Whether the group's row holds a server codes setting of this desktop's own not yet sent: turned on or off here since
 * the last push stored, and not as agreed.
 */
export function codesChangeHeldHere(db: ReadDb, groupId: number): boolean {
  if (!groupChangedOnSince(db, groupId, ['group.server_codes_on', 'group.server_codes_off'], sentSeq(db), ownDevices(db))) return false;
  const agreed = agreedCodesOf(db, groupId);
  const row = getGroupRow(db, groupId);
  return agreed === undefined || row === undefined || agreed !== (row.server_codes === 1);
}

/** Before this desktop turns the group's server codes on or off: the setting as agreed kept, unless a change of its own waits already. */
export function keepCodesBeforeChange(db: WriteDb, row: GroupRow): void {
  if (!codesChangeHeldHere(db, row.id)) keepAgreedCodes(db, row.id, row.server_codes === 1);
}

/** A setting from elsewhere taken in (replica-people-in.ts takeGroup): the agreed one now, where one is kept. */
export function agreeCodesTaken(db: WriteDb, groupId: number, on: boolean): void {
  if (agreedCodesOf(db, groupId) !== undefined) keepAgreedCodes(db, groupId, on);
}

/**
 * The setting agreed to put the group back to, where a change of this desktop's waits that its person, of `role` as
 * the records taken in leave them, may no longer send (only owners and admins change it); else undefined.
 */
export function codesToPutBack(db: ReadDb, groupId: number, role: Role): boolean | undefined {
  if (holdsAllGroups(role) || !codesChangeHeldHere(db, groupId)) return undefined;
  return agreedCodesOf(db, groupId);
}

/** A rename from elsewhere taken in (replica-people-new.ts takeRename): it is the agreed name now, where one is kept. */
export function agreeNameTaken(db: WriteDb, groupId: number, r: GroupRecord): void {
  if (agreedNameOf(db, groupId) === undefined) return;
  keepAgreedName(db, groupId, { sealedName: bin(r.sealedName), nameIndex: bin(r.nameIndex), revision: r.revision });
}

/**
 * A group record of this desktop's the server stored (replica-service.ts markSent): the name and setting it carries are
 * what the team holds, agreed where kept. A part stored ahead of one lost leaves the sent sequence behind it, so the
 * change still reads as made here since; agreed so, it is no longer held as unsent, and a person unmade before their
 * next push is never put back to what it replaced (at the revision that carries it on the server: apart for good).
 */
export function agreeSent(db: WriteDb, r: GroupRecord): void {
  const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
  if (groupId === undefined) return;
  agreeNameTaken(db, groupId, r);
  if (r.serverCodes !== undefined) agreeCodesTaken(db, groupId, r.serverCodes);
}

/**
 * Its person no longer manages the group (by records the pull took in, at its last page: the caller's to judge): a rename of theirs
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
  intake.groupChangeUnmade(groupId, back ? name ?? renamedTo : renamedTo, back ? `renamed "${renamedTo}"` : `renamed "${renamedTo}", shown so here until the group is renamed elsewhere (the name it replaced is not known here)`, 'you no longer manage the group');
}
