/** Shared: customers — a sealed name and its keyed index, a global id and a revision (schema 10). */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

export interface CustomerRow {
  readonly id: number;
  readonly uid: Buffer;
  readonly revision: number;
  readonly sealed_name: Buffer;
  readonly name_index: Buffer;
  readonly created_at: number;
}

/**
 * Every customer with a name. Not a named-only tombstone (store-replica.ts insertNamedOnlyCustomer: a
 * customer an event of another desktop names, not taken in here), which holds no name to open or seal again.
 */
export function listCustomerRows(db: ReadDb): CustomerRow[] {
  return db.prepare<[], CustomerRow>('SELECT * FROM customers WHERE length(sealed_name) > 0 ORDER BY id').all();
}

/** Every customer's id, nothing else: what a session that has opened most names asks first (no blob read). Named-only tombstones left out, as above. */
export function listCustomerIds(db: ReadDb): number[] {
  return db.prepare<[], { id: number }>('SELECT id FROM customers WHERE length(sealed_name) > 0 ORDER BY id').all().map((row) => row.id);
}

export function getCustomerRow(db: ReadDb, id: number): CustomerRow | undefined {
  return db.prepare<[number], CustomerRow>('SELECT * FROM customers WHERE id = ?').get(id);
}

export function findCustomerByIndex(db: ReadDb, nameIndex: Buffer): CustomerRow | undefined {
  return db.prepare<[Buffer], CustomerRow>('SELECT * FROM customers WHERE name_index = ?').get(nameIndex);
}

export function insertCustomer(db: WriteDb, row: Pick<CustomerRow, 'uid' | 'sealed_name' | 'name_index' | 'created_at'>): number {
  const result = db.prepare('INSERT INTO customers (uid, sealed_name, name_index, created_at) VALUES (?, ?, ?, ?)').run(row.uid, row.sealed_name, row.name_index, row.created_at);
  return Number(result.lastInsertRowid);
}

export function setCustomerSealedName(db: WriteDb, id: number, sealed: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE customers SET sealed_name = ? WHERE id = ?').run(sealed, id);
}

/** How many entries of the given groups each customer has. */
export function countEntriesByCustomer(db: ReadDb, groupIds: readonly number[]): Map<number, number> {
  if (groupIds.length === 0) return new Map();
  const marks = groupIds.map(() => '?').join(', ');
  const rows = db.prepare<number[], { customer_id: number; n: number }>(`SELECT customer_id, count(*) AS n FROM entries WHERE group_id IN (${marks}) AND deleted_at IS NULL GROUP BY customer_id`).all(...groupIds);
  return new Map(rows.map((r) => [r.customer_id, r.n]));
}

/** A customer's name sealed again with its keyed index (a directory key rotation). */
export function resealCustomerName(db: WriteDb, id: number, sealed: Buffer, nameIndex: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE customers SET sealed_name = ?, name_index = ? WHERE id = ?').run(sealed, nameIndex, id);
}
