/**
 * Shared: access groups and their member-wrapped keys (each with a revision, schema 10): rows as
 * stored. A deleted group is a tombstone (schema 18) that keeps nothing secret; every read here
 * leaves tombstones out.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';
import { dropAgreedGroup } from './store-agreed-group';

export interface GroupRow {
  readonly id: number;
  readonly uid: Buffer;
  readonly revision: number;
  readonly key_version: number;
  /** Schema 6: 1 once the current version has a separate secret key (0: one key for both). */
  readonly secret_split: number;
  readonly sealed_name: Buffer;
  readonly name_index: Buffer;
  readonly created_at: number;
  /** Schema 18: when the group was deleted (a tombstone), else null. */
  readonly deleted_at: number | null;
  /** Schema 19: 1 when the team server computes its codes (codes-only members hold no secret key). */
  readonly server_codes: number;
}

export interface GroupKeyRow {
  readonly group_id: number;
  readonly user_id: number;
  readonly key_version: number;
  readonly wrapped_key: Buffer;
  readonly is_lead: number;
  /** Schema 6: the secret key wrapped for this member; null for a role without secrets. */
  readonly wrapped_secret_key: Buffer | null;
  /** Schema 6: 1 when held only because the role holds every group (owner, admin), not as a member. */
  readonly by_role: number;
}

/** A member's wrapped keys with whether the group's current version is split. */
export interface HeldGroupKeyRow extends GroupKeyRow {
  readonly secret_split: number;
}

const LIVE = 'deleted_at IS NULL';

export function listGroups(db: ReadDb): GroupRow[] {
  return db.prepare<[], GroupRow>(`SELECT * FROM access_groups WHERE ${LIVE} ORDER BY id`).all();
}

export function insertGroup(db: WriteDb, row: Pick<GroupRow, 'uid' | 'sealed_name' | 'name_index' | 'created_at'>): number {
  const result = db
    .prepare('INSERT INTO access_groups (uid, key_version, secret_split, sealed_name, name_index, created_at) VALUES (?, 1, 1, ?, ?, ?)')
    .run(row.uid, row.sealed_name, row.name_index, row.created_at);
  return Number(result.lastInsertRowid);
}

/** A group's new name: sealed, and its keyed index for exact lookups. */
export function renameGroupRow(db: WriteDb, groupId: number, sealed: Buffer, nameIndex: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE access_groups SET sealed_name = ?, name_index = ? WHERE id = ?').run(sealed, nameIndex, groupId);
}

export function setGroupSealedName(db: WriteDb, groupId: number, sealed: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE access_groups SET sealed_name = ? WHERE id = ?').run(sealed, groupId);
}

export function groupKeysOfUser(db: ReadDb, userId: number): HeldGroupKeyRow[] {
  return db.prepare<[number], HeldGroupKeyRow>('SELECT gk.*, g.secret_split FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id WHERE gk.user_id = ? ORDER BY gk.group_id').all(userId);
}

export function putGroupKey(db: WriteDb, row: GroupKeyRow): void {
  // An upsert, not a replace: the row keeps its revision and moves it on (schema 10).
  noteSealedReplaced(db);
  db.prepare(`INSERT INTO group_keys (group_id, user_id, key_version, wrapped_key, is_lead, wrapped_secret_key, by_role) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(group_id, user_id) DO UPDATE SET key_version = excluded.key_version, wrapped_key = excluded.wrapped_key, is_lead = excluded.is_lead,
      wrapped_secret_key = excluded.wrapped_secret_key, by_role = excluded.by_role`)
    .run(row.group_id, row.user_id, row.key_version, row.wrapped_key, row.is_lead, row.wrapped_secret_key, row.by_role);
}

/** Groups whose current version still has one key for list and secrets (before schema 6). */
export function unsplitGroupIds(db: ReadDb): number[] {
  return db.prepare<[], { id: number }>(`SELECT id FROM access_groups WHERE secret_split = 0 AND ${LIVE} ORDER BY id`).all().map((r) => r.id);
}

/** The ids of the groups deleted in this file (tombstones): an entry deleted in one goes with the group's deletion (replica-service.ts outgoing). */
export function deletedGroupIds(db: ReadDb): Set<number> {
  return new Set(db.prepare<[], { id: number }>(`SELECT id FROM access_groups WHERE NOT (${LIVE})`).all().map((g) => g.id));
}

export function getGroupRow(db: ReadDb, id: number): GroupRow | undefined {
  return db.prepare<[number], GroupRow>(`SELECT * FROM access_groups WHERE id = ? AND ${LIVE}`).get(id);
}

/** A deleted group's tombstone (its ids, revision and key version; no name, no key). */
export function tombstoneRow(db: ReadDb, id: number): GroupRow | undefined {
  return db.prepare<[number], GroupRow>(`SELECT * FROM access_groups WHERE id = ? AND NOT (${LIVE})`).get(id);
}

