/**
 * Local: the group key versions this desktop rotated away from while its rotation is not yet on
 * the team server (docs/SYNC.md, "an edit crossing a rotation"), wrapped to this person's own
 * public key, one `meta` row a group (`rotated_from:<group id>`, a JSON list of versions). An edit
 * another desktop sealed under such a version before the rotation reached the server is opened
 * with it and sealed again under the new one. Dropped once the group's record at its new version
 * is stored by the server (ReplicaService.markSent). SQL only; never opens or wraps a key.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

export interface RotatedFromRow {
  readonly version: number;
  readonly wrappedKey: Buffer;
  readonly wrappedSecretKey: Buffer | null;
  /** The group row's revision when rotated from this version (absent in rows kept before it was noted): a give-way's way back to it. */
  readonly groupRevision?: number;
}

const metaKey = (groupId: number): string => `rotated_from:${groupId}`;

interface Stored { readonly v: number; readonly k: string; readonly s: string | null; readonly r?: number }

/** The versions of `groupId` kept here, oldest first. */
export function rotatedFromOf(db: ReadDb, groupId: number): RotatedFromRow[] {
  const value = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(metaKey(groupId))?.value;
  if (value === undefined) return [];
  return (JSON.parse(value) as Stored[]).map((s) => ({
    version: s.v, wrappedKey: Buffer.from(s.k, 'base64'), wrappedSecretKey: s.s === null ? null : Buffer.from(s.s, 'base64'), ...(typeof s.r === 'number' ? { groupRevision: s.r } : {}),
  }));
}

/** Keeps `row` beside those held for `groupId` (a version held already stays as it was). */
export function keepRotatedFrom(db: WriteDb, groupId: number, row: RotatedFromRow): void {
  const rows = rotatedFromOf(db, groupId);
  if (rows.some((r) => r.version === row.version)) return;
  const stored: Stored[] = [...rows, row].map((r) => ({
    v: r.version, k: r.wrappedKey.toString('base64'), s: r.wrappedSecretKey === null ? null : r.wrappedSecretKey.toString('base64'), ...(r.groupRevision === undefined ? {} : { r: r.groupRevision }),
  }));
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(metaKey(groupId), JSON.stringify(stored));
}

/** Drops every version of `groupId` kept here (its rotation is on the server, or the group left this file). */
export function dropRotatedFrom(db: WriteDb, groupId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM meta WHERE key = ?').run(metaKey(groupId));
}

/** Groups with versions kept here. */
export function groupsRotatedFrom(db: ReadDb): number[] {
  return db.prepare<[], { key: string }>("SELECT key FROM meta WHERE key LIKE 'rotated_from:%'").all().map((r) => Number(r.key.slice('rotated_from:'.length)));
}
