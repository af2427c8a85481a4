/**
 * Schema 15: server-computed codes (issue #15, docs/SYNC.md "Server-computed codes"). For a
 * group set to "server computes codes", each entry's TOTP key sealed by a desktop to the
 * server's code key (server-code-key.json, never in the database): a dump of the database alone
 * opens none of them. Which group and key version the seal is bound to is kept beside it in
 * plain, as the entry record already says them. `code_throttle`: how many codes an account (or
 * a token) took per entry in the current time step and in the current minute.
 * Must never: hold an OTP key or a code in plain.
 */
export const migration0015 = {
  version: 15,
  name: 'server-codes',
  sql: `
CREATE TABLE server_code_keys (
  vault_id text NOT NULL REFERENCES sync_vaults (vault_id),
  entry_id text NOT NULL,
  group_id text NOT NULL,
  key_version integer NOT NULL,
  sealed text NOT NULL,
  sealed_by text NOT NULL REFERENCES users (id),
  sealed_at bigint NOT NULL,
  PRIMARY KEY (vault_id, entry_id)
);
CREATE TABLE code_throttle (
  actor text NOT NULL,
  key text NOT NULL,
  window_start bigint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (actor, key)
);
`,
} as const;
