/**
 * Schema 2: sealed pages of entry summaries. Opening 100,000 entries one AES-GCM blob at a
 * time costs ~2.5 s; the list needs only title, username, URL and OTP kind, so those are also
 * kept in pages of up to 512 entries per group, sealed under the group key. The per-entry
 * summary stays the source of truth; a page is rebuilt from it whenever its entry count
 * disagrees with the entries table (as for a vault written before this schema).
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion2(db: Database.Database): void {
  db.exec(`
    CREATE TABLE entry_pages (
      group_id INTEGER NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
      page_no INTEGER NOT NULL,
      key_version INTEGER NOT NULL,
      entry_count INTEGER NOT NULL,
      sealed BLOB NOT NULL,
      PRIMARY KEY (group_id, page_no)
    ) STRICT;
  `);
}
