/**
 * Schema 11: audit events signed by their author, linked per device (issue #13).
 * - `signing_keys`: each user's Ed25519 public keys (shared), each with the key that vouches
 *   for it (`certified_by`, `certificate`): the admin or owner who made the user or reset their
 *   password; a user's first key made at their own sign-in vouches for itself (signing.ts).
 *   The private key is wrapped for the user's own X25519 key (`users.wrapped_signing_key`), so
 *   only they open it.
 * - `audit_log`: which device wrote each event, the hash of that device's previous event, the
 *   author's key and the signature over the event (store-audit.ts eventBytes). Events from
 *   before this schema have none.
 * - `this_device` (local: never shared): this desktop's random device id.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

export function updateToSchemaVersion11(db: Database.Database): void {
  db.exec(`
    CREATE TABLE signing_keys (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      uid BLOB NOT NULL UNIQUE CHECK (length(uid) = 16),
      user_id INTEGER NOT NULL REFERENCES users(id),
      public_key BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      certified_by INTEGER REFERENCES signing_keys(id),
      certificate BLOB,
      seq INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX signing_keys_by_user ON signing_keys(user_id);
    CREATE TRIGGER signing_keys_inserted AFTER INSERT ON signing_keys BEGIN
      UPDATE vault_sequence SET seq = seq + 1;
      UPDATE signing_keys SET seq = (SELECT seq FROM vault_sequence) WHERE rowid = NEW.rowid;
    END;
    CREATE TRIGGER signing_keys_fixed BEFORE UPDATE ON signing_keys WHEN NEW.public_key IS NOT OLD.public_key OR NEW.user_id IS NOT OLD.user_id OR NEW.uid IS NOT OLD.uid BEGIN
      SELECT RAISE(ABORT, 'a signing key never changes');
    END;

    ALTER TABLE users ADD COLUMN signing_key_id INTEGER REFERENCES signing_keys(id);
    ALTER TABLE users ADD COLUMN wrapped_signing_key BLOB;

    ALTER TABLE audit_log ADD COLUMN device_id BLOB;
    ALTER TABLE audit_log ADD COLUMN device_prev BLOB;
    ALTER TABLE audit_log ADD COLUMN signer_key_id INTEGER;
    ALTER TABLE audit_log ADD COLUMN signature BLOB;
    CREATE INDEX audit_log_by_device ON audit_log(device_id, id);

    CREATE TABLE this_device (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      device_id BLOB NOT NULL CHECK (length(device_id) = 16),
      created_at INTEGER NOT NULL
    ) STRICT;

    -- A user's signing key is shared: it moves their revision, as their other keys do.
    DROP TRIGGER users_written;
    CREATE TRIGGER users_written AFTER UPDATE OF name, role, kdf, public_key, sealed_private_key, disabled_at, must_change_password, mfa_sealed_secret, mfa_enabled_at, signing_key_id, wrapped_signing_key ON users BEGIN
      UPDATE vault_sequence SET seq = seq + 1;
      UPDATE users SET revision = OLD.revision + 1, seq = (SELECT seq FROM vault_sequence) WHERE rowid = NEW.rowid;
    END;
  `);
  db.prepare('INSERT INTO this_device (id, device_id, created_at) VALUES (1, ?, 0)').run(randomBytes(16));
}
