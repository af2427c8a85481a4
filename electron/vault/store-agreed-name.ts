/**
 * Local: a group's name as the team server holds it (as last agreed here), kept while a rename of this desktop's own
 * waits unsent (replica-group-name.ts, docs/SYNC.md "A rename its lead may no longer send"), one `meta` row a group
 * (`agreed_name:<group id>`: the sealed name, its keyed index, and the group's revision that carries it). A lead
 * unmade before the rename went goes back to it: nothing else here holds the name it replaced. SQL only; never opens
 * or seals a name.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

export interface AgreedName {
  readonly sealedName: Buffer;
  readonly nameIndex: Buffer;
  /** The group's revision that carries this name on the server (0: not known here, a group agreed at no revision). */
  readonly revision: number;
}

const metaKey = (groupId: number): string => `agreed_name:${groupId}`;

interface Stored { readonly n: string; readonly i: string; readonly r: number }

export function agreedNameOf(db: ReadDb, groupId: number): AgreedName | undefined {
  const value = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(metaKey(groupId))?.value;
  if (value === undefined) return undefined;
  const s = JSON.parse(value) as Stored;
  return { sealedName: Buffer.from(s.n, 'base64'), nameIndex: Buffer.from(s.i, 'base64'), revision: s.r };
}

/** Kept for `groupId`, replacing what was kept before. */
export function keepAgreedName(db: WriteDb, groupId: number, name: AgreedName): void {
  noteSealedReplaced(db);
  const stored: Stored = { n: name.sealedName.toString('base64'), i: name.nameIndex.toString('base64'), r: name.revision };
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(metaKey(groupId), JSON.stringify(stored));
}

export function dropAgreedName(db: WriteDb, groupId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM meta WHERE key = ?').run(metaKey(groupId));
}
