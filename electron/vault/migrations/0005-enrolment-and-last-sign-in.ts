/**
 * Schema 5: an authenticator setup that survives between two commands (`crewvault mfa begin`,
 * then `mfa confirm` in another process), its key sealed like the confirmed one; wrong second
 * factors in a row (past five they back off like passwords, so someone who knows the password
 * cannot try codes without end); and when each person last signed in, for the admin.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion5(db: Database.Database): void {
  db.exec(`
    ALTER TABLE users ADD COLUMN mfa_pending_secret BLOB;
    ALTER TABLE users ADD COLUMN mfa_pending_at INTEGER;
    ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
    ALTER TABLE users ADD COLUMN failed_codes INTEGER NOT NULL DEFAULT 0;
  `);
}
