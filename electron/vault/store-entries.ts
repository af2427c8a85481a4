/** Entries as stored: plain structure, a sealed summary (list fields) and sealed details. */
import type { ReadDb, WriteDb } from './db';

export interface EntryRow {
  readonly id: number;
  readonly customer_id: number;
  readonly group_id: number;
  readonly key_version: number;
  readonly lookup: Buffer;
  readonly sealed_summary: Buffer;
  readonly sealed_details: Buffer;
  readonly created_at: number;
  readonly updated_at: number;
}

export function getEntryRow(db: ReadDb, id: number): EntryRow | undefined {
  return db.prepare<[number], EntryRow>('SELECT * FROM entries WHERE id = ?').get(id);
}

/** Rows whose lookup is one of `lookups` and whose group is one of `groupIds`. */
export function findEntryRowsByLookup(db: ReadDb, lookups: readonly Buffer[]): EntryRow[] {
  if (lookups.length === 0) return [];
  const marks = lookups.map(() => '?').join(', ');
  return db.prepare<Buffer[], EntryRow>(`SELECT * FROM entries WHERE lookup IN (${marks}) ORDER BY id`).all(...lookups);
}

export function listEntryRowsInGroups(db: ReadDb, groupIds: readonly number[]): EntryRow[] {
  if (groupIds.length === 0) return [];
  const marks = groupIds.map(() => '?').join(', ');
  return db.prepare<number[], EntryRow>(`SELECT * FROM entries WHERE group_id IN (${marks}) ORDER BY id`).all(...groupIds);
}

export function insertEntryRow(db: WriteDb, row: Pick<EntryRow, 'customer_id' | 'group_id' | 'key_version' | 'created_at'>): number {
  const result = db
    .prepare('INSERT INTO entries (customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(row.customer_id, row.group_id, row.key_version, Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), row.created_at, row.created_at);
  return Number(result.lastInsertRowid);
}

export function updateEntryRow(db: WriteDb, row: Omit<EntryRow, 'created_at'>): void {
  db.prepare('UPDATE entries SET customer_id = ?, group_id = ?, key_version = ?, lookup = ?, sealed_summary = ?, sealed_details = ?, updated_at = ? WHERE id = ?')
    .run(row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.updated_at, row.id);
}

export function deleteEntryRow(db: WriteDb, id: number): void {
  db.prepare('DELETE FROM entries WHERE id = ?').run(id);
}
