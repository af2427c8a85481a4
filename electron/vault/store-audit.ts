/**
 * The audit log: append-only rows, each carrying the SHA-256 of the previous row, plus the
 * head (last id and hash) in meta so removing rows from the end is caught too.
 * The chain needs no key, so a failed sign-in (no key unlocked) is chained like the rest;
 * what a row is about ("Acme Corp/M365 admin") is sealed under the directory key.
 */
import { createHash } from 'node:crypto';
import type { ReadDb, WriteDb } from './db';
import { getMeta, setMeta } from './store-meta';

export interface AuditRow {
  readonly id: number;
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

function rowHash(row: Omit<AuditRow, 'hash'>): Buffer {
  const canonical = JSON.stringify([
    row.id, row.at, row.actor_id, row.action, row.subject, row.entry_id, row.customer_id, row.group_id,
    row.sealed_detail ? row.sealed_detail.toString('base64') : null, row.prev_hash.toString('hex'),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest();
}

/** Appends one row; `sealDetail` seals the readable detail for the new row's id. */
export function appendAudit(db: WriteDb, fields: AuditFields, sealDetail?: (rowId: number) => Buffer): number {
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
  const id = Number(
    db.prepare('INSERT INTO audit_log (at, actor_id, action, subject, entry_id, customer_id, group_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(base.at, base.actor_id, base.action, base.subject, base.entry_id, base.customer_id, base.group_id, prevHash, GENESIS).lastInsertRowid,
  );
  const sealed = sealDetail ? sealDetail(id) : null;
  const hash = rowHash({ id, ...base, sealed_detail: sealed, prev_hash: prevHash });
  db.prepare('UPDATE audit_log SET sealed_detail = ?, hash = ? WHERE id = ?').run(sealed, hash, id);
  setMeta(db, HEAD_KEY, `${id}:${hash.toString('hex')}`);
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
