/**
 * What someone who can write the vault file can do to its audit log without any key: recompute
 * every row's hash and the head, exactly as the app does (written out here from the row format).
 * Used by the tamper tests, which then check what still catches the edit.
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
