/**
 * Schema 13: permissions an owner grants an admin beyond the admin role (issue #14,
 * ClientTrack's "Remove 2-Step Verification Admin Access"). The first and only one is
 * `mfa_reset`: resetting someone else's second steps. Owners hold every permission by their
 * role and never need a row; an admin holds one only while a row says so (none after this
 * upgrade: an admin who reset second steps before asks an owner for the grant). Who granted
 * it and when are kept beside it; a revoke deletes the row and the audit keeps the history.
 * Must never: hold a secret.
 */
export const migration0013 = {
  version: 13,
  name: 'admin-grants',
  sql: `
CREATE TABLE admin_grants (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  permission text NOT NULL CHECK (permission IN ('mfa_reset')),
  granted_by text NOT NULL REFERENCES users (id),
  granted_at bigint NOT NULL,
  PRIMARY KEY (user_id, permission)
);
`,
} as const;
