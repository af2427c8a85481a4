/**
 * Schema 1. Structural columns (ids, foreign keys, timestamps, key versions) are plain;
 * every name, username, URL, note, password and OTP secret of a customer or an entry is a
 * sealed blob. User login names are plain so sign-in can find the account before any key is
 * unlocked. Lookups by name go through keyed HMAC columns (`*_index`, `lookup`).
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion1(db: Database.Database): void {
  db.exec(`
    CREATE TABLE meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      role TEXT NOT NULL,
      kdf TEXT NOT NULL,
      public_key BLOB NOT NULL,
      sealed_private_key BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      disabled_at INTEGER
    ) STRICT;

    -- The directory key (customer and group names, audit details), wrapped for each user.
    CREATE TABLE directory_keys (
      user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      key_version INTEGER NOT NULL,
      wrapped_key BLOB NOT NULL
    ) STRICT;

    CREATE TABLE access_groups (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      key_version INTEGER NOT NULL,
      sealed_name BLOB NOT NULL,
      name_index BLOB NOT NULL UNIQUE,
      created_at INTEGER NOT NULL
    ) STRICT;

    -- A group's key wrapped for one member.
    CREATE TABLE group_keys (
      group_id INTEGER NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      key_version INTEGER NOT NULL,
      wrapped_key BLOB NOT NULL,
      is_lead INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (group_id, user_id)
    ) STRICT;

    CREATE TABLE customers (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      sealed_name BLOB NOT NULL,
      name_index BLOB NOT NULL UNIQUE,
      created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE entries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customer_id INTEGER NOT NULL REFERENCES customers(id),
      group_id INTEGER NOT NULL REFERENCES access_groups(id),
      key_version INTEGER NOT NULL,
      lookup BLOB NOT NULL,
      sealed_summary BLOB NOT NULL,
      sealed_details BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX entries_by_lookup ON entries(lookup);
    CREATE INDEX entries_by_group ON entries(group_id);
    CREATE INDEX entries_by_customer ON entries(customer_id);

    -- Hash-chained: each row's hash covers its columns and the previous row's hash.
    CREATE TABLE audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      actor_id INTEGER,
      action TEXT NOT NULL,
      subject TEXT,
      entry_id INTEGER,
      customer_id INTEGER,
      group_id INTEGER,
      sealed_detail BLOB,
      prev_hash BLOB NOT NULL,
      hash BLOB NOT NULL
    ) STRICT;

    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;
  `);
}
