/**
 * Schema 6: recovery codes, ten per authenticator. Each is kept twice: as an HMAC under a
 * key from the server's key file (server/keys.ts keyedHash), which is what a sign-in is
 * checked against and marked used; and the ten together sealed under the server's secrets
 * key for their owner alone (bound to their id), so "View recovery codes" can show them
 * again after a fresh second step, as QwikClient does. A dump of the database opens neither.
 */
export const migration0006 = {
  version: 6,
  name: 'recovery-codes',
  sql: `
CREATE TABLE mfa_recovery_codes (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  -- NULL until used; a used code is never accepted again.
  used_at bigint,
  PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE mfa_authenticators ADD COLUMN sealed_recovery_codes text;
`,
} as const;
