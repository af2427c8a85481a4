/**
 * Shared: entries as stored — plain structure, a sealed summary (list fields) and sealed
 * details. A deleted entry is a tombstone (schema 10): its row stays with its ids, revision and
 * `deleted_at`, and nothing sealed; every read here leaves tombstones out unless it says so.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

export interface EntryRow {
  readonly id: number;
  /** Schema 10: the global id (ids.ts) and the count of writes (triggers keep it). */
  readonly uid: Buffer;
  readonly revision: number;
  readonly customer_id: number;
  readonly group_id: number;
  readonly key_version: number;
  readonly lookup: Buffer;
  readonly sealed_summary: Buffer;
  readonly sealed_details: Buffer;
  readonly created_at: number;
  readonly updated_at: number;
  /** The customer's global id, which a summary sealed since schema 10 names (read by a join). */
  readonly customer_uid: Buffer;
}

/** The columns an insert or update writes. */
export type EntryWrite = Omit<EntryRow, 'id' | 'revision' | 'customer_uid'>;

// The customer's global id by a correlated lookup, not a JOIN: the same rows (a customer row's
// uid is never null: migration 0010 filled them and a trigger refuses a new one without), but
// SQLite ran the one-row JOIN (or any second mention of customers in WHERE) at ~90-150 µs
// against ~20-40 µs this way (100,000 entries, 5,000 customers), and every code, reveal and
// "Customer/Title" lookup reads an entry row.
const LIVE = 'e.deleted_at IS NULL AND customer_uid IS NOT NULL';
const SELECT = `SELECT e.id, e.uid, e.revision, e.customer_id, e.group_id, e.key_version, e.lookup, e.sealed_summary, e.sealed_details,
  e.created_at, e.updated_at, (SELECT c.uid FROM customers c WHERE c.id = e.customer_id) AS customer_uid FROM entries e`;

export function getEntryRow(db: ReadDb, id: number): EntryRow | undefined {
  return db.prepare<[number], EntryRow>(`${SELECT} WHERE e.id = ? AND ${LIVE}`).get(id);
}

/** Rows whose lookup is one of `lookups` and whose group is one of `groupIds`. */
export function findEntryRowsByLookup(db: ReadDb, lookups: readonly Buffer[]): EntryRow[] {
  if (lookups.length === 0) return [];
  const marks = lookups.map(() => '?').join(', ');
  return db.prepare<Buffer[], EntryRow>(`${SELECT} WHERE e.lookup IN (${marks}) AND ${LIVE} ORDER BY e.id`).all(...lookups);
}

export function listEntryRowsInGroups(db: ReadDb, groupIds: readonly number[]): EntryRow[] {
  if (groupIds.length === 0) return [];
  const marks = groupIds.map(() => '?').join(', ');
  return db.prepare<number[], EntryRow>(`${SELECT} WHERE e.group_id IN (${marks}) AND ${LIVE} ORDER BY e.id`).all(...groupIds);
}

/** A new entry, sealed before it is written (its seals name its global id, which it has already). */
export function insertEntryRow(db: WriteDb, row: EntryWrite): number {
  const result = db
    .prepare('INSERT INTO entries (uid, customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(row.uid, row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.created_at, row.updated_at);
  return Number(result.lastInsertRowid);
}

/** Seals the row anew: the old sealed bytes must leave the files (db.ts noteSealedReplaced). */
export function updateEntryRow(db: WriteDb, row: Omit<EntryWrite, 'uid' | 'created_at'> & Pick<EntryRow, 'id'>): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE entries SET customer_id = ?, group_id = ?, key_version = ?, lookup = ?, sealed_summary = ?, sealed_details = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL')
    .run(row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.updated_at, row.id);
}

/** Deleting leaves a tombstone: the ids, the revision (one more) and when; nothing sealed, no lookup. */
export function deleteEntryRow(db: WriteDb, id: number, at: number): void {
  noteSealedReplaced(db);
  db.prepare("UPDATE entries SET deleted_at = ?, updated_at = ?, lookup = x'', sealed_summary = x'', sealed_details = x'' WHERE id = ? AND deleted_at IS NULL").run(at, at, id);
}

/** How many entries each group holds (tombstones aside). */
export function countEntriesByGroup(db: ReadDb): Map<number, number> {
  const rows = db.prepare<[], { group_id: number; n: number }>('SELECT group_id, count(*) AS n FROM entries WHERE deleted_at IS NULL GROUP BY group_id').all();
  return new Map(rows.map((r) => [r.group_id, r.n]));
}
