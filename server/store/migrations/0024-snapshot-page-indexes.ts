/**
 * Schema 24: a snapshot page read as a walk of an index (#15, docs/SYNC.md "Speed" step 9). A
 * first sync reads a vault's records in sequence order, audit events apart from everything else
 * (server/store/sync.ts snapshotAfter); with only (vault_id, seq) the part was a filter the
 * planner could not see through, and PGlite (no statistics: it never analyzes) planned a later
 * page as a scan of the whole table and a sort. Each part now has its own index, partial on the
 * kind, in the very order a page is read, so page n costs what page 1 does.
 * Must never: change a stored record.
 */
export const migration0024 = {
  version: 24,
  name: 'snapshot-page-indexes',
  sql: `
CREATE INDEX sync_records_events_by_seq ON sync_records (vault_id, seq) WHERE kind = 'event';
CREATE INDEX sync_records_state_by_seq ON sync_records (vault_id, seq) WHERE kind <> 'event';
`,
} as const;
