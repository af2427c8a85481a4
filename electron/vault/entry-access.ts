/**
 * Which groups and entries a session can open: a group whose key its ring holds, an entry of
 * such a group, and the group new entries go to when none is named. An entry in a group this
 * person does not hold does not exist for them: NOT_FOUND, never FORBIDDEN.
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb } from './db';
import type { GroupKey, KeyRing } from './keys';
import { getEntryRow, type EntryRow } from './store-entries';
import { getSetting } from './store-meta';

export function notFound(): CrewvaultError {
  return new CrewvaultError('NOT_FOUND', 'No such entry.');
}

/** The key of group `groupId` as the ring holds it; NOT_FOUND when it does not. */
export function heldGroupKey(ring: KeyRing, groupId: number): GroupKey {
  const key = ring.groups.get(groupId);
  if (!key) throw notFound(); // not a member: the entry does not exist for this person
  return key;
}

/** The entry `id` when its group's key is held; NOT_FOUND otherwise. */
export function visibleEntryRow(db: ReadDb, ring: KeyRing, id: number): EntryRow {
  const row = getEntryRow(db, id);
  if (!row || !ring.groups.has(row.group_id)) throw notFound();
  return row;
}

/** The vault's default group when held, else the first group held; FORBIDDEN with none. */
export function defaultGroupId(db: ReadDb, ring: KeyRing): number {
  const configured = Number(getSetting(db, 'default_group_id'));
  if (ring.groups.has(configured)) return configured;
  const first = [...ring.groups.keys()][0];
  if (first === undefined) throw new CrewvaultError('FORBIDDEN', 'You are not a member of any access group.');
  return first;
}
