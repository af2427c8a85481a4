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

/** A kept move: the entry's id, the sequence it was stored at, the group it left, whether the person pulling held that group before it left, and the record (JSON text, as pushed). */
export interface EntryMove {
  readonly recordId: string;
  readonly seq: number;
  readonly fromGroup: string;
  readonly fromHeldBefore: boolean;
  readonly body: string;
}

/**
 * The moves kept of `recordIds`, in sequence order (the caller keeps those before each entry's record it hands).
 * `fromHeldBefore`: `vaultUser` (null: nobody) holds the group the entry left by a membership made before it left
 * (joined_seq, as left-reach.ts asks): one who joined it since never held the entry there, and the move would tell
 * them a group it went to that they may never have held.
 */
export async function entryMovesOf(db: Queryable, vaultId: string, recordIds: readonly string[], vaultUser: string | null): Promise<EntryMove[]> {
  if (recordIds.length === 0) return [];
  const rows = await db.query(
    `SELECT e.record_id, e.seq, e.from_group, e.body::text AS body,
            EXISTS (SELECT 1 FROM sync_members m WHERE m.vault_id = e.vault_id AND m.group_id = e.from_group AND m.vault_user = $3 AND m.joined_seq < e.seq) AS from_held_before
       FROM sync_entry_moves e
     WHERE e.vault_id = $1 AND e.record_id = ANY($2::text[]) ORDER BY e.record_id, e.seq`,
    [vaultId, [...recordIds], vaultUser],
  );
  return rows.map((row) => ({
    recordId: text(row, 'record_id'), seq: int(row, 'seq'), fromGroup: text(row, 'from_group'), fromHeldBefore: row.from_held_before === true, body: text(row, 'body'),
  }));
}
