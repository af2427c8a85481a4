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

/** Everything written after `fromSeq` up to `toSeq` (inclusive). */
export function changesBetween(db: ReadDb, fromSeq: number, toSeq: number): ChangeSet {
  const objects: ChangedObject[] = [];
  for (const { kind, table, deleted } of OBJECT_TABLES) {
    const revision = table === 'signing_keys' ? '1' : 'revision';
    const rows = db.prepare<[number, number], { uid: Buffer; revision: number; seq: number; deleted: number }>(
      `SELECT uid, ${revision} AS revision, seq, ${deleted} AS deleted FROM ${table} WHERE seq > ? AND seq <= ? ORDER BY seq`,
    ).all(fromSeq, toSeq);
    for (const r of rows) objects.push({ kind, id: uidText(r.uid), revision: r.revision, seq: r.seq, deleted: r.deleted === 1 });
  }
  const links: ChangedLink[] = [];
  for (const r of db.prepare<[number, number], { g: Buffer; u: Buffer; revision: number; seq: number }>(
    'SELECT g.uid AS g, u.uid AS u, gk.revision, gk.seq FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id JOIN users u ON u.id = gk.user_id WHERE gk.seq > ? AND gk.seq <= ? ORDER BY gk.seq',
  ).all(fromSeq, toSeq)) {
    links.push({ kind: 'group_key', ids: [uidText(r.g), uidText(r.u)], revision: r.revision, seq: r.seq });
  }
  for (const r of db.prepare<[number, number], { u: Buffer; revision: number; seq: number }>(
    'SELECT u.uid AS u, dk.revision, dk.seq FROM directory_keys dk JOIN users u ON u.id = dk.user_id WHERE dk.seq > ? AND dk.seq <= ? ORDER BY dk.seq',
  ).all(fromSeq, toSeq)) {
    links.push({ kind: 'directory_key', ids: [uidText(r.u)], revision: r.revision, seq: r.seq });
  }
  const events = db.prepare<[number, number], { uid: Buffer }>('SELECT uid FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq').all(fromSeq, toSeq).map((r) => uidText(r.uid));
  objects.sort((a, b) => a.seq - b.seq);
  links.sort((a, b) => a.seq - b.seq);
  return { fromSeq, toSeq, objects, links, events };
}
