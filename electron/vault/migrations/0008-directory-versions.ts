/**
 * Schema 8: the directory key (customer and group names, audit details, the audit anchor)
 * gets versions. Disabling a user moves everyone else to a new version, so the key that user
 * saved opens nothing written afterwards; `directory_history` keeps each older version sealed
 * under the next, so current members still read what older versions sealed. Existing vaults
 * are at version 1, as they were.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion8(db: Database.Database): void {
  db.exec(`
    ALTER TABLE directory_keys ADD COLUMN dir_version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE directory_history (
      version INTEGER PRIMARY KEY,
      sealed_key BLOB NOT NULL
    ) STRICT;
  `);
}