/**
 * A tombstone made live again with the name and setting the team server holds (replica-group-undelete.ts: a deletion
 * made here its person may no longer send). Its wraps are the caller's to put back. Whether a tombstone was.
 */
export function reviveGroupRow(db: WriteDb, groupId: number, sealed: Buffer, nameIndex: Buffer, serverCodes: boolean): boolean {
  noteSealedReplaced(db);
  return db.prepare(`UPDATE access_groups SET deleted_at = NULL, sealed_name = ?, name_index = ?, server_codes = ? WHERE id = ? AND NOT (${LIVE})`)
    .run(sealed, nameIndex, serverCodes ? 1 : 0, groupId).changes === 1;
}

export function findGroupByIndex(db: ReadDb, nameIndex: Buffer): GroupRow | undefined {
  return db.prepare<[Buffer], GroupRow>(`SELECT * FROM access_groups WHERE name_index = ? AND ${LIVE}`).get(nameIndex);
}

/** How many people hold each group's key. */
export function countMembersByGroup(db: ReadDb): Map<number, number> {
  const rows = db.prepare<[], { group_id: number; n: number }>('SELECT group_id, count(*) AS n FROM group_keys GROUP BY group_id').all();
  return new Map(rows.map((r) => [r.group_id, r.n]));
}

export function groupKeysOfGroup(db: ReadDb, groupId: number): GroupKeyRow[] {
  return db.prepare<[number], GroupKeyRow>('SELECT * FROM group_keys WHERE group_id = ? ORDER BY user_id').all(groupId);
}

/** Each member's membership revision (schema 10), by user id: what a lead change or removal names as its base (#13). */
export function membershipRevisions(db: ReadDb, groupId: number): Map<number, number> {
  const rows = db.prepare<[number], { user_id: number; revision: number }>('SELECT user_id, revision FROM group_keys WHERE group_id = ?').all(groupId);
  return new Map(rows.map((r) => [r.user_id, r.revision]));
}

export function deleteGroupKey(db: WriteDb, groupId: number, userId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM group_keys WHERE group_id = ? AND user_id = ?').run(groupId, userId);
}

export function deleteGroupKeysOfUser(db: WriteDb, userId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM group_keys WHERE user_id = ?').run(userId);
}

/** A rotation's new version, which always has a separate secret key. */
/** The group row's revision alone (no trigger moves it, nothing is sequenced): a give-way back to a revision none agreed here (replica-own-key.ts). */
export function setGroupRowRevision(db: WriteDb, groupId: number, revision: number): void {
  db.prepare('UPDATE access_groups SET revision = ? WHERE id = ?').run(revision, groupId);
}

export function setGroupKeyVersion(db: WriteDb, groupId: number, version: number): void {
  db.prepare('UPDATE access_groups SET key_version = ?, secret_split = 1 WHERE id = ?').run(version, groupId);
}

/** Schema 19: whether the team server computes this group's codes. */
export function groupServerCodes(db: ReadDb, groupId: number): boolean {
  return db.prepare<[number], { server_codes: number }>('SELECT server_codes FROM access_groups WHERE id = ?').get(groupId)?.server_codes === 1;
}

/**
 * The setting travels in the group's record (replica-people.ts), so changing it is a shared write:
 * `key_version` named in the SET (unchanged) fires access_groups_written (schema 18: UPDATE OF),
 * which moves the group's revision and sequence, so the next sync sends the record.
 */
export function setGroupServerCodes(db: WriteDb, groupId: number, on: boolean): void {
  db.prepare('UPDATE access_groups SET server_codes = ?, key_version = key_version WHERE id = ?').run(on ? 1 : 0, groupId);
}

/** A group's name sealed again with its keyed index (a directory key rotation). */
export function resealGroupName(db: WriteDb, id: number, sealed: Buffer, nameIndex: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE access_groups SET sealed_name = ?, name_index = ? WHERE id = ?').run(sealed, nameIndex, id);
}

/**
 * Deleting leaves a tombstone (schema 18): the ids, the revision (one more) and when. Every
 * wrapped key of the group goes, the sealed name is emptied and the name's keyed index becomes
 * the group's own id (unique, and no HMAC of the name); the name and setting kept as agreed of it go too. A deletion
 * made on this desktop keeps what the server holds of the group apart until it is stored (replica-group-undelete.ts).
 * Returns whether a live group was deleted.
 */
export function tombstoneGroup(db: WriteDb, groupId: number, at: number): boolean {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM group_keys WHERE group_id = ?').run(groupId);
  // The name a rename replaced, kept as agreed while it waited (store-agreed-group.ts), goes with the group's own.
  dropAgreedGroup(db, groupId);
  return db.prepare(`UPDATE access_groups SET deleted_at = ?, sealed_name = x'', name_index = uid WHERE id = ? AND ${LIVE}`).run(at, groupId).changes === 1;
}
