/**
 * Schema 10's second half: what was sealed by row id (crypto.ts format 1) is sealed again by
 * global id (format 2), so a seal means the same on every desktop and on a team server.
 * An owner holds every key that sealed the shared content — every group's keys, the directory
 * key and its history — and re-seals entries and names at sign-in (VaultSession.finishGlobalIds).
 * What is one person's — their private key, the key wraps they hold, their authenticator's key —
 * is re-sealed at that person's own sign-in, after it opens (vault.ts, own-wraps.ts,
 * MfaService.resealByGlobalId).
 * Audit details stay as written: each row's hash covers its sealed detail, and re-sealing it
 * would rewrite the chain that proves the log was not rewritten. Their row ids never change.
 * Must never change what anything says, nor leave a row half re-sealed (one transaction).
 */
import { open, seal, sealedByRowId, SEAL_FORMAT_AT, sealJson, openJson, tampered, WRAP_FORMAT_AT } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { directoryKeyFor } from './directory';
import { resealEntry } from './entry-reseal';
import { contexts, type KeyRing } from './keys';
import { getMeta, setMeta } from './store-meta';
import { listCustomerRows, setCustomerSealedName } from './store-customers';
import { getDirectoryHistory, replaceDirectoryHistory } from './store-directory';
import { countRowIdSeals } from './store-ids';
import { listEntryRowsInGroups } from './store-entries';
import { listGroups, setGroupSealedName } from './store-groups';

/** Where seals by row id can remain, and where in each blob the format byte is. */
const SEALED_COLUMNS = [
  { table: 'users', column: 'sealed_private_key', at: SEAL_FORMAT_AT },
  { table: 'users', column: 'mfa_sealed_secret', at: SEAL_FORMAT_AT },
  { table: 'users', column: 'mfa_pending_secret', at: SEAL_FORMAT_AT },
  { table: 'mfa_key_wraps', column: 'wrapped_key', at: WRAP_FORMAT_AT },
  { table: 'directory_keys', column: 'wrapped_key', at: WRAP_FORMAT_AT },
  { table: 'directory_history', column: 'sealed_key', at: SEAL_FORMAT_AT },
  { table: 'access_groups', column: 'sealed_name', at: SEAL_FORMAT_AT },
  { table: 'group_keys', column: 'wrapped_key', at: WRAP_FORMAT_AT },
  { table: 'group_keys', column: 'wrapped_secret_key', at: WRAP_FORMAT_AT },
  { table: 'customers', column: 'sealed_name', at: SEAL_FORMAT_AT },
  { table: 'entries', column: 'sealed_summary', at: SEAL_FORMAT_AT },
  { table: 'entries', column: 'sealed_details', at: SEAL_FORMAT_AT },
] as const;

/** How many seals by row id are left, per "table.column" (audit details aside, see above). */
export function rowIdSealCounts(db: ReadDb): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sealed of SEALED_COLUMNS) counts[`${sealed.table}.${sealed.column}`] = countRowIdSeals(db, sealed);
  return counts;
}

const PASS_KEY = 'row_id_seals';

/** Whether an owner's re-seal may still have work (set by schema 10's migration; cleared when done). */
export function ownerResealPending(db: ReadDb): boolean {
  return getMeta(db, PASS_KEY) === 'pending';
}

export function markOwnerResealPending(db: WriteDb): void {
  setMeta(db, PASS_KEY, 'pending');
}

export interface ResealCount {
  readonly entries: number;
  readonly names: number;
  readonly keys: number;
}

/**
 * The owner's pass, in the caller's write transaction: entries, customer and group names, and
 * the directory history — content, sealed under keys the owner holds. Key wraps are not
 * touched here: each is re-sealed by the person it is for, after it opens (own-wraps.ts), so no
 * row in the file can get anyone a key. The pass is marked done when no such content is left.
 */
export function resealSharedByGlobalId(db: WriteDb, ring: KeyRing, customerName: (customerId: number) => string): ResealCount {
  let entries = 0;
  let names = 0;
  let keys = 0;
  for (const [groupId, key] of ring.groups) {
    for (const row of listEntryRowsInGroups(db, [groupId])) {
      if (!sealedByRowId(row.sealed_summary) && !sealedByRowId(row.sealed_details)) continue;
      if (row.key_version !== key.version || !key.secret) continue;
      resealEntry(db, row, key, { groupId, key }, customerName(row.customer_id), row.updated_at);
      entries++;
    }
  }
  for (const row of listCustomerRows(db)) {
    if (!sealedByRowId(row.sealed_name)) continue;
    const name = openJson(ring.directoryKey, row.sealed_name, contexts.customerName(row));
    if (typeof name !== 'string') throw tampered();
    setCustomerSealedName(db, row.id, sealJson(ring.directoryKey, name, contexts.customerName(row)));
    names++;
  }
  for (const row of listGroups(db)) {
    if (!sealedByRowId(row.sealed_name)) continue;
    const name = openJson(ring.directoryKey, row.sealed_name, contexts.groupName(row));
    if (typeof name !== 'string') throw tampered();
    setGroupSealedName(db, row.id, sealJson(ring.directoryKey, name, contexts.groupName(row)));
    names++;
  }
  for (let version = 1; version < ring.directoryVersion; version++) {
    const sealed = getDirectoryHistory(db, version);
    if (!sealed || !sealedByRowId(sealed)) continue;
    const under = directoryKeyFor(db, ring, version + 1);
    replaceDirectoryHistory(db, version, seal(under, open(under, sealed, contexts.directoryHistory(version)), contexts.directoryHistory(version)));
    keys++;
  }
  const left = rowIdSealCounts(db);
  const ownersPart = ['access_groups.sealed_name', 'customers.sealed_name', 'entries.sealed_summary', 'entries.sealed_details', 'directory_history.sealed_key'];
  if (ownersPart.every((k) => left[k] === 0)) setMeta(db, PASS_KEY, 'done');
  return { entries, names, keys };
}
