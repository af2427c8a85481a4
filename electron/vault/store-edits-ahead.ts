/**
 * Entries another device wrote to whose events came here ahead of the record of that write: a
 * desktop's events go on past a change of its kept unsent (their own sent mark:
 * store-events-sent.ts), so an edit's `entry.edit` may be taken in a pull before the edit itself.
 * A record is judged by the events of its own pull (replica-given-way.ts, replica-both-changed.ts),
 * which then held no edit: a code step or a re-seal was read into it, and this desktop's own unsent
 * delete or edit was written over the edit, lost on every desktop. Noted here when the event is
 * taken, until a record of the entry is; the entry's next record then counts as edited elsewhere.
 * Local bookkeeping in settings, one row an entry (its global id, and whether the write changed
 * what the entry says or only stepped its HOTP counter): never synced, never a secret.
 */
import type { ReadDb, WriteDb } from './db';
import { getSetting, setSetting } from './store-meta';

const PREFIX = 'replica.edit_ahead.';

/** What the events said of the entry: its content changed, or only a code taken (its HOTP counter). */
export type EditAhead = 'content' | 'write';

export function editAhead(db: ReadDb, entry: string): EditAhead | undefined {
  const value = getSetting(db, PREFIX + entry);
  return value === 'content' || value === 'write' ? value : undefined;
}

/** Notes each entry of `edits` held here (a content change stays one whatever comes after it). */
export function noteEditsAhead(db: WriteDb, edits: ReadonlyMap<string, EditAhead>, heldHere: (entry: string) => boolean): void {
  for (const [entry, kind] of edits) {
    if (!heldHere(entry) || editAhead(db, entry) === 'content') continue;
    setSetting(db, PREFIX + entry, kind);
  }
}

/** A record of the entry was taken in: its events no longer wait for it. */
export function forgetEditAhead(db: WriteDb, entry: string): void {
  db.prepare('DELETE FROM settings WHERE key = ?').run(PREFIX + entry);
}
