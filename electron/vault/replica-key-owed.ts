/**
 * A key change owed, learnt on every desktop from signed records alone (issue #15, docs/SYNC.md "A key change owed"):
 * a revoke goes to the server ahead of its rotation (electron/team/sync.ts partsOf), so a revoke stored whose
 * rotation never comes (the revoking desktop abandoned, or its rotation never made) cuts its member off on the
 * server and leaves the group under the key they held, which a server colluding with them could hand them. Each
 * desktop that takes such a revoke in at the key version it holds, with no group record above that version, notes
 * it (store-replica-people.ts noteKeyChangeOwed); told at each sync to those who manage the group here (team.ts
 * keyChangesOwedTold) until the group is past that version here, or the member holds it again.
 * Must never: note a revoke at a version below the one held (a dishonest server playing an old revoke back after a
 * rotation it was made under), nor one its batch's checks set aside (the member still wrapped here), nor rotate.
 */
import { CrewvaultError } from '../../shared/errors';
import { memberRecordId, type MemberRecord, type ReplicaRecord } from '../../shared/sync/records';
import type { WriteDb } from './db';
import { uidText } from './ids';
import { managesHere, sha256Hex, signerOf, uidBytes, type PeopleIntake } from './replica-people-checks';
import { getGroupRow, groupKeysOfGroup } from './store-groups';
import { idByUid, replicaBase } from './store-replica';
import { noteKeyChangeOwed } from './store-replica-people';
import { getUser } from './store-users';

/**
 * Notes a key change owed for each revoke of `records` (a pulled batch, once its people were taken in: takePeople)
 * that stands here at the very key version held of its group: the member no longer wrapped, the group, held by this
 * person, at the version the revoke was signed at, and the revoke taken in (its revision agreed) or, of a pair this
 * desktop never held (taken as unchanged, nothing to remove: a group handed with a grant, a first sync), signed here
 * by someone who manages the group.
 */
export function noteKeyChangesOwed(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[]): void {
  const me = intake.userId;
  const myUid = getUser(db, me)?.uid;
  if (myUid === undefined) return;
  for (const r of records) {
    if (r.kind !== 'member' || !r.revoked || r.user === uidText(myUid)) continue;
    const groupId = idByUid(db, 'access_groups', uidBytes(r.group));
    const userId = idByUid(db, 'users', uidBytes(r.user));
    if (groupId === undefined || userId === undefined) continue;
    const group = getGroupRow(db, groupId);
    if (group === undefined || !standsAtVersionHeld(r, group.key_version)) continue;
    const wraps = groupKeysOfGroup(db, groupId);
    if (!wraps.some((gk) => gk.user_id === me) || wraps.some((gk) => gk.user_id === userId)) continue;
    if (r.id !== memberRecordId(r.group, r.user, sha256Hex)) continue;
    if (replicaBase(db, uidBytes(r.id)) < r.revision && !signedByManager(db, intake, r, groupId)) continue;
    noteKeyChangeOwed(db, { groupId, version: group.key_version, userId, revision: r.revision });
  }
}

/**
 * Judged by the version held here, never by the record alone: a revoke signed below it was made under a rotation this
 * desktop has taken in since (a server playing it back plants nothing), and one above it waits for its group record.
 */
function standsAtVersionHeld(r: MemberRecord, held: number): boolean {
  return r.keyVersion === held;
}

/** Whether the record holds under its author's signature here and they manage the group here (a record that does not: false). */
function signedByManager(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number): boolean {
  try {
    return managesHere(db, signerOf(db, intake, r), groupId);
  } catch (error) {
    if (error instanceof CrewvaultError) return false;
    throw error;
  }
}
