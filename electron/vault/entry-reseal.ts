/**
 * The one path that seals a stored entry again: a move to another group, a group key rotation,
 * and the global-id re-seal (id-seals.ts) all open it under the key that sealed it and seal it
 * under the key it goes to, in the caller's write transaction. The summary names its customer
 * by global id afterwards. Must never change what the entry says.
 */
import type { WriteDb } from './db';
import { pageItem, type PageItem } from './entry-pages';
import { uidText } from './ids';
import { entryLookup, type GroupKey } from './keys';
import { openDetails, openSummary, sealDetails, sealSummary } from './sealed-entry';
import { updateEntryRow, type EntryRow } from './store-entries';

/** Where the entry goes: a group (its own, or a move's target) and that group's current key. */
export interface ResealTarget {
  readonly groupId: number;
  readonly key: GroupKey;
}

/** Returns the entry's list line for the target group's pages. */
export function resealEntry(db: WriteDb, row: EntryRow, from: GroupKey, to: ResealTarget, customerName: string, updatedAt: number): PageItem {
  const summary = { ...openSummary(row, from), c: uidText(row.customer_uid) };
  const details = openDetails(row, from);
  updateEntryRow(db, {
    id: row.id,
    customer_id: row.customer_id,
    group_id: to.groupId,
    key_version: to.key.version,
    lookup: entryLookup(to.key, customerName, summary.t),
    sealed_summary: sealSummary(row, to.key, summary),
    sealed_details: sealDetails(row, to.key, details),
    updated_at: updatedAt,
  });
  return pageItem(row.id, row.customer_id, summary, updatedAt);
}
