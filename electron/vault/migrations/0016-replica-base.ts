/**
 * Schema 16: what this replica last agreed with the others about each shared object (local,
 * never shared). A record sent names the revision its writer had agreed on (its base), so the
 * receiver can tell a change made on top of what it holds from one made beside its own
 * (shared/sync/records.ts, replica.ts). Empty until the first exchange: an object without a
 * row was never agreed on, and its base is 0. `replica_state` keeps the vault sequence up to
 * which this replica's own changes were handed on, so the next batch starts after it, and the
 * team server's sequence up to which this replica has taken in what others pushed.
 * `replica_held` keeps records this replica could not take in yet (a key it does not hold, a
 * group it does not have, a record it refused): set aside rather than stopping every sync
 * after them, tried again at each sync, and shown. `replica_pushing`: what a push in flight
 * carried (each object's revision and a digest of its sealed parts), so a push whose reply was
 * lost is recognised when its own records come back, not taken for someone else's change.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion16(db: Database.Database): void {
  db.exec(`
    CREATE TABLE replica_base (
      uid BLOB PRIMARY KEY,
      revision INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE replica_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      sent_seq INTEGER NOT NULL,
      pulled_seq INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TABLE replica_pushing (
      record_id TEXT PRIMARY KEY,
      revision INTEGER NOT NULL,
      digest BLOB NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE replica_held (
      record_id TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      reason TEXT NOT NULL,
      held_at INTEGER NOT NULL
    ) STRICT;
  `);
}
