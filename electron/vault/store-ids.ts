/**
 * Shared (schema 10): an object's global id from its row id, for the places that hold only the
 * row id of something they seal for (a group key's member, a customer of an entry).
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb } from './db';
import type { StoredRef } from './keys';

export type ObjectTable = 'users' | 'access_groups' | 'customers' | 'entries';

export function refOf(db: ReadDb, table: ObjectTable, id: number): StoredRef {
  const row = db.prepare<[number], { uid: Buffer | null }>(`SELECT uid FROM ${table} WHERE id = ?`).get(id);
  if (!row?.uid) throw new CrewvaultError('VAULT_CORRUPT', `Not a readable Crewvault vault: a row of ${table} has no global id.`);
  return { id, uid: row.uid };
}
