/**
 * Schema 20: signed batches of record digests (#15, record format 2, shared/sync/record-batches.ts).
 * A push's customer and entry records may name a batch (its id and their index in it) instead of
 * each carrying a signature; the server checks the batch and each record's digest on push, stores
 * each batch once, as pushed, and hands a pull or snapshot page the batches its records name. A
 * batch holds digests only: SHA-256 of records' signing texts, nothing sealed or secret.
 * Must never: change a stored batch (a desktop checks its signature as its author made it).
 */
export const migration0020 = {
  version: 20,
  name: 'record-batches',
  sql: `
CREATE TABLE sync_batches (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  batch_id text NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (vault_id, batch_id)
);
`,
};
