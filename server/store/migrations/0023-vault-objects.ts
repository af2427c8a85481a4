/**
 * Schema 23: custom roles, the vault settings and the MFA policy as records of a team vault (#15,
 * task 15, shared/sync/records.ts `role`, `settings`, `mfa_policy`): sync_records takes the three
 * kinds. A role record is read back by its id (vaultObjectId of its name) to judge its holders'
 * writes (server/store/membership.ts rolePermissionsOf), so it needs no table of its own.
 * Must never: change a stored record.
 */
export const migration0023 = {
  version: 23,
  name: 'vault-objects',
  sql: `
ALTER TABLE sync_records DROP CONSTRAINT sync_records_kind_check;
ALTER TABLE sync_records ADD CONSTRAINT sync_records_kind_check CHECK (kind IN ('customer', 'entry', 'signing_key', 'event', 'user', 'group', 'member', 'role', 'settings', 'mfa_policy'));
`,
} as const;
