/**
 * Schema 11: team vaults' records (docs/SYNC.md). The server holds each object's newest
 * record as its desktop sent it — ciphertext, keyed indexes, signatures — with what it needs to
 * order and check them in plain: the vault, the object's global id and kind, its revision and
 * the vault-wide sequence number it was stored at, and which account pushed it. It never holds
 * a key that opens a record. `sync_authors`: which account signs records as which vault user
 * (bound at that user's first push), so an account cannot push records in another's name.
 */
export const migration0011 = {
  version: 11,
  name: 'sync',
  sql: `
CREATE TABLE sync_vaults (
  vault_id text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT 0,
  created_by text NOT NULL REFERENCES users(id),
  created_at bigint NOT NULL
);
CREATE TABLE sync_records (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  record_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('customer', 'entry', 'signing_key', 'event')),
  revision bigint NOT NULL,
  seq bigint NOT NULL,
  pushed_by text NOT NULL REFERENCES users(id),
  body jsonb NOT NULL,
  PRIMARY KEY (vault_id, record_id)
);
CREATE UNIQUE INDEX sync_records_by_seq ON sync_records (vault_id, seq);
CREATE TABLE sync_authors (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  author text NOT NULL,
  user_id text NOT NULL REFERENCES users(id),
  PRIMARY KEY (vault_id, author)
);
`,
} as const;
