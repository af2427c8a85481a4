/**
 * Shared: the revisions of the vault's two settings-table objects that have no row of their own
 * (#13, "a write names the revision it was based on"): the MFA policy and the vault-wide
 * settings (idle lock, clipboard clearing, trusted-computer days). Each is a counter in the
 * settings table (`revision:mfa_policy`, `revision:settings`), 0 until the object is first
 * written; the services read it, compare it with the base a write names (base-revision.ts) and
 * move it inside that write's own transaction. Functions take the db first.
 * Must never be moved by anything but a write of its object, nor ever go down.
 */
import type { ReadDb, WriteDb } from './db';

/** The settings-table objects that carry a revision here. */
export type SettingsObject = 'mfa_policy' | 'settings';

function keyOf(object: SettingsObject): string {
  return `revision:${object}`;
}

/** The object's revision: 0 when it was never written (or the stored value is not a count). */
export function settingsRevision(db: ReadDb, object: SettingsObject): number {
  const stored = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(keyOf(object))?.value;
  const value = Number(stored);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** One more write of the object; its new revision. */
export function moveSettingsRevision(db: WriteDb, object: SettingsObject): number {
  const next = settingsRevision(db, object) + 1;
  db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(keyOf(object), String(next));
  return next;
}

/**
 * The object as a record from another desktop left it (task 15, replica-vault-objects.ts): at that
 * record's revision, which the server stored above the one this file last agreed, so the next write
 * here goes one past it (the one place a revision is set rather than moved on).
 */
export function setSettingsRevision(db: WriteDb, object: SettingsObject, revision: number): void {
  db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(keyOf(object), String(revision));
}

