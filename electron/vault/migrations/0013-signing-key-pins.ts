/**
 * Schema 13: each user's own record of the signing keys they have seen (`users.sealed_key_pins`,
 * sealed under a key only their private key gives: key-pins.ts). A signing key replaced or
 * removed in the file after someone saw it is then caught at their next sign-in, even where
 * every signature in the file was made again to match. Not part of a user's shared revision.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion13(db: Database.Database): void {
  db.exec('ALTER TABLE users ADD COLUMN sealed_key_pins BLOB;');
}
