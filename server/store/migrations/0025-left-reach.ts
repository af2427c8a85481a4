/**
 * Schema 25: an entry that left a group, told to that group's members (review 13b, hole 4;
 * docs/SYNC.md "An entry crossing the edge of a person's reach"). The server keeps only an
 * object's newest record, so once an entry moves from group A to group B nothing said "it was in
 * A": a member of A alone was handed nothing of the move and kept the entry for good.
 * sync_left_reach holds, per entry and group it left, the sequence of the record that moved it;
 * a pull of a member of that group (who held the group before that sequence: sync_members.joined_seq)
 * is handed the entry's id alone. joined_seq is the vault's sequence when the membership was made
 * (0 for those made before this schema: they are taken as held from the start).
 * Must never: change a stored record, or hold anything of an entry but its id and the group it left.
 */
export const migration0025 = {
  version: 25,
  name: 'left-reach',
  sql: `
CREATE TABLE sync_left_reach (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  record_id text NOT NULL,
  from_group text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (vault_id, record_id, from_group)
);
CREATE INDEX sync_left_reach_by_seq ON sync_left_reach (vault_id, seq);
ALTER TABLE sync_members ADD COLUMN joined_seq bigint NOT NULL DEFAULT 0;
`,
} as const;
