/**
 * Schema 14: each signing key vouches for its user's X25519 public key (`signing_keys.binding`,
 * a signature over the user's global id and that public key; public-keys.ts). A key is wrapped
 * for someone only to a public key their signing key vouches for, so a public key written into
 * the file by someone else gets nothing (review of schemas 10-12). Keys made before have none
 * until their user's next sign-in adds it.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion14(db: Database.Database): void {
  db.exec('ALTER TABLE signing_keys ADD COLUMN binding BLOB;');
}
