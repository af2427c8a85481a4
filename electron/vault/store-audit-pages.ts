/**
 * Shared: the audit log read in pages from the oldest row on, for an export of the whole log
 * (audit-reading.ts exportPage): each page is the rows after a row id, in id order, so a log
 * of any length is read page by page in bounded memory and rows written meanwhile follow at the
 * end. SQL only; must never write, and never be the place a page limit is chosen.
 */
import type { ReadDb } from './db';
import type { AuditRow } from './store-audit';

/** Up to `limit` rows with an id above `afterId`, oldest first. */
export function listAuditRowsAfter(db: ReadDb, afterId: number, limit: number): AuditRow[] {
  return db.prepare<[number, number], AuditRow>('SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit);
}
