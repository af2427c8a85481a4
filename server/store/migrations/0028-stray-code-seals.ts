/**
 * Schema 28: sealed OTP keys left behind by older servers are dropped (review D3; docs/SYNC.md
 * "Server-computed codes"). A server before it kept an entry's seal after the entry moved to
 * another group or was deleted, and a deleted group's seals and setting; it now drops them with
 * the change (store/code-seals.ts). This drops every seal of an entry not live in the group it was
 * sealed for, or of a group deleted or not set to "server computes codes", and the setting of every
 * deleted group. None of them was ever opened (store/codes.ts lookUpCodesLockingAudit asks for all
 * of that), so no answer changes; a key holder's desktop seals again an entry that comes back. Not
 * audited: the audit is signed with the server's key, which a migration does not hold.
 * Must never: drop a seal of an entry live in its group while the server computes that group's codes.
 */
export const migration0028 = {
  version: 28,
  name: 'stray-code-seals',
  sql: `
DELETE FROM server_code_keys k WHERE NOT EXISTS (
  SELECT 1 FROM sync_records r
  JOIN sync_groups g ON g.vault_id = r.vault_id AND g.group_id = r.body->>'group' AND NOT g.deleted
  JOIN server_code_groups s ON s.vault_id = g.vault_id AND s.group_id = g.group_id
  WHERE r.vault_id = k.vault_id AND r.record_id = k.entry_id AND r.kind = 'entry' AND r.body->'deletedAt' = 'null'::jsonb AND r.body->>'group' = k.group_id
);
DELETE FROM server_code_groups s USING sync_groups g WHERE g.vault_id = s.vault_id AND g.group_id = s.group_id AND g.deleted;
`,
} as const;
