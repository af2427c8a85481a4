/**
 * Schema 32: a key change being made, held for a moment (docs/SYNC.md "A key change held off by
 * writes"). A rotation refused because entries of its group were stored after its desktop's pull
 * (server/sync/records.ts strayEntriesOf) claims the group for a short while: until then, or until
 * the group moves past that key version, the server refuses with BUSY any other person's push
 * writing a live entry into that group, so the rotating desktop's next round (a pull and a push,
 * at once) meets no new entry under the old key. Before, a member writing there steadily held the
 * key change off for as long as they wrote, every sync of the rotating desktop ending BUSY.
 * Must never: hold a group past `until`, nor hold off the claimant's own writes.
 */
export const migration0032 = {
  version: 32,
  name: 'rotation-claims',
  sql: `
CREATE TABLE IF NOT EXISTS sync_rotation_claims (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  group_id text NOT NULL,
  key_version integer NOT NULL,
  vault_user text NOT NULL,
  until bigint NOT NULL,
  PRIMARY KEY (vault_id, group_id)
);
`,
} as const;
