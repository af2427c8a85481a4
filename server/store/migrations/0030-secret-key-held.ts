/**
 * Schema 30: the highest key version at which each member held each group's secret key
 * (`sync_secret_key_held`, finding D6; docs/SYNC.md "Server-computed codes"). A push split in parts
 * could take a member's secret key in one part and leave the rotation it demands to a later one,
 * or to none (taken, then given back list-only at the same version; the server-codes setting
 * turned off, re-wrapped, turned on again): a rule judged within one part saw no key taken. The
 * server now judges the state a push leaves against this table (server/codes/group-setting.ts),
 * written in the push's transaction whenever a membership with a secret half is stored
 * (server/store/membership.ts putMembership). Filled from the memberships held now.
 * Made "if not exists": a database set back to an older schema number (a test of an older
 * server's leftovers) runs it again.
 * Must never: hold a wrapped key, or change a membership.
 */
export const migration0030 = {
  version: 30,
  name: 'secret-key-held',
  sql: `
CREATE TABLE IF NOT EXISTS sync_secret_key_held (
  vault_id text NOT NULL,
  group_id text NOT NULL,
  vault_user text NOT NULL,
  key_version integer NOT NULL CHECK (key_version > 0),
  PRIMARY KEY (vault_id, group_id, vault_user)
);
INSERT INTO sync_secret_key_held (vault_id, group_id, vault_user, key_version)
  SELECT vault_id, group_id, vault_user, key_version FROM sync_members
  WHERE CASE WHEN wrapped LIKE '[%' THEN (wrapped::jsonb ->> 1) IS NOT NULL ELSE false END
ON CONFLICT (vault_id, group_id, vault_user) DO UPDATE SET key_version = GREATEST(sync_secret_key_held.key_version, excluded.key_version);
`,
} as const;
