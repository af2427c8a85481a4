/**
 * What someone who can write the vault file can do to its audit log without any key: recompute
 * every row's hash and the head, exactly as the app does (written out here from the row format).
 * Used by the tamper tests, which then check what still catches the edit. rechainAuditFrom does it
 * from one row on, a v3 row's scope tag, body salt and body digest in its hash as store-audit.ts
 * rowHash puts them (review-round-twelve-v3, v3-local-strip).
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';

export function rechainAudit(db: Database.Database): void {
  const rows = db.prepare<[], { id: number; at: number; actor_id: number | null; action: string; subject: string | null; entry_id: number | null; customer_id: number | null; group_id: number | null; sealed_detail: Buffer | null }>('SELECT * FROM audit_log ORDER BY id').all();
  let prev = Buffer.alloc(32);
  for (const r of rows) {
    const canonical = JSON.stringify([r.id, r.at, r.actor_id, r.action, r.subject, r.entry_id, r.customer_id, r.group_id, r.sealed_detail ? r.sealed_detail.toString('base64') : null, prev.toString('hex')]);
    const hash = createHash('sha256').update(canonical, 'utf8').digest();
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?').run(prev, hash, r.id);
    prev = hash;
  }
  db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(`${rows[rows.length - 1]?.id ?? 0}:${prev.toString('hex')}`);
}

type ChainedRow = { id: number; at: number; actor_id: number | null; action: string; subject: string | null; entry_id: number | null; customer_id: number | null; group_id: number | null; sealed_detail: Buffer | null; scope: Buffer | null; body_salt: Buffer | null; body_digest: Buffer | null };

/** Every row's hash from `from` on recomputed (the rows before it as they are, `from.prev_hash` the link into it), and the head. */
export function rechainAuditFrom(db: Database.Database, from: { readonly id: number; readonly prev_hash: Buffer }): void {
  let prev = from.prev_hash;
  for (const r of db.prepare<[number], ChainedRow>('SELECT * FROM audit_log WHERE id >= ? ORDER BY id').all(from.id)) {
    const hex = (x: Buffer | null): string | null => (x === null ? null : x.toString('hex'));
    const hash = createHash('sha256').update(JSON.stringify([r.id, r.at, r.actor_id, r.action, r.subject, r.entry_id, r.customer_id, r.group_id,
      r.sealed_detail ? r.sealed_detail.toString('base64') : null, prev.toString('hex'), ...(r.scope === null ? [] : [hex(r.scope), hex(r.body_salt), hex(r.body_digest)])]), 'utf8').digest();
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?').run(prev, hash, r.id);
    prev = hash;
  }
  const last = db.prepare<[], { id: number; hash: Buffer }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
  db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(`${last?.id ?? 0}:${last?.hash.toString('hex') ?? ''}`);
}
