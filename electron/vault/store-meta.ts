/**
 * Shared: vault-wide facts (format, id, audit head and anchor, directory version) and settings,
 * plain key/value rows. Local state has tables of its own (sign_in_state, this_device, entry_pages).
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
