/**
 * Schema 17: recovery codes kept, sealed, until their owner says they were seen. A terminal
 * command's output can be lost after the vault has committed (`crewvault mfa confirm | head -3`
 * closes the pipe; the codes land in a buffer nobody reads), and the hashes alone cannot show
 * them again. One row per user at most, sealed under that user's MFA key (the key that already
 * seals their TOTP secret, so whoever could open this could open that); deleted when marked
 * seen, replaced with the codes, gone with the user's MFA.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion17(db: Database.Database): void {
  db.exec(`
    CREATE TABLE mfa_unseen_recovery_codes (
      user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      sealed_codes BLOB NOT NULL
    ) STRICT;
  `);
}
