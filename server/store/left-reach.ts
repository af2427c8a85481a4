/**
 * SQL for entries that left a group (schema 25, review 13b hole 4): written when a push moves an
 * entry out of a group, read by a pull of that group's members. Only this file reads or writes
 * `sync_left_reach`.
 * Must never: hand a person an id of an entry they were not in reach of (a group they did not
 * hold when it left), or hold more of an entry than its id and the group it left.
 */
import { text, type Queryable, type Transaction } from './db';

/** The entry `recordId` left `fromGroup` by the record stored at `seq` (a later move out of the same group replaces it). */
export async function putLeftReach(tx: Transaction, vaultId: string, recordId: string, fromGroup: string, seq: number): Promise<void> {
  await tx.query(
    `INSERT INTO sync_left_reach (vault_id, record_id, from_group, seq) VALUES ($1, $2, $3, $4)
     ON CONFLICT (vault_id, record_id, from_group) DO UPDATE SET seq = excluded.seq`,
    [vaultId, recordId, fromGroup, seq],
  );
}

/**
 * The ids of entries that left, after `since` and up to `upTo`, a group `vaultUser` holds now and
 * held before the entry left it (joined_seq below the move's sequence). An entry in one of their
 * groups again is not told (its record, at a later sequence, is handed them as any other): a
 * desktop never drops what the same pull brings. Reads sync_records' group column for that alone.
 */
export async function leftReachOf(db: Queryable, vaultId: string, vaultUser: string, since: number, upTo: number): Promise<string[]> {
  if (upTo <= since) return [];
  const rows = await db.query(
    `SELECT DISTINCT ON (l.record_id) l.record_id, l.seq FROM sync_left_reach l
       JOIN sync_members m ON m.vault_id = l.vault_id AND m.group_id = l.from_group AND m.vault_user = $2 AND m.joined_seq < l.seq
     WHERE l.vault_id = $1 AND l.seq > $3 AND l.seq <= $4
       AND NOT EXISTS (SELECT 1 FROM sync_records r JOIN sync_members h ON h.vault_id = r.vault_id AND h.group_id = r.body->>'group' AND h.vault_user = $2
                       WHERE r.vault_id = $1 AND r.record_id = l.record_id AND r.kind = 'entry')
     ORDER BY l.record_id, l.seq`,
    [vaultId, vaultUser, since, upTo],
  );
  return rows.map((row) => text(row, 'record_id'));
}
