/**
 * Schema 1: accounts, invites, sign-in attempts and sessions.
 *
 * Times are milliseconds since the Unix epoch from the server's clock (bigint), never the
 * database's now(), so tests pin time and two databases agree. What is stored of a secret is
 * only ever: an OPAQUE registration record (useless without the server's OPAQUE key, which
 * lives in the data folder), a SHA-256 of a random token, or a login state sealed under the
 * server's state key. No password, no password hash.
 */
export const migration0001 = {
  version: 1,
  name: 'accounts',
  sql: `
CREATE TABLE users (
  id text PRIMARY KEY,
  username text NOT NULL,
  -- The name as it is looked up: trimmed, NFC, lower case (server/auth/names.ts).
  username_key text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  registration_record text NOT NULL,
  created_at bigint NOT NULL,
  password_changed_at bigint NOT NULL
);

-- One person may register with an invite; username_key NULL lets them choose the name (the
-- first owner's invite). user_id is fixed here so OPAQUE binds the record to it.
CREATE TABLE invites (
  code_hash text PRIMARY KEY,
  user_id text NOT NULL UNIQUE,
  username_key text,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_by text REFERENCES users (id) ON DELETE CASCADE,
  expires_at bigint NOT NULL
);

-- Between login start and finish: OPAQUE's server state, sealed; gone at finish (used once).
CREATE TABLE login_attempts (
  id text PRIMARY KEY,
  user_id text REFERENCES users (id) ON DELETE CASCADE,
  sealed_state text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX login_attempts_expires ON login_attempts (expires_at);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_id text NOT NULL,
  device_name text,
  created_at bigint NOT NULL,
  authenticated_at bigint NOT NULL,
  access_hash text NOT NULL UNIQUE,
  access_expires_at bigint NOT NULL,
  refresh_hash text NOT NULL UNIQUE,
  -- The refresh token this one replaced: presented again, it shows a copy and ends the session.
  previous_refresh_hash text UNIQUE,
  refresh_expires_at bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
`,
} as const;
