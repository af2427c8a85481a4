/**
 * Schema 4: sign-in MFA. A user's authenticator secret is sealed under a key derived from
 * their own private key (so it opens only after a correct password); the last accepted time
 * step stops a code being used twice (RFC 6238 §5.2); recovery codes and emergency codes are
 * stored only as keyed hashes; failed passwords and their backoff survive a restart.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion4(db: Database.Database): void {
  db.exec(`
    ALTER TABLE users ADD COLUMN mfa_sealed_secret BLOB;
    ALTER TABLE users ADD COLUMN mfa_enabled_at INTEGER;
    ALTER TABLE users ADD COLUMN mfa_last_step INTEGER;
    ALTER TABLE users ADD COLUMN failed_passwords INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN next_attempt_at INTEGER;

    CREATE TABLE mfa_recovery_codes (
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      code_hash BLOB NOT NULL,
      used_at INTEGER,
      PRIMARY KEY (user_id, code_hash)
    ) STRICT;

    CREATE TABLE emergency_codes (
      user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      code_hash BLOB NOT NULL,
      expires_at INTEGER NOT NULL,
      issued_by INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE trusted_devices (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      token_hash BLOB NOT NULL UNIQUE,
      label TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) STRICT;
  `);
}
