/**
 * Shared (schema 10): what a write changed, read back from the vault sequence. Every shared row
 * carries the sequence number of its last write (triggers in the migration keep it), so the rows
 * a transaction wrote are those above the sequence it started from — objects, links between
 * them and audit events — named by global id, ready for the team server to ship as they are.
 * Reads only; carries no sealed content (the sync issue adds it to the set it ships).
 */
import type { ReadDb } from './db';
import { uidText } from './ids';

export type ObjectKind = 'user' | 'role' | 'group' | 'customer' | 'entry' | 'signing_key';

export interface ChangedObject {
  readonly kind: ObjectKind;
  readonly id: string;
  readonly revision: number;
  readonly seq: number;
  /** A tombstone: a deleted entry, or a deleted access group (schema 18). */
  readonly deleted: boolean;
}

export interface ChangedLink {
  readonly kind: 'group_key' | 'directory_key';
  /** The ids of what it joins: group and member, or the member alone. */
  readonly ids: readonly string[];
  readonly revision: number;
  readonly seq: number;
}

export interface ChangeSet {
  /** The sequence before the write, and after it. */
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly objects: readonly ChangedObject[];
  readonly links: readonly ChangedLink[];
  /** Audit events written, by global id, in order. */
  readonly events: readonly string[];
}

const OBJECT_TABLES: ReadonlyArray<{ readonly kind: ObjectKind; readonly table: string; readonly deleted: string }> = [
  { kind: 'user', table: 'users', deleted: '0' },
  { kind: 'role', table: 'roles', deleted: '0' },
  { kind: 'group', table: 'access_groups', deleted: 'deleted_at IS NOT NULL' },
  { kind: 'customer', table: 'customers', deleted: '0' },
  { kind: 'entry', table: 'entries', deleted: 'deleted_at IS NOT NULL' },
  // Never rewritten (schema 11): its revision is always 1.
  { kind: 'signing_key', table: 'signing_keys', deleted: '0' },
];

export function currentSequence(db: ReadDb): number {
  return db.prepare<[], { seq: number }>('SELECT seq FROM vault_sequence').get()?.seq ?? 0;
}

/**
 * Everything written after `fromSeq` up to `toSeq` (inclusive). Every sequence number is handed
 * to one row by a trigger (schemas 10, 11, 18: `seq = seq + 1`, then that row's seq), and a row
 * keeps only its last, so the range holds at most `toSeq - fromSeq` rows across these tables:
 * once that many are found no other table can hold one, and the rest are not read (#13 perf: a
 * code's write is one event, found by the first read instead of nine). The tables are read
 * from the likeliest (every write's audit event, then entries and customers), and each list is
 * ordered by seq, so the set is the same as reading every table (allChangesBetween; a test
 * compares the two for every kind of write).
 */
export function changesBetween(db: ReadDb, fromSeq: number, toSeq: number): ChangeSet {
  return readChanges(db, fromSeq, toSeq, toSeq - fromSeq);
}

/** The same set, every table read: what changesBetween must equal (change-set-narrowing.test.ts). */
export function allChangesBetween(db: ReadDb, fromSeq: number, toSeq: number): ChangeSet {
  return readChanges(db, fromSeq, toSeq, Number.POSITIVE_INFINITY);
}

type Found = { objects: ChangedObject[]; links: ChangedLink[]; events: string[] };

function objectsOf(kind: ObjectKind): (db: ReadDb, fromSeq: number, toSeq: number, into: Found) => number {
  const spec = OBJECT_TABLES.find((t) => t.kind === kind);
  if (spec === undefined) throw new Error(`changesBetween: no table for ${kind}`);
  const { table, deleted } = spec;
  const revision = table === 'signing_keys' ? '1' : 'revision';
  const sql = `SELECT uid, ${revision} AS revision, seq, ${deleted} AS deleted FROM ${table} WHERE seq > ? AND seq <= ? ORDER BY seq`;
  return (db, fromSeq, toSeq, into) => {
    const rows = db.prepare<[number, number], { uid: Buffer; revision: number; seq: number; deleted: number }>(sql).all(fromSeq, toSeq);
    for (const r of rows) into.objects.push({ kind, id: uidText(r.uid), revision: r.revision, seq: r.seq, deleted: r.deleted === 1 });
    return rows.length;
  };
}

/** Every sequenced table, likeliest first; each reader adds what it found and says how many rows. */
const READERS: ReadonlyArray<(db: ReadDb, fromSeq: number, toSeq: number, into: Found) => number> = [
  (db, fromSeq, toSeq, into) => {
    const rows = db.prepare<[number, number], { uid: Buffer }>('SELECT uid FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq').all(fromSeq, toSeq);
    for (const r of rows) into.events.push(uidText(r.uid));
    return rows.length;
  },
  objectsOf('entry'),
  objectsOf('customer'),
  objectsOf('user'),
  objectsOf('group'),
  (db, fromSeq, toSeq, into) => {
    const rows = db.prepare<[number, number], { g: Buffer; u: Buffer; revision: number; seq: number }>(
      'SELECT g.uid AS g, u.uid AS u, gk.revision, gk.seq FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id JOIN users u ON u.id = gk.user_id WHERE gk.seq > ? AND gk.seq <= ? ORDER BY gk.seq',
    ).all(fromSeq, toSeq);
    for (const r of rows) into.links.push({ kind: 'group_key', ids: [uidText(r.g), uidText(r.u)], revision: r.revision, seq: r.seq });
    return rows.length;
  },
  (db, fromSeq, toSeq, into) => {
    const rows = db.prepare<[number, number], { u: Buffer; revision: number; seq: number }>(
      'SELECT u.uid AS u, dk.revision, dk.seq FROM directory_keys dk JOIN users u ON u.id = dk.user_id WHERE dk.seq > ? AND dk.seq <= ? ORDER BY dk.seq',
    ).all(fromSeq, toSeq);
    for (const r of rows) into.links.push({ kind: 'directory_key', ids: [uidText(r.u)], revision: r.revision, seq: r.seq });
    return rows.length;
  },
  objectsOf('role'),
  objectsOf('signing_key'),
];

function readChanges(db: ReadDb, fromSeq: number, toSeq: number, atMost: number): ChangeSet {
  const found: Found = { objects: [], links: [], events: [] };
  let rows = 0;
  for (const read of READERS) {
    if (rows >= atMost) break;
    rows += read(db, fromSeq, toSeq, found);
  }
  // Seqs are unique, so sorting by seq gives the order of reading every table in turn.
  found.objects.sort((a, b) => a.seq - b.seq);
  found.links.sort((a, b) => a.seq - b.seq);
  return { fromSeq, toSeq, objects: found.objects, links: found.links, events: found.events };
}
