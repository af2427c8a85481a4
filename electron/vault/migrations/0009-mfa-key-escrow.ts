/**
 * Schema 9: a user's MFA key (what seals their authenticator secret and keys their recovery
 * codes) wrapped for others who may need it: for every owner, so an owner's password reset —
 * which gives the user a new key pair — can hand the same MFA key to the new pair instead of
 * locking the user out of their authenticator; and for the user themself after such a reset
 * (until then it is derived from their own private key, as before). Filled as people sign in.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion9(db: Database.Database): void {
  db.exec(`
    CREATE TABLE mfa_key_wraps (
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      holder_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      wrapped_key BLOB NOT NULL,
      PRIMARY KEY (user_id, holder_id)
    ) STRICT;
  `);
}
