/**
 * Schema 5: an authenticator setup that survives between two commands (`crewvault mfa begin`,
 * then `mfa confirm` in another process), its key sealed like the confirmed one; and when
 * each person last signed in, for the admin's MFA overview.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion5(db: Database.Database): void {
  db.exec(`
    ALTER TABLE users ADD COLUMN mfa_pending_secret BLOB;
    ALTER TABLE users ADD COLUMN mfa_pending_at INTEGER;
    ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
  `);
}
