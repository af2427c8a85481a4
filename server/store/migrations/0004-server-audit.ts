/**
 * Schema 4: the server's own audit of sign-ins and account events. Each row is hash-linked
 * to the one before and signed with the server's Ed25519 key (server/audit.ts; later, only the
 * last row of each append, over its batch, the others' signature empty), so a row changed,
 * removed or inserted afterwards shows. Nothing in it is a secret: ids, an event's
 * kind, the client's address, and details the server chose (never a name someone typed at a
 * failed sign-in, which may be a password typed in the wrong field).
 */
export const migration0004 = {
  version: 4,
  name: 'server-audit',
  sql: `
CREATE TABLE server_audit (
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  kind text NOT NULL,
  actor_id text,
  subject_id text,
  source text,
  -- JSON text with sorted keys, hashed exactly as stored.
  detail text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  signature text NOT NULL
);
`,
} as const;
