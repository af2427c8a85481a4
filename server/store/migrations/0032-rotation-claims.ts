/**
 * Schema 32: a key change being made, held for a moment (docs/SYNC.md "A key change held off by
 * writes"). A rotation refused because entries of its group (or its group record: a rename) were
 * stored after its desktop's pull (server/sync/records.ts strayEntriesOf, groupsChangedUnseen)
 * claims the group for a short while, on the group's own row (`claim_user`, `claim_version`,
 * `claim_until`), read with the group by the push path's one read of its groups (no query more a
 * push): until then, or until the group moves past that key version, the server refuses with BUSY
 * any other person's push writing a live entry into that group or its group record, so the
 * rotating desktop's next round (a pull and a push, at once) meets nothing new. Before, a member
 * writing there steadily (or a manager renaming it) held the key change off for as long as they
 * wrote, every sync of the rotating desktop ending BUSY.
 * Must never: hold a group past `claim_until`, nor hold off the claimant's own writes.
 */
export const migration0032 = {
  version: 32,
  name: 'rotation-claims',
  sql: `
ALTER TABLE sync_groups ADD COLUMN IF NOT EXISTS claim_user text;
ALTER TABLE sync_groups ADD COLUMN IF NOT EXISTS claim_version integer;
ALTER TABLE sync_groups ADD COLUMN IF NOT EXISTS claim_until bigint;
`,
} as const;
