/**
 * Schema 18: a deleted access group is a tombstone (issue #11), as a deleted entry is: its row
 * stays with its ids, revision and `deleted_at`, and keeps nothing secret — the sealed name is
 * emptied and the name's keyed index replaced by the group's own global id (still unique, no
 * longer an HMAC of the name, and the name free for a new group); its wrapped keys and sealed
 * list pages are deleted (secure_delete overwrites the old bytes). Deleting is a shared write
 * like any other, so the trigger that moves a group's revision now counts `deleted_at` too.
 * Must never drop a row: entries' tombstones still name their group.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion18(db: Database.Database): void {
  db.exec(`
    ALTER TABLE access_groups ADD COLUMN deleted_at INTEGER;
    DROP TRIGGER access_groups_written;
    CREATE TRIGGER access_groups_written AFTER UPDATE OF key_version, secret_split, sealed_name, name_index, deleted_at ON access_groups BEGIN
      UPDATE vault_sequence SET seq = seq + 1;
      UPDATE access_groups SET revision = OLD.revision + 1, seq = (SELECT seq FROM vault_sequence) WHERE rowid = NEW.rowid;
    END;
  `);
}
