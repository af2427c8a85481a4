/**
 * Shared: vault-wide facts (format, id, audit head and anchor, directory version) in `meta`, and
 * the settings and MFA policy in `settings`, plain key/value rows. Three `meta` keys are this
 * file's own, never another desktop's: `unknown_name_key` (the keyed hash of names with no
 * account, for the local sign-in backoff), `team_server` (the one server this file syncs with)
 * and `row_id_seals` (whether schema 10's re-seal is still to do here). Other local state has
 * tables of its own (sign_in_state, this_device, entry_pages, trusted_devices).
 */
import type { ReadDb, WriteDb } from './db';

export function getMeta(db: ReadDb, key: string): string | undefined {
  return db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
}

export function setMeta(db: WriteDb, key: string, value: string): void {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
}

export function getSetting(db: ReadDb, key: string): string | undefined {
  return db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key)?.value;
}

export function setSetting(db: WriteDb, key: string, value: string): void {
  db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(key, value);
}

export function deleteSetting(db: WriteDb, key: string): void {
  db.prepare('DELETE FROM settings WHERE key = ?').run(key);
}
