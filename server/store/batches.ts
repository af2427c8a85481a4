/**
 * SQL for signed batches of record digests (schema 20, shared/sync/record-batches.ts). Only this
 * file reads or writes `sync_batches`. A batch is stored once, as its author pushed it (JSON text),
 * never changed: a desktop checks its signature over exactly those bytes' fields.
 * Must never: replace a stored batch.
 */
import { rowsByKeys } from './by-keys';
import { text, type Queryable, type Transaction } from './db';

/** The batches of $1 named by $2 (text[]), each by its key: exported for test/server/key-read-plans.test.ts. */
export const BATCHES_BY_ID_SQL = `SELECT b.batch_id, b.body FROM ${rowsByKeys({ table: 'sync_batches', key: 'batch_id', columns: 'batch_id, body', vault: '$1', keys: '$2::text[]', as: 'b' })}`;

/** The batches of `vaultId` named by `ids` that the server holds, by id, as stored (JSON text). */
export async function batchesOf(db: Queryable, vaultId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query(BATCHES_BY_ID_SQL, [vaultId, [...ids]]);
  return new Map(rows.map((row) => [text(row, 'batch_id'), text(row, 'body')]));
}

/** Stores each batch once (one held already, checked equal on push, stays as it was). */
export async function putBatches(tx: Transaction, vaultId: string, batches: ReadonlyArray<{ readonly id: string; readonly body: string }>): Promise<void> {
  if (batches.length === 0) return;
  await tx.query(batchesPutSql('$1', '$2', '$3'), [vaultId, batches.map((b) => b.id), batches.map((b) => b.body)]);
}

/** putBatches's statement, its placeholders given: the vault, the ids and the bodies (text[]); also a push batch's (records-in-line.ts). */
export function batchesPutSql(vault: string, ids: string, bodies: string): string {
  return `INSERT INTO sync_batches (vault_id, batch_id, body) SELECT ${vault}, b.id, b.body FROM unnest(${ids}::text[], ${bodies}::text[]) AS b(id, body)
     ON CONFLICT (vault_id, batch_id) DO NOTHING`;
}
