/**
 * Schema 19: a group may be set to "server computes codes" (issue #15, docs/SYNC.md
 * "Server-computed codes"). With it on, its TOTP keys are also sealed to the team server's code
 * key, and members whose role may see codes but not keys (codes-only) are not given the group's
 * secret key: they ask the server for codes. Off (0) for every existing group: each stays end-to-end
 * encrypted until an owner or admin turns it on.
 * Must never turn it on for a group by itself.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion19(db: Database.Database): void {
  db.exec('ALTER TABLE access_groups ADD COLUMN server_codes INTEGER NOT NULL DEFAULT 0 CHECK (server_codes IN (0, 1));');
}
