/**
 * Schema 29: a push may name the sequence its desktop's pulls reached (`pulled`, review R1;
 * docs/SYNC.md "Key rotation"), and a push that moves a group to a new key version is refused
 * while an entry stored after that sequence is still live in the group under an older version
 * (server/sync/records.ts strayEntriesOf). A desktop sends the field only to a server of this
 * schema or later (an older one refuses a field it does not take). The index finds a group's
 * entries without a walk of the vault's records (store/sync.ts entriesLeftUnder).
 * Made "if not exists": a database set back to an older schema number (a test of an older
 * server's leftovers, code-seals-follow-records) runs it again.
 * Must never: change a stored record.
 */
export const migration0029 = {
  version: 29,
  name: 'entries-by-group',
  sql: `
CREATE INDEX IF NOT EXISTS sync_records_entries_by_group ON sync_records (vault_id, (body->>'group'), seq) WHERE kind = 'entry';
`,
} as const;
