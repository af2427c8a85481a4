/**
 * The audit log: append-only rows, each carrying the SHA-256 of the previous row, plus the
 * head (last id and hash) in meta so removing rows from the end is caught too.
 * The chain needs no key, so a failed sign-in (no key unlocked) is chained like the rest;
 * what a row is about ("Acme Corp/M365 admin") is sealed under the directory key.
 *
 * The keyed anchor: every row written by someone signed in also records, in meta, an HMAC of
 * that row's hash under a key derived from the directory key (which every user holds and a
 * file alone does not give). Someone who edits the file and recomputes every hash and the head
 * cannot recompute the anchor; each sign-in checks it before writing its own row.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { ReadDb, WriteDb } from './db';
import { newUid } from './ids';
import type { StoredRef } from './keys';
import { getMeta, setMeta } from './store-meta';

export interface AuditRow {
  readonly id: number;
  /** Schema 10: the event's global id (its sealed detail names it). */
  readonly uid: Buffer;
  readonly at: number;
  readonly actor_id: number | null;
  readonly action: string;
  readonly subject: string | null;
  readonly entry_id: number | null;
  readonly customer_id: number | null;
  readonly group_id: number | null;
  readonly sealed_detail: Buffer | null;
  readonly prev_hash: Buffer;
  readonly hash: Buffer;
}

export type AuditFields = Pick<AuditRow, 'at' | 'actor_id' | 'action'> &
  Partial<Pick<AuditRow, 'subject' | 'entry_id' | 'customer_id' | 'group_id'>>;

const GENESIS: Buffer = Buffer.alloc(32);
const HEAD_KEY = 'audit_head';
const ANCHOR_KEY = 'audit_anchor';
/** The only rows written without a key: they may follow the anchor. */
const UNKEYED_ACTIONS: ReadonlySet<string> = new Set(['signin.failed']);

/** The anchor's HMAC key, from the directory key. */
export function auditAnchorKey(directoryKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', directoryKey, Buffer.alloc(0), Buffer.from('crewvault/v1 audit anchor', 'utf8'), 32));
}

