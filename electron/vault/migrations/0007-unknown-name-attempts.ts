/**
 * Schema 7: wrong passwords under a name that is no user's, counted and made to wait exactly as
 * a user's are (users.failed_passwords, next_attempt_at), so the backoff does not tell who exists.
 * A name is kept only as its keyed hash (store-users.ts unknownNameHash), never in clear: it is
 * often a password typed into the name box. `last_attempt_at` lets the oldest go first when the
 * table is full (MAX_UNKNOWN_NAMES).
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion7(db: Database.Database): void {
  db.exec(`
    CREATE TABLE unknown_name_attempts (
      name_hash BLOB PRIMARY KEY,
      failed_passwords INTEGER NOT NULL,
      next_attempt_at INTEGER,
      last_attempt_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX unknown_name_attempts_by_age ON unknown_name_attempts (last_attempt_at);
  `);
}
