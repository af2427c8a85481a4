/**
 * Schema 12: what one desktop counts about sign-ins moves out of the shared `users` table into
 * `sign_in_state`, a local table (issue #13: local vs shared). Wrong passwords and codes in a
 * row, the wait they set, and the last sign-in here are this desktop's: a team server keeps its
 * own, and they must never travel as a user's revision. Values are carried over as they are.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion12(db: Database.Database): void {
  db.exec(`
    CREATE TABLE sign_in_state (
      user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      failed_passwords INTEGER NOT NULL DEFAULT 0,
      failed_codes INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER,
      last_sign_in_at INTEGER
    ) STRICT;
    INSERT INTO sign_in_state (user_id, failed_passwords, failed_codes, next_attempt_at, last_sign_in_at)
      SELECT id, failed_passwords, failed_codes, next_attempt_at, last_sign_in_at FROM users;
    ALTER TABLE users DROP COLUMN failed_passwords;
    ALTER TABLE users DROP COLUMN failed_codes;
    ALTER TABLE users DROP COLUMN next_attempt_at;
    ALTER TABLE users DROP COLUMN last_sign_in_at;
  `);
}
