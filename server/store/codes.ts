/**
 * SQL for server-computed codes (schema 15). Only this file reads or writes `server_code_keys`
 * and `code_throttle`. Sealed keys are stored as the desktop sealed them (base64url); the
 * throttle counts a whole batch of requests in one statement.
 */
import { int, text, type Queryable, type Transaction } from './db';

export interface SealedCodeRow {
  readonly entry: string;
  readonly group: string;
  readonly keyVersion: number;
  readonly sealed: string;
}

/** The sealed key the server holds for an entry; undefined when none. */
export async function findSealedCode(db: Queryable, vaultId: string, entryId: string): Promise<SealedCodeRow | undefined> {
  const [row] = await db.query('SELECT group_id, key_version, sealed FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2', [vaultId, entryId]);
  return row === undefined ? undefined : { entry: entryId, group: text(row, 'group_id'), keyVersion: int(row, 'key_version'), sealed: text(row, 'sealed') };
}

/**
 * The sealed key to compute a code with: only while the entry is live on the server and still in
 * the group the key was sealed for (a deleted or moved entry's key computes nothing, even before
 * a desktop's tombstone reaches the server). One statement: this is read at every code.
 */
export async function findLiveSealedCode(db: Queryable, vaultId: string, entryId: string): Promise<SealedCodeRow | undefined> {
  const [row] = await db.query(
    `SELECT k.group_id, k.key_version, k.sealed FROM server_code_keys k
     JOIN sync_records r ON r.vault_id = k.vault_id AND r.record_id = k.entry_id AND r.kind = 'entry'
       AND r.body->'deletedAt' = 'null'::jsonb AND r.body->>'group' = k.group_id
     WHERE k.vault_id = $1 AND k.entry_id = $2`,
    [vaultId, entryId],
  );
  return row === undefined ? undefined : { entry: entryId, group: text(row, 'group_id'), keyVersion: int(row, 'key_version'), sealed: text(row, 'sealed') };
}

export async function putSealedCode(tx: Transaction, vaultId: string, row: SealedCodeRow, sealedBy: string, now: number): Promise<void> {
  await tx.query(
    `INSERT INTO server_code_keys (vault_id, entry_id, group_id, key_version, sealed, sealed_by, sealed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (vault_id, entry_id) DO UPDATE SET group_id = excluded.group_id, key_version = excluded.key_version, sealed = excluded.sealed,
       sealed_by = excluded.sealed_by, sealed_at = excluded.sealed_at`,
    [vaultId, row.entry, row.group, row.keyVersion, row.sealed, sealedBy, now],
  );
}

/** True when there was one to delete. */
export async function deleteSealedCode(tx: Transaction, vaultId: string, entryId: string): Promise<boolean> {
  return (await tx.query('DELETE FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2 RETURNING entry_id', [vaultId, entryId])).length === 1;
}

/** Deletes every sealed key of a group; how many there were. */
export async function deleteSealedCodesOfGroup(tx: Transaction, vaultId: string, groupId: string): Promise<number> {
  return (await tx.query('DELETE FROM server_code_keys WHERE vault_id = $1 AND group_id = $2 RETURNING entry_id', [vaultId, groupId])).length;
}

/** The group and key version of an entry as the server holds its newest record; undefined: no such entry, or a tombstone. */
export async function entryPlacement(db: Queryable, vaultId: string, entryId: string): Promise<{ readonly group: string; readonly keyVersion: number } | undefined> {
  const [row] = await db.query(
    `SELECT body->>'group' AS group_id, (body->>'keyVersion')::int AS key_version FROM sync_records
     WHERE vault_id = $1 AND record_id = $2 AND kind = 'entry' AND body->'deletedAt' = 'null'::jsonb`,
    [vaultId, entryId],
  );
  return row === undefined ? undefined : { group: text(row, 'group_id'), keyVersion: int(row, 'key_version') };
}

export interface ThrottleCount {
  readonly actor: string;
  readonly key: string;
  /**
   * The window this count is for (a time step, a minute): a newer window than the stored one starts
   * the count again; an older one (a process whose clock is behind) counts in the stored, newer one.
   */
  readonly window: number;
  /** How many this batch adds. */
  readonly add: number;
}

/**
 * Adds each count (one row per actor and key, each at most once in `counts`) and returns the totals,
 * keyed `actor|key`. The stored window only moves forward: two server processes whose clocks straddle
 * a step (or a minute) would otherwise reset each other's count back and forth, each batch from zero.
 */
export async function addThrottleCounts(tx: Transaction, counts: readonly ThrottleCount[]): Promise<Map<string, number>> {
  if (counts.length === 0) return new Map();
  const rows = await tx.query(
    `INSERT INTO code_throttle (actor, key, window_start, count)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[])
     ON CONFLICT (actor, key) DO UPDATE SET
       count = CASE WHEN code_throttle.window_start >= excluded.window_start THEN code_throttle.count + excluded.count ELSE excluded.count END,
       window_start = GREATEST(code_throttle.window_start, excluded.window_start)
     RETURNING actor, key, count`,
    [counts.map((c) => c.actor), counts.map((c) => c.key), counts.map((c) => c.window), counts.map((c) => c.add)],
  );
  return new Map(rows.map((row) => [`${text(row, 'actor')}|${text(row, 'key')}`, int(row, 'count')]));
}
