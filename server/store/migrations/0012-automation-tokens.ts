/**
 * Schema 12: automation tokens, for scripts that cannot answer a second step (issue #14). An
 * owner or admin makes one with a name, scopes (what routes it reaches), optionally the vaults
 * it is for, and an expiry; it acts as the person who made it. Only the SHA-256 of the token is
 * kept (256 random bits: nothing to guess). A revoked token keeps its row (revoked when, by
 * whom) so the list still says what it was; `used_audited_at` spaces `token.used` audit events
 * out (one a minute per token) while `last_used_at` moves at every use.
 */
export const migration0012 = {
  version: 12,
  name: 'automation-tokens',
  sql: `
CREATE TABLE automation_tokens (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  name text NOT NULL,
  created_by text NOT NULL REFERENCES users(id),
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
  -- NULL: every vault its maker reaches.
  vaults text[],
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  last_used_at bigint,
  last_used_from text,
  used_audited_at bigint,
  revoked_at bigint,
  revoked_by text REFERENCES users(id)
);
CREATE INDEX automation_tokens_by_maker ON automation_tokens (created_by);
`,
} as const;
