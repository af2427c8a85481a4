/**
 * SQL for a vault's history marks (schema 26, migrations/0026-history-marks.ts): one random value
 * at the sequence each push transaction ended on, written with the sequence's move
 * (sync.ts setVaultSeq). A cursor's mark is the first at or after it: the transaction that cursor
 * falls in. Only this file and setVaultSeq read or write `sync_history_marks`.
 * Must never: derive a mark from what was stored. A mark is written again only when a transaction
 * ends at its sequence anew (the rows after a restored copy are gone): the history there changed.
 */
import { randomBytes } from 'node:crypto';
import { int, text, type Queryable } from './db';

/** A vault's history mark: the sequence it was written at and its value. */
export interface HistoryMark {
  readonly seq: number;
  readonly value: string;
}

/** A fresh mark's value: 16 random bytes, base64url. */
export function newHistoryMark(): string {
  return randomBytes(16).toString('base64url');
}

/** The mark of the transaction `seq` falls in (the first at or after it), or undefined when none is there (past the head, or an empty vault). */
export async function historyMarkAt(db: Queryable, vaultId: string, seq: number): Promise<HistoryMark | undefined> {
  const [row] = await db.query('SELECT seq, mark FROM sync_history_marks WHERE vault_id = $1 AND seq >= $2 ORDER BY seq LIMIT 1', [vaultId, seq]);
  return row === undefined ? undefined : { seq: int(row, 'seq'), value: text(row, 'mark') };
}
