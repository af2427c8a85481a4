/**
 * Schema 14: who is who in a team vault, as the server must know it to decide who may pull and
 * push what (#15, docs/SYNC.md). `sync_people`: each vault user the server knows (by global
 * id), the server account that acts as them (set by an owner's desktop, or the vault's creator
 * binding itself once: never by whoever pushes first), their role in plain (the server
 * authorizes by it) and whether they are disabled. `sync_groups`: each access group by global
 * id and its current key version (a push sealed under an older one is refused), or deleted.
 * `sync_members`: who holds which group, at which key version, as a lead or not, with the group
 * key wrapped for them — opaque bytes: the server holds no key that opens them.
 * Never holds a name, a title or a key the server could open. `sync_authors` (schema 11's
 * first-push binding, the squatting hole) is folded into `sync_people` and dropped: the creator
 * of a vault keeps their binding as its owner, every other binding keeps its account with no
 * role until an owner's desktop says it.
 */
export const migration0014 = {
  version: 14,
  name: 'membership',
  sql: `
CREATE TABLE sync_people (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  vault_user text NOT NULL,
  account_id text REFERENCES users(id),
  role text CHECK (role IS NULL OR length(role) BETWEEN 1 AND 64),
  disabled boolean NOT NULL DEFAULT false,
  PRIMARY KEY (vault_id, vault_user)
);
CREATE UNIQUE INDEX sync_people_by_account ON sync_people (vault_id, account_id) WHERE account_id IS NOT NULL;
CREATE TABLE sync_groups (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  group_id text NOT NULL,
  key_version integer NOT NULL CHECK (key_version > 0),
  deleted boolean NOT NULL DEFAULT false,
  PRIMARY KEY (vault_id, group_id)
);
CREATE TABLE sync_members (
  vault_id text NOT NULL,
  group_id text NOT NULL,
  vault_user text NOT NULL,
  key_version integer NOT NULL CHECK (key_version > 0),
  is_lead boolean NOT NULL,
  wrapped text NOT NULL,
  PRIMARY KEY (vault_id, group_id, vault_user),
  FOREIGN KEY (vault_id, group_id) REFERENCES sync_groups(vault_id, group_id),
  FOREIGN KEY (vault_id, vault_user) REFERENCES sync_people(vault_id, vault_user)
);
CREATE INDEX sync_members_by_user ON sync_members (vault_id, vault_user);
INSERT INTO sync_people (vault_id, vault_user, account_id, role)
  SELECT a.vault_id, a.author, a.user_id, CASE WHEN v.created_by = a.user_id THEN 'owner' ELSE NULL END
  FROM sync_authors a JOIN sync_vaults v ON v.vault_id = a.vault_id
  WHERE NOT EXISTS (SELECT 1 FROM sync_authors b WHERE b.vault_id = a.vault_id AND b.user_id = a.user_id AND b.author < a.author);
DROP TABLE sync_authors;
ALTER TABLE sync_records DROP CONSTRAINT sync_records_kind_check;
ALTER TABLE sync_records ADD CONSTRAINT sync_records_kind_check CHECK (kind IN ('customer', 'entry', 'signing_key', 'event', 'user', 'group', 'member'));
`,
} as const;
