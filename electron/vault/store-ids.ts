/**
 * Shared (schema 10): an object's global id from its row id, for the places that hold only the
 * row id of something they seal for (a group key's member, a customer of an entry); and how many
 * seals of a column still name their row by row id (format byte 1), for schema 10's re-seal.
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

/** A sealed column and where in its blobs the format byte is (crypto.ts SEAL_FORMAT_AT / WRAP_FORMAT_AT). */
export interface SealedColumn {
  readonly table: string;
  readonly column: string;
  readonly at: number;
}

/**
 * How many rows of `sealed.table` hold a seal by row id in `sealed.column` (format byte 1).
 * Table and column come only from id-seals.ts's fixed list, never from input.
 */
export function countRowIdSeals(db: ReadDb, sealed: SealedColumn): number {
  const { table, column, at } = sealed;
  return db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE substr(${column}, ${at}, 1) = x'01'`).get()?.n ?? 0;
}
