/**
 * SQL for the records that moved entries between groups (schema 31; docs/SYNC.md "A move a
 * desktop did not see"): written when a push stores an entry record in another group than the one
 * the server held it in, read by a pull that hands the entry's newer record (every move kept, whatever the
 * pull's cursor: a desktop's cursor may have passed a move on an earlier page, or an earlier sync,
 * on which nothing of that entry was left to hand). Only this file reads or writes `sync_entry_moves`.
 * Must never: hold more of an entry than the records that moved it (as pushed), or more than
 * MOVES_KEPT of one entry (a desktop behind them all judges as before: the change set aside).
 */
import { int, text, type Queryable, type Transaction } from './db';

/** How many of an entry's moves are kept: a desktop that missed more judges the change after them as before (set aside). */
export const MOVES_KEPT = 8;

/** The entry `recordId` moved out of `fromGroup` by `body`, the record stored at `seq`; the oldest past MOVES_KEPT go. */
export async function putEntryMove(tx: Transaction, vaultId: string, recordId: string, fromGroup: string, seq: number, body: string): Promise<void> {
  await tx.query(
    `INSERT INTO sync_entry_moves (vault_id, record_id, seq, from_group, body) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (vault_id, record_id, seq) DO UPDATE SET from_group = excluded.from_group, body = excluded.body`,
    [vaultId, recordId, seq, fromGroup, body],
  );
  await tx.query(
    `DELETE FROM sync_entry_moves WHERE vault_id = $1 AND record_id = $2 AND seq < (
       SELECT min(seq) FROM (SELECT seq FROM sync_entry_moves WHERE vault_id = $1 AND record_id = $2 ORDER BY seq DESC LIMIT $3) kept)`,
    [vaultId, recordId, MOVES_KEPT],
  );
}

/** A kept move: the entry's id, the sequence it was stored at, the group it left and the record (JSON text, as pushed). */
export interface EntryMove {
  readonly recordId: string;
  readonly seq: number;
  readonly fromGroup: string;
  readonly body: string;
}

/** The moves kept of `recordIds`, in sequence order (the caller keeps those before each entry's record it hands). */
export async function entryMovesOf(db: Queryable, vaultId: string, recordIds: readonly string[]): Promise<EntryMove[]> {
  if (recordIds.length === 0) return [];
  const rows = await db.query(
    `SELECT record_id, seq, from_group, body::text AS body FROM sync_entry_moves
     WHERE vault_id = $1 AND record_id = ANY($2::text[]) ORDER BY record_id, seq`,
    [vaultId, [...recordIds]],
  );
  return rows.map((row) => ({ recordId: text(row, 'record_id'), seq: int(row, 'seq'), fromGroup: text(row, 'from_group'), body: text(row, 'body') }));
}
