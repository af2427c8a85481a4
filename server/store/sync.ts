/**
 * SQL for team vaults' records (schema 11). Only this file reads or writes `sync_vaults` and
 * `sync_records`. A record's body is stored as its desktop sent it (JSON); the columns beside
 * it are what the server orders and checks by.
 */
import { int, text, type Queryable, type Transaction } from './db';

/** The vault's row, locked for this transaction (pushes to one vault take turns); undefined when the server holds no such vault. */
export async function lockVault(tx: Transaction, vaultId: string): Promise<{ readonly seq: number } | undefined> {
  const [row] = await tx.query('SELECT seq FROM sync_vaults WHERE vault_id = $1 FOR UPDATE', [vaultId]);
  return row === undefined ? undefined : { seq: int(row, 'seq') };
}

export async function createVault(tx: Transaction, vaultId: string, userId: string, now: number): Promise<void> {
  await tx.query('INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ($1, 0, $2, $3)', [vaultId, userId, now]);
}

export async function vaultExists(db: Queryable, vaultId: string): Promise<boolean> {
  return (await vaultSeq(db, vaultId)) !== undefined;
}

/** The vault's sequence as stored now; undefined when the server holds no such vault. */
export async function vaultSeq(db: Queryable, vaultId: string): Promise<number | undefined> {
  const [row] = await db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vaultId]);
  return row === undefined ? undefined : int(row, 'seq');
}

export async function setVaultSeq(tx: Transaction, vaultId: string, seq: number): Promise<void> {
  await tx.query('UPDATE sync_vaults SET seq = $2 WHERE vault_id = $1', [vaultId, seq]);
}

/** The revisions the server holds for these objects (absent: never stored). */
export async function revisionsOf(tx: Transaction, vaultId: string, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query('SELECT record_id, revision FROM sync_records WHERE vault_id = $1 AND record_id = ANY($2::text[])', [vaultId, [...ids]]);
  return new Map(rows.map((row) => [text(row, 'record_id'), int(row, 'revision')]));
}

export interface StoredRecord {
  readonly id: string;
  readonly kind: string;
  readonly revision: number;
  readonly seq: number;
  readonly body: string;
}

/** Stores an object's newest record (a newer revision replaces the older, at a new sequence number). */
export async function putRecord(tx: Transaction, vaultId: string, record: StoredRecord, pushedBy: string): Promise<void> {
  await tx.query(
    `INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
     ON CONFLICT (vault_id, record_id) DO UPDATE SET revision = excluded.revision, seq = excluded.seq, pushed_by = excluded.pushed_by, body = excluded.body`,
    [vaultId, record.id, record.kind, record.revision, record.seq, pushedBy, record.body],
  );
}

/** Records stored after `since`, in sequence order, `limit` at most; the body as text (parsed by the caller). */
export async function recordsAfter(db: Queryable, vaultId: string, since: number, limit: number): Promise<Array<{ readonly seq: number; readonly body: string }>> {
  const rows = await db.query('SELECT seq, body::text AS body FROM sync_records WHERE vault_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [vaultId, since, limit]);
  return rows.map((row) => ({ seq: int(row, 'seq'), body: text(row, 'body') }));
}
