/**
 * Schema 31: the signed records that moved entries between groups, kept for desktops that did not
 * see them (SECURITY.md Known limits, the missed move; docs/SYNC.md "A move a desktop did not
 * see"). The server keeps only an entry's newest record: a desktop that synced neither an entry's
 * move nor the change after it judged that change against the group it last saw the entry in, and
 * set aside for good a delete or an edit by someone who holds only the group it went to.
 * `sync_entry_moves` holds, per entry, the records that changed its group (as pushed, signed,
 * sealed under the new group's keys) at their sequence, a few per entry (server/store/entry-moves.ts);
 * a pull hands those before the entry's record it hands. Filled from the moves
 * schema 27 kept for members who lost an entry (the desktop checks each record: one that is not a
 * move of that entry moves nothing).
 * Must never: change a stored record, or keep a record of an entry other than one that moved it.
 */
export const migration0031 = {
  version: 31,
  name: 'entry-moves',
  sql: `
CREATE TABLE IF NOT EXISTS sync_entry_moves (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  record_id text NOT NULL,
  seq bigint NOT NULL,
  from_group text NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (vault_id, record_id, seq)
);
INSERT INTO sync_entry_moves (vault_id, record_id, seq, from_group, body)
  SELECT vault_id, record_id, seq, from_group, body FROM sync_left_reach WHERE body IS NOT NULL
ON CONFLICT DO NOTHING;
`,
} as const;