function anchorMac(key: Buffer, id: number, hash: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}:${hash.toString('hex')}`, 'utf8').digest();
}

/** `fresh`: found now, not only the record of an earlier finding. */
export type AnchorCheck = { readonly ok: true; readonly anchoredRow: number } | { readonly ok: false; readonly reason: string; readonly fresh: boolean };

/**
 * Whether the log still ends as the last keyed writer left it: the anchored row's hash matches
 * its HMAC, and only unkeyed rows (failed sign-ins) come after it. `required` says the vault
 * has had an anchor (keys.ts DIRECTORY_WRAP_ANCHORED), so a missing one was removed; a vault
 * from before the anchor has none yet (`anchoredRow` 0) and the next keyed row sets it.
 * Also fails while the log holds an `audit.anchor_broken` row: a broken anchor stays reported.
 */
export function checkAuditAnchor(db: ReadDb, key: Buffer, required: boolean): AnchorCheck {
  const recorded = db.prepare<[], { id: number }>("SELECT id FROM audit_log WHERE action = 'audit.anchor_broken' ORDER BY id LIMIT 1").get();
  const anchor = getMeta(db, ANCHOR_KEY);
  if (anchor === undefined) return required ? { ok: false, fresh: true, reason: 'the keyed anchor was removed' } : { ok: true, anchoredRow: 0 };
  const match = /^(\d+):([0-9a-f]{64})$/.exec(anchor);
  const id = Number(match?.[1]);
  const row = match ? db.prepare<[number], { hash: Buffer }>('SELECT hash FROM audit_log WHERE id = ?').get(id) : undefined;
  if (!match || !row) return { ok: false, fresh: true, reason: `the keyed anchor names row ${match?.[1] ?? '?'}, which is not in the log` };
  const mac = Buffer.from(match[2] ?? '', 'hex');
  if (!timingSafeEqual(mac, anchorMac(key, id, row.hash))) return { ok: false, fresh: true, reason: `row ${id} (or one before it) was rewritten: its keyed anchor does not match` };
  const later = db.prepare<[number], { id: number; action: string }>('SELECT id, action FROM audit_log WHERE id > ? ORDER BY id').all(id);
  const keyed = later.find((r) => !UNKEYED_ACTIONS.has(r.action));
  if (keyed) return { ok: false, fresh: true, reason: `row ${keyed.id} claims to be written by someone signed in, but without the key` };
  if (recorded) return { ok: false, fresh: false, reason: `row ${recorded.id} records that the log was found rewritten at an earlier sign-in` };
  return { ok: true, anchoredRow: id };
}

function rowHash(row: Omit<AuditRow, 'hash' | 'uid'>): Buffer {
  const canonical = JSON.stringify([
    row.id, row.at, row.actor_id, row.action, row.subject, row.entry_id, row.customer_id, row.group_id,
    row.sealed_detail ? row.sealed_detail.toString('base64') : null, row.prev_hash.toString('hex'),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest();
}

/** What a signed-in writer brings to an audit row: the key that moves the keyed anchor (anyone signed in has it). */
export interface AuditWriter {
  readonly auditKey: Buffer;
}

/** Appends one row; `sealDetail` seals the readable detail for the new row; `writer` (someone
 * signed in) moves the keyed anchor to this row. */
export function appendAudit(db: WriteDb, fields: AuditFields, sealDetail?: (event: StoredRef) => Buffer, writer?: AuditWriter): number {
  const anchorKey = writer?.auditKey;
  const last = db.prepare<[], { hash: Buffer }>('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
  const prevHash = last?.hash ?? GENESIS;
  const base = {
    at: fields.at,
    actor_id: fields.actor_id,
    action: fields.action,
    subject: fields.subject ?? null,
    entry_id: fields.entry_id ?? null,
    customer_id: fields.customer_id ?? null,
    group_id: fields.group_id ?? null,
  };
  const uid = newUid(fields.at);
  const id = Number(
    db.prepare('INSERT INTO audit_log (uid, at, actor_id, action, subject, entry_id, customer_id, group_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(uid, base.at, base.actor_id, base.action, base.subject, base.entry_id, base.customer_id, base.group_id, prevHash, GENESIS).lastInsertRowid,
  );
  const sealed = sealDetail ? sealDetail({ id, uid }) : null;
  const hash = rowHash({ id, ...base, sealed_detail: sealed, prev_hash: prevHash });
  db.prepare('UPDATE audit_log SET sealed_detail = ?, hash = ? WHERE id = ?').run(sealed, hash, id);
  setMeta(db, HEAD_KEY, `${id}:${hash.toString('hex')}`);
  if (anchorKey) setMeta(db, ANCHOR_KEY, `${id}:${anchorMac(anchorKey, id, hash).toString('hex')}`);
  return id;
}

export function listAuditRows(db: ReadDb, limit = 1000): AuditRow[] {
  return db.prepare<[number], AuditRow>('SELECT * FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id').all(limit);
}

export type AuditVerification =
  | { readonly ok: true; readonly rows: number }
  | { readonly ok: false; readonly rows: number; readonly brokenAt: number; readonly reason: string };

/** Walks the chain from the first row; reports the first row whose link does not hold. */
export function verifyAuditChain(db: ReadDb): AuditVerification {
  let prev: Buffer = GENESIS;
  let rows = 0;
  let lastId = 0;
  for (const row of db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id').iterate()) {
    rows++;
    if (!row.prev_hash.equals(prev)) {
      return { ok: false, rows, brokenAt: row.id, reason: `row ${row.id} does not follow row ${lastId || 'start'}: a row before it was removed or changed` };
    }
    if (!rowHash(row).equals(row.hash)) return { ok: false, rows, brokenAt: row.id, reason: `row ${row.id} was changed after it was written` };
    prev = row.hash;
    lastId = row.id;
  }
  const head = getMeta(db, HEAD_KEY);
  const expected = rows === 0 ? undefined : `${lastId}:${prev.toString('hex')}`;
  if (head !== expected) {
    return { ok: false, rows, brokenAt: lastId + 1, reason: `the log ends at row ${lastId || 'start'} but the vault recorded a later head: rows were removed from the end` };
  }
  return { ok: true, rows };
}

/** When `actorId` last did one of `actions` to entry `entryId` (ms), if ever. */
export function lastEntryActionAt(db: ReadDb, actorId: number, entryId: number, actions: readonly string[]): number | undefined {
  const marks = actions.map(() => '?').join(', ');
  const row = db.prepare<unknown[], { at: number | null }>(`SELECT max(at) AS at FROM audit_log WHERE actor_id = ? AND entry_id = ? AND action IN (${marks})`).get(actorId, entryId, ...actions);
  return row?.at ?? undefined;
}
