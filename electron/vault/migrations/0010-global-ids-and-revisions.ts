/**
 * Schema 10: a vault model that can have more than one writer (issue #13).
 * - Global ids: `uid` (16 bytes, ids.ts) on every shared object — users, roles, groups,
 *   customers, entries, audit events — unique, required on every insert (a trigger refuses a
 *   row without one). Existing rows get one here, dated by their own creation.
 * - Revisions: `revision` counts the writes of one object; `seq` is the vault-wide sequence
 *   (`vault_sequence`) at its last write. Triggers keep both, so no writer can forget them; a
 *   writer names the revision it read, and a stale one is refused (CONFLICT). What a write
 *   changed is every row whose `seq` is above the one before it (store-changes.ts).
 * - Tombstones: a deleted entry keeps its row with `deleted_at`, its ids and revision, and
 *   nothing sealed (the blobs and the lookup are emptied; secure_delete wipes the old bytes).
 * Only shared columns move a revision: a user's sign-in backoff, last sign-in and pending
 * enrolment are this desktop's state and do not.
 *
 * Seals made before this schema name their row by its row id (crypto.ts format 1); they keep
 * opening, and an owner's next sign-in re-seals them by global id (id-seals.ts).
 */
import type Database from 'better-sqlite3';
import { newUid } from '../ids';

/** Tables with their own global id, the column that dates a row, and the columns that make a revision. */
const OBJECT_TABLES = [
  { table: 'users', date: 'created_at', shared: ['name', 'role', 'kdf', 'public_key', 'sealed_private_key', 'disabled_at', 'must_change_password', 'mfa_sealed_secret', 'mfa_enabled_at'] },
  { table: 'roles', date: 'created_at', shared: ['name', 'permissions'] },
  { table: 'access_groups', date: 'created_at', shared: ['key_version', 'secret_split', 'sealed_name', 'name_index'] },
  { table: 'customers', date: 'created_at', shared: ['sealed_name', 'name_index'] },
  { table: 'entries', date: 'created_at', shared: ['customer_id', 'group_id', 'key_version', 'lookup', 'sealed_summary', 'sealed_details', 'deleted_at'] },
] as const;

/** Shared rows without an id of their own (named by the ids of what they join), sequenced too. */
const LINK_TABLES = [
  { table: 'group_keys', shared: ['key_version', 'wrapped_key', 'is_lead', 'wrapped_secret_key', 'by_role'] },
  { table: 'directory_keys', shared: ['key_version', 'wrapped_key', 'dir_version'] },
] as const;

function rows(db: Database.Database, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function nextSeqSql(table: string): string {
  return `UPDATE vault_sequence SET seq = seq + 1;
    UPDATE ${table} SET seq = (SELECT seq FROM vault_sequence) WHERE rowid = NEW.rowid;`;
}

export function updateToSchemaVersion10(db: Database.Database): void {
  db.exec(`
    CREATE TABLE vault_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL) STRICT;
    INSERT INTO vault_sequence (id, seq) VALUES (1, 0);
    ALTER TABLE entries ADD COLUMN deleted_at INTEGER;
    ALTER TABLE audit_log ADD COLUMN uid BLOB;
    ALTER TABLE audit_log ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
  `);
  let seq = 0;
  const stamp = (table: string, date: string, withUid: boolean): void => {
    const rows = db.prepare(`SELECT rowid AS r, ${date} AS at FROM ${table} ORDER BY rowid`).all() as Array<{ r: number; at: number }>;
    const update = db.prepare(withUid ? `UPDATE ${table} SET uid = ?, seq = ? WHERE rowid = ?` : `UPDATE ${table} SET seq = ? WHERE rowid = ?`);
    for (const row of rows) {
      seq += 1;
      if (withUid) update.run(newUid(row.at), seq, row.r);
      else update.run(seq, row.r);
    }
  };
  for (const { table, date } of OBJECT_TABLES) {
    db.exec(`ALTER TABLE ${table} ADD COLUMN uid BLOB;
      ALTER TABLE ${table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE ${table} ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;`);
    stamp(table, date, true);
  }
  for (const { table } of LINK_TABLES) {
    db.exec(`ALTER TABLE ${table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE ${table} ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;`);
    stamp(table, 'rowid', false);
  }
  stamp('audit_log', 'at', true);
  db.prepare('UPDATE vault_sequence SET seq = ?').run(seq);

  for (const { table, shared } of [...OBJECT_TABLES, ...LINK_TABLES]) {
    db.exec(`
      CREATE TRIGGER ${table}_inserted AFTER INSERT ON ${table} BEGIN ${nextSeqSql(table)} END;
      CREATE TRIGGER ${table}_written AFTER UPDATE OF ${shared.join(', ')} ON ${table} BEGIN
        UPDATE vault_sequence SET seq = seq + 1;
        UPDATE ${table} SET revision = OLD.revision + 1, seq = (SELECT seq FROM vault_sequence) WHERE rowid = NEW.rowid;
      END;`);
  }
  for (const table of [...OBJECT_TABLES.map((t) => t.table), 'audit_log']) {
    db.exec(`
      CREATE UNIQUE INDEX ${table}_by_uid ON ${table}(uid);
      CREATE TRIGGER ${table}_uid_required BEFORE INSERT ON ${table} WHEN NEW.uid IS NULL OR length(NEW.uid) != 16 BEGIN
        SELECT RAISE(ABORT, 'a shared row needs its 16-byte global id');
      END;
      CREATE TRIGGER ${table}_uid_fixed BEFORE UPDATE OF uid ON ${table} BEGIN
        SELECT RAISE(ABORT, 'a global id never changes');
      END;`);
  }
  db.exec(`
    CREATE TRIGGER audit_log_inserted AFTER INSERT ON audit_log BEGIN ${nextSeqSql('audit_log')} END;
    CREATE INDEX users_by_seq ON users(seq);
    CREATE INDEX roles_by_seq ON roles(seq);
    CREATE INDEX access_groups_by_seq ON access_groups(seq);
    CREATE INDEX customers_by_seq ON customers(seq);
    CREATE INDEX entries_by_seq ON entries(seq);
    CREATE INDEX group_keys_by_seq ON group_keys(seq);
    CREATE INDEX directory_keys_by_seq ON directory_keys(seq);
    CREATE INDEX audit_log_by_seq ON audit_log(seq);
  `);
  // An owner's next sign-in re-seals by global id what was sealed by row id (id-seals.ts).
  if (rows(db, 'users') > 0) db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('row_id_seals', 'pending')").run();
}
