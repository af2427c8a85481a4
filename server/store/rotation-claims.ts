/**
 * SQL for a key change held for a moment (schema 32; docs/SYNC.md "A key change held off by
 * writes"): a rotation refused for entries stored after its desktop's pull claims its group until
 * `until`; meanwhile another person's push writing a live entry into it, or its group record (a
 * rename, a rotation, a deletion), is refused BUSY
 * (server/sync/records.ts). A claim counts only at the key version it was made at: the rotation
 * landing (or any other) ends it. Only this file reads or writes `sync_rotation_claims`.
 * Must never: hold off the claimant's own writes, or count a claim past `until`.
 */
import { text, type Queryable, type Transaction } from './db';

/** How long a refused rotation holds its groups: a desktop's next round (a pull, then the push again) comes at once. */
export const ROTATION_CLAIM_MS = 30_000;

/** `vaultUser`'s key changes of `groupIds` (refused: the groups still at the version the server holds), held until `until`. */
export async function claimRotations(tx: Transaction, vaultId: string, groupIds: readonly string[], vaultUser: string, until: number): Promise<void> {
  if (groupIds.length === 0) return;
  await tx.query(
    `INSERT INTO sync_rotation_claims (vault_id, group_id, key_version, vault_user, until)
       SELECT g.vault_id, g.group_id, g.key_version, $3, $4 FROM sync_groups g WHERE g.vault_id = $1 AND g.group_id = ANY($2::text[])
     ON CONFLICT (vault_id, group_id) DO UPDATE SET key_version = excluded.key_version, vault_user = excluded.vault_user, until = excluded.until`,
    [vaultId, [...groupIds], vaultUser, until],
  );
}

/** Of `groupIds`, those someone other than `vaultUser` holds for a key change now: claimed before `until`, at the key version the group still has. */
export async function groupsClaimedByOthers(db: Queryable, vaultId: string, groupIds: readonly string[], vaultUser: string | null, now: number): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db.query(
    `SELECT c.group_id FROM sync_rotation_claims c JOIN sync_groups g ON g.vault_id = c.vault_id AND g.group_id = c.group_id AND g.key_version = c.key_version
     WHERE c.vault_id = $1 AND c.group_id = ANY($2::text[]) AND c.until > $3 AND c.vault_user IS DISTINCT FROM $4`,
    [vaultId, [...groupIds], now, vaultUser],
  );
  return rows.map((row) => text(row, 'group_id'));
}
