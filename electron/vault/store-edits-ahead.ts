/**
 * Entries another device wrote to whose events came here ahead of the record of that write: a
 * desktop's events go on past a change of its kept unsent (their own sent mark:
 * store-events-sent.ts), so an edit's `entry.edit` may be taken in a pull before the edit itself.
 * A record is judged by the events of its own pull (replica-given-way.ts, replica-both-changed.ts),
 * which then held no edit: a code step or a re-seal was read into it, and this desktop's own unsent
 * delete or edit was written over the edit, lost on every desktop. Noted here when the event is
 * taken, with who made the write, until a record of the entry is; the entry's next record then
 * counts as edited elsewhere when the write can be in it (editAheadIn).
 * Local bookkeeping in settings, one row an entry (its global id, whether the write changed what
 * the entry says or only stepped its HOTP counter, and its authors' user ids): never synced, never
 * a secret. The row goes with the next record of the entry taken in.
 */
import type { ReadDb, WriteDb } from './db';
import { getSetting, setSetting } from './store-meta';

const PREFIX = 'replica.edit_ahead.';

/** What the events said of the entry: its content changed, or only a code taken (its HOTP counter). */
export type EditAhead = 'content' | 'write';

/** An entry's writes gone ahead of their record: what they did, and who made them (undefined: not known, anyone). */
export interface EditsAhead {
  readonly kind: EditAhead;
  readonly authors: ReadonlySet<string> | undefined;
}

function readNote(db: ReadDb, entry: string): EditsAhead | undefined {
  const value = getSetting(db, PREFIX + entry);
  // A note from before its authors were kept: anyone's.
  if (value === 'content' || value === 'write') return { kind: value, authors: undefined };
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { kind, authors } = parsed as { readonly kind?: unknown; readonly authors?: unknown };
  if (kind !== 'content' && kind !== 'write') return undefined;
  const named = Array.isArray(authors) && authors.every((a): a is string => typeof a === 'string') ? new Set(authors) : undefined;
  return { kind, authors: named };
}

/**
 * What the writes noted ahead of `record` can have done in it, or undefined when none can be in it. A
 * record one write past the revision agreed here holds that one write, its author's: the edit of
 * another, noted ahead (a record that never comes: the edit refused, dropped on its desktop when its
 * person lost the group), is no part of it (hostile review of b93ad33: a re-seal taken over this
 * desktop's unsent delete for it). Further past, anyone's write may be in it.
 */
export function editAheadIn(db: ReadDb, entry: string, record: { readonly revision: number; readonly author: string }, agreed: number): EditAhead | undefined {
  const note = readNote(db, entry);
  if (note === undefined) return undefined;
  if (record.revision === agreed + 1 && note.authors !== undefined && !note.authors.has(record.author)) return undefined;
  return note.kind;
}

/** Notes each entry of `edits` held here (a content change stays one whatever comes after it; authors gathered). */
export function noteEditsAhead(db: WriteDb, edits: ReadonlyMap<string, EditsAhead>, heldHere: (entry: string) => boolean): void {
  for (const [entry, edit] of edits) {
    if (!heldHere(entry)) continue;
    const before = readNote(db, entry);
    const kind = before?.kind === 'content' ? 'content' : edit.kind;
    const authors = before !== undefined && before.authors === undefined ? undefined
      : edit.authors === undefined ? undefined : [...new Set([...(before?.authors ?? []), ...edit.authors])];
    setSetting(db, PREFIX + entry, authors === undefined ? kind : JSON.stringify({ kind, authors }));
  }
}

/** A record of the entry was taken in: its events no longer wait for it. */
export function forgetEditAhead(db: WriteDb, entry: string): void {
  db.prepare('DELETE FROM settings WHERE key = ?').run(PREFIX + entry);
}
