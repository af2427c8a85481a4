/**
 * SQL for entries that left a group (schema 25, review 13b hole 4; schema 27, review 14 hole 1):
 * written when a push moves an entry out of a group, with the signed record that moved it, read
 * by a pull of that group's members. Only this file reads or writes `sync_left_reach`.
 * Must never: hand a person anything of an entry they were not in reach of (a group they did not
 * hold when it left), or hold more of an entry than its id, the group it left and the record
 * that took it out.
 */
import { text, textOrNull, type Queryable, type Row, type Transaction } from './db';

/** The entry `recordId` left `fromGroup` by `body`, the record stored at `seq` (a later move out of the same group replaces it). */
export async function putLeftReach(tx: Transaction, vaultId: string, recordId: string, fromGroup: string, seq: number, body: string): Promise<void> {
  await tx.query(
    `INSERT INTO sync_left_reach (vault_id, record_id, from_group, seq, body) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (vault_id, record_id, from_group) DO UPDATE SET seq = excluded.seq, body = excluded.body`,
    [vaultId, recordId, fromGroup, seq, body],
  );
}

/**
 * The rows of entries that left, after `since` and up to `upTo`, a group `vaultUser` holds now and
 * held before the entry left it (joined_seq below the move's sequence). An entry in one of their
 * groups again is not told (its record, at a later sequence, is handed them as any other): a
 * desktop never drops what the same pull brings. Reads sync_records' group column for that alone.
 */
function leftReachRows(db: Queryable, vaultId: string, vaultUser: string, since: number, upTo: number, columns: string): Promise<Row[]> {
  return db.query(
    `SELECT ${columns} FROM sync_left_reach l
       JOIN sync_members m ON m.vault_id = l.vault_id AND m.group_id = l.from_group AND m.vault_user = $2 AND m.joined_seq < l.seq
     WHERE l.vault_id = $1 AND l.seq > $3 AND l.seq <= $4
       AND NOT EXISTS (SELECT 1 FROM sync_records r JOIN sync_members h ON h.vault_id = r.vault_id AND h.group_id = r.body->>'group' AND h.vault_user = $2
                       WHERE r.vault_id = $1 AND r.record_id = l.record_id AND r.kind = 'entry')
     ORDER BY l.record_id, l.seq`,
    [vaultId, vaultUser, since, upTo],
  );
}

/** The ids alone of the entries leftReachRows finds, each once (schema 25: what a desktop asking `left` is handed). */
export async function leftReachOf(db: Queryable, vaultId: string, vaultUser: string, since: number, upTo: number): Promise<string[]> {
  if (upTo <= since) return [];
  const rows = await leftReachRows(db, vaultId, vaultUser, since, upTo, 'DISTINCT ON (l.record_id) l.record_id, l.seq');
  return rows.map((row) => text(row, 'record_id'));
}

/**
 * The records that took those entries out (schema 27: what a desktop asking `leftRecords` is
 * handed), as their authors pushed them (JSON text), one for each group of the person's the entry
 * left; a note from before schema 27 that found no record to keep hands nothing.
 */
export async function leftReachRecordsOf(db: Queryable, vaultId: string, vaultUser: string, since: number, upTo: number): Promise<string[]> {
  if (upTo <= since) return [];
  const rows = await leftReachRows(db, vaultId, vaultUser, since, upTo, 'l.record_id, l.seq, l.body::text AS body');
  return rows.flatMap((row) => { const body = textOrNull(row, 'body'); return body === null ? [] : [body]; });
}
