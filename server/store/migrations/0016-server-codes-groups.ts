/**
 * Schema 16: which access groups are set to "server computes codes", as their signed `group`
 * records say (issue #15, review round five). Before, the setting lived only in the vault files,
 * so a desktop that did not know it told the server to drop a group's sealed keys, and another
 * admin's desktop wrapped the group's secret key for codes-only members: the server now holds
 * the setting, changed only by owners and admins, takes sealed keys only for these groups, drops
 * them when the setting goes off, and refuses a member record that gives a codes-only member the
 * secret key of one of them. Empty at first: every group is off until an owner's or admin's
 * desktop sends its record with the setting on (each turns it on by a key rotation, which sends it).
 * Must never: hold a key, or a group's name.
 */
export const migration0016 = {
  version: 16,
  name: 'server-codes-groups',
  sql: `
CREATE TABLE server_code_groups (
  vault_id text NOT NULL,
  group_id text NOT NULL,
  PRIMARY KEY (vault_id, group_id),
  FOREIGN KEY (vault_id, group_id) REFERENCES sync_groups(vault_id, group_id)
);
`,
} as const;
