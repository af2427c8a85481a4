/**
 * Local: what of a group's own record the team server holds (as last agreed here), kept while a change of it made on
 * this desktop waits unsent (replica-group-unsent.ts, docs/SYNC.md "A rename its lead may no longer send"): its name
 * (`agreed_name:<group id>`: the sealed name, its keyed index, and the group's revision that carries it) and its server
 * codes setting (`agreed_codes:<group id>`: 1 or 0), a `meta` row each. A person who may no longer send the change goes
 * back to them: nothing else here holds what it replaced. SQL only; never opens or seals a name.
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

const codesKey = (groupId: number): string => `agreed_codes:${groupId}`;

/** The server codes setting kept as agreed for `groupId`, if one is. */
export function agreedCodesOf(db: ReadDb, groupId: number): boolean | undefined {
  const value = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(codesKey(groupId))?.value;
  return value === undefined ? undefined : value === '1';
}

export function keepAgreedCodes(db: WriteDb, groupId: number, on: boolean): void {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(codesKey(groupId), on ? '1' : '0');
}

/** Both wiped (the group deleted: store-groups.ts tombstoneGroup keeps no name of it, nor its keyed index). */
export function dropAgreedGroup(db: WriteDb, groupId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM meta WHERE key IN (?, ?)').run(metaKey(groupId), codesKey(groupId));
}

/** The groups an agreed name or setting is kept of. */
export function groupsAgreedKept(db: ReadDb): number[] {
  const rows = db.prepare<[], { key: string }>("SELECT key FROM meta WHERE key LIKE 'agreed_name:%' OR key LIKE 'agreed_codes:%'").all();
  return [...new Set(rows.map((r) => Number(r.key.slice(r.key.indexOf(':') + 1))))].filter((id) => Number.isInteger(id));
}

/**
 * A group this desktop deleted and has not sent (`deletion_kept:<group id>`, replica-group-undelete.ts): what the team
 * server holds of it, the tombstone keeping none of it (store-groups.ts tombstoneGroup): its name as agreed, its server
 * codes setting, the revision agreed, and each member's wrap (as wrapped to their public key) with its revision. Wiped
 * once the deletion is stored, or the group put back.
 */
export interface KeptDeletion {
  readonly sealedName: Buffer;
  readonly nameIndex: Buffer;
  readonly serverCodes: boolean;
  /** The group's revision agreed with the server when it was deleted here (0: none known). */
  readonly revision: number;
  /** When it was deleted here (a tombstone made again, its person managing the group still). */
  readonly deletedAt: number;
  readonly wraps: ReadonlyArray<KeptWrap>;
}

export interface KeptWrap {
  readonly userId: number;
  readonly keyVersion: number;
  readonly wrappedKey: Buffer;
  readonly wrappedSecretKey: Buffer | null;
  readonly lead: boolean;
  readonly byRole: boolean;
  readonly revision: number;
}

const deletionKey = (groupId: number): string => `deletion_kept:${groupId}`;

interface StoredWrap { readonly u: number; readonly v: number; readonly k: string; readonly s: string | null; readonly l: boolean; readonly b: boolean; readonly r: number }
interface StoredDeletion { readonly n: string; readonly i: string; readonly c: boolean; readonly r: number; readonly d: number; readonly w: StoredWrap[] }

export function keepDeletion(db: WriteDb, groupId: number, kept: KeptDeletion): void {
  noteSealedReplaced(db);
  const stored: StoredDeletion = {
    n: kept.sealedName.toString('base64'), i: kept.nameIndex.toString('base64'), c: kept.serverCodes, r: kept.revision, d: kept.deletedAt,
    w: kept.wraps.map((w) => ({ u: w.userId, v: w.keyVersion, k: w.wrappedKey.toString('base64'), s: w.wrappedSecretKey?.toString('base64') ?? null, l: w.lead, b: w.byRole, r: w.revision })),
  };
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(deletionKey(groupId), JSON.stringify(stored));
}

export function keptDeletionOf(db: ReadDb, groupId: number): KeptDeletion | undefined {
  const value = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(deletionKey(groupId))?.value;
  if (value === undefined) return undefined;
  const s = JSON.parse(value) as StoredDeletion;
  return {
    sealedName: Buffer.from(s.n, 'base64'), nameIndex: Buffer.from(s.i, 'base64'), serverCodes: s.c, revision: s.r, deletedAt: s.d,
    wraps: s.w.map((w) => ({ userId: w.u, keyVersion: w.v, wrappedKey: Buffer.from(w.k, 'base64'), wrappedSecretKey: w.s === null ? null : Buffer.from(w.s, 'base64'), lead: w.l, byRole: w.b, revision: w.r })),
  };
}

export function dropKeptDeletion(db: WriteDb, groupId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM meta WHERE key = ?').run(deletionKey(groupId));
}

/** The groups a deletion not sent is kept of. */
export function groupsDeletionKept(db: ReadDb): number[] {
  const rows = db.prepare<[], { key: string }>("SELECT key FROM meta WHERE key LIKE 'deletion_kept:%'").all();
  return rows.map((r) => Number(r.key.slice(r.key.indexOf(':') + 1))).filter((id) => Number.isInteger(id));
}
