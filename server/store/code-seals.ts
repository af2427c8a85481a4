/**
 * When the server stops holding an entry's sealed OTP key (schemas 15, 16, 28; docs/SYNC.md
 * "Server-computed codes"): it holds one only while the entry is live in a group whose codes it
 * computes. The change that ends that drops the seal in its own transaction, through this file:
 * an entry moved to another group or deleted (a push's stored record), a group deleted or turned
 * off (its record). Schema 28 drops what older servers left behind. With store/codes.ts, the
 * only file that writes `server_code_keys` and `server_code_groups`.
 * Must never: keep a seal past the change that ended it, or drop one of an entry still live in
 * the group it was sealed for while the server computes that group's codes.
 */
import type { AuditEvent } from '../audit';
import { text, type Transaction } from './db';
import { apartFromRecords } from './records-in-line';

/** An entry as a push leaves it: the group its stored record names, null for a tombstone. */
export interface EntryPlace {
  readonly entry: string;
  readonly group: string | null;
}

/** What ends seals: entries that left a group (moved or deleted), and groups deleted or turned off. */
export interface SealEnds {
  readonly entries: readonly EntryPlace[];
  readonly groups: readonly string[];
}

/**
 * One statement ($1 the vault; $2, $3 each entry and the group it is now in, null for a tombstone;
 * $4 the groups that ended): an entry's seal for any other group than its own, and every seal of an
 * ended group with the group's setting. Reads and writes no record (a push's own wait in
 * records-in-line.ts: the places come from the records it stores), so a batch's records need not be
 * written first. An entry named is left to the first DELETE (one statement deletes a row once).
 */
const DROP_ENDED_SQL = apartFromRecords(`WITH left_group AS (
       DELETE FROM server_code_keys k USING unnest($2::text[], $3::text[]) AS e(entry_id, group_id)
       WHERE k.vault_id = $1 AND k.entry_id = e.entry_id AND k.group_id IS DISTINCT FROM e.group_id
       RETURNING k.entry_id, k.group_id
     ), group_ended AS (
       DELETE FROM server_code_keys k WHERE k.vault_id = $1 AND k.group_id = ANY($4::text[]) AND NOT (k.entry_id = ANY($2::text[]))
       RETURNING k.entry_id, k.group_id
     ), setting_ended AS (
       DELETE FROM server_code_groups s WHERE s.vault_id = $1 AND s.group_id = ANY($4::text[]) RETURNING s.group_id
     )
     SELECT entry_id, group_id, 'entry' AS ended FROM left_group
     UNION ALL SELECT entry_id, group_id, 'group' FROM group_ended
     UNION ALL SELECT NULL, group_id, 'setting' FROM setting_ended`);

/**
 * Drops the seals `ends` ends, in the caller's transaction; returns the audit events of what went
 * (each entry's seal by its entry; each ended group's by their number), for the caller to append
 * with the change. Makes no round trip when there is nothing to end.
 */
export async function dropEndedSeals(tx: Transaction, vaultId: string, ends: SealEnds, actor: { readonly id: string; readonly source: string }): Promise<AuditEvent[]> {
  if (ends.entries.length === 0 && ends.groups.length === 0) return [];
  const rows = await tx.query(DROP_ENDED_SQL, [vaultId, ends.entries.map((e) => e.entry), ends.entries.map((e) => e.group), [...new Set(ends.groups)]]);
  const events: AuditEvent[] = [];
  const keysOfGroup = new Map<string, number>();
  for (const row of rows) {
    if (row.ended === 'entry') events.push({ kind: 'codes.key-removed', actorId: actor.id, source: actor.source, detail: { vault: vaultId, entry: text(row, 'entry_id') } });
    else if (row.ended === 'group') keysOfGroup.set(text(row, 'group_id'), (keysOfGroup.get(text(row, 'group_id')) ?? 0) + 1);
  }
  for (const [group, keys] of keysOfGroup) events.push({ kind: 'codes.key-removed', actorId: actor.id, source: actor.source, detail: { vault: vaultId, group, keys } });
  return events;
}
