/**
 * Schema 21: audit rows of events signed with the v3 text (#15, docs/SYNC.md "Events of groups one
 * does not hold"). Such an event's author signs a header and a digest of its body, so the server can
 * hand a member who does not hold the event's group the header and digest only; the row keeps the
 * event's `scope` tag (32 bytes) and either its body's `body_salt` (16 bytes: the whole form, the
 * body in the usual columns) or its `body_digest` (32 bytes: the redacted form, every body column
 * null). The row's hash covers these columns for v3 rows only (store-audit.ts rowHash), so every
 * row written before keeps its hash.
 * Must never drop or change a row: columns only, null on every existing row.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion21(db: Database.Database): void {
  db.exec(`
    ALTER TABLE audit_log ADD COLUMN scope BLOB CHECK (scope IS NULL OR length(scope) = 32);
    ALTER TABLE audit_log ADD COLUMN body_salt BLOB CHECK (body_salt IS NULL OR length(body_salt) = 16);
    ALTER TABLE audit_log ADD COLUMN body_digest BLOB CHECK (body_digest IS NULL OR length(body_digest) = 32);
  `);
}
