/**
 * Schema 2: sign-in throttling. One row per account name (registered or not: an unknown
 * name is throttled exactly like a real one) and per source address, counting sign-ins
 * started and not completed; past a limit, further starts wait until `blocked_until`.
 */
export const migration0002 = {
  version: 2,
  name: 'sign-in-throttle',
  sql: `
CREATE TABLE sign_in_throttle (
  scope text NOT NULL CHECK (scope IN ('account', 'address')),
  key text NOT NULL,
  attempts int NOT NULL,
  blocked_until bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (scope, key)
);
`,
} as const;
