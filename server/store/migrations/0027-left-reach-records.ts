/**
 * Schema 27: the signed record that took an entry out of a group, kept beside the note of it
 * (review round fourteen, hole 1; docs/SYNC.md "An entry crossing the edge of a person's reach").
 * Schema 25 told a group's members the ids alone of entries that left it, and a desktop dropped
 * each on the server's word: a dishonest server could take any entry off a member's desktop by
 * naming it. Now the record that moved it (as its author pushed it, signed, its sealed parts
 * sealed under the new group's keys) is kept in `body` and handed instead, for the desktop to
 * check as any record. A note made before this schema is given the entry's newest stored record
 * (the move itself, or a later change of it out of that group): the move's own was not kept.
 * Must never: change a stored record, or keep a record of an entry other than one that left the
 * group the row names.
 */
export const migration0027 = {
  version: 27,
  name: 'left-reach-records',
  sql: `
ALTER TABLE sync_left_reach ADD COLUMN body jsonb;
UPDATE sync_left_reach l SET body = r.body FROM sync_records r
  WHERE r.vault_id = l.vault_id AND r.record_id = l.record_id AND r.kind = 'entry' AND r.body->>'group' IS DISTINCT FROM l.from_group;
`,
} as const;
