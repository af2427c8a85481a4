/** Customers: a sealed name and its keyed index. */
import type { ReadDb, WriteDb } from './db';

export interface CustomerRow {
  readonly id: number;
  readonly sealed_name: Buffer;
  readonly name_index: Buffer;
  readonly created_at: number;
}

export function listCustomerRows(db: ReadDb): CustomerRow[] {
  return db.prepare<[], CustomerRow>('SELECT * FROM customers ORDER BY id').all();
}

export function getCustomerRow(db: ReadDb, id: number): CustomerRow | undefined {
  return db.prepare<[number], CustomerRow>('SELECT * FROM customers WHERE id = ?').get(id);
}

export function findCustomerByIndex(db: ReadDb, nameIndex: Buffer): CustomerRow | undefined {
  return db.prepare<[Buffer], CustomerRow>('SELECT * FROM customers WHERE name_index = ?').get(nameIndex);
}

export function insertCustomer(db: WriteDb, nameIndex: Buffer, createdAt: number): number {
  const result = db.prepare('INSERT INTO customers (sealed_name, name_index, created_at) VALUES (?, ?, ?)').run(Buffer.alloc(0), nameIndex, createdAt);
  return Number(result.lastInsertRowid);
}

export function setCustomerSealedName(db: WriteDb, id: number, sealed: Buffer): void {
  db.prepare('UPDATE customers SET sealed_name = ? WHERE id = ?').run(sealed, id);
}

/** Removes customers no entry refers to any more. */
export function deleteEmptyCustomers(db: WriteDb): void {
  db.prepare('DELETE FROM customers WHERE NOT EXISTS (SELECT 1 FROM entries WHERE entries.customer_id = customers.id)').run();
}
