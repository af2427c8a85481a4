/**
 * Schema 7: emergency codes (finPOWER's): six letters an admin reads to someone who lost
 * their authenticator, good once for two minutes. At most one per person (a new one replaces
 * it), kept as an HMAC under a key from the server's key file, with who issued it.
 */
export const migration0007 = {
  version: 7,
  name: 'emergency-codes',
  sql: `
CREATE TABLE mfa_emergency_codes (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  issued_by text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at bigint NOT NULL
);
`,
} as const;
