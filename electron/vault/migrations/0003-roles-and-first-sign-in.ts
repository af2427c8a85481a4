/**
 * Schema 3: custom roles (a name and a list of permissions, defined by owners and admins)
 * and the "change this one-time password at first sign-in" flag on users.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion3(db: Database.Database): void {
  db.exec(`
    CREATE TABLE roles (
      name TEXT PRIMARY KEY COLLATE NOCASE,
      permissions TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;
    ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
  `);
}
