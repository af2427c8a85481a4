/**
 * Schema 5: the second sign-in step. One authenticator per person (its TOTP key sealed under
 * a key derived from the server's key file, server/keys.ts: the server must compute codes to
 * check them, so it cannot hold only a hash, and a dump of the database alone opens nothing),
 * the last time step accepted (a step is never accepted twice), a back-off per account for
 * wrong codes, the server's settings (the MFA policy), and on each session when its second
 * step was done and how many wrong codes it has had.
 */
export const migration0005 = {
  version: 5,
  name: 'mfa',
  sql: `
CREATE TABLE mfa_authenticators (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  -- A key being set up, waiting for its first code; NULL once confirmed.
  pending_secret text,
  pending_at bigint,
  -- The confirmed key; NULL while only a setup waits.
  sealed_secret text,
  enabled_at bigint,
  -- The newest time step accepted: no code of this step or an earlier one is taken again.
  last_step bigint NOT NULL DEFAULT -1
);

-- Wrong second steps in a row per account, whichever session made them; past the limit each
-- further try waits until blocked_until (server/auth/mfa.ts).
CREATE TABLE mfa_throttle (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  failures int NOT NULL,
  blocked_until bigint NOT NULL
);

CREATE TABLE server_settings (
  key text PRIMARY KEY,
  value text NOT NULL
);

-- NULL: only the password step is done. The session may still be whole when no second step
-- is needed (server/auth/sessions.ts decides at every request, so a policy turned on asks again).
ALTER TABLE sessions ADD COLUMN second_step_at bigint;
ALTER TABLE sessions ADD COLUMN wrong_codes int NOT NULL DEFAULT 0;
`,
} as const;
