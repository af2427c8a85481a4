/** Local (this desktop's cache, never shared; rebuilt from the entries): sealed pages of entry summaries (schema 2). */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';

export interface PageRow {
  readonly group_id: number;
  readonly page_no: number;
  readonly key_version: number;
  readonly entry_count: number;
  readonly sealed: Buffer;
}

export function listPagesInGroups(db: ReadDb, groupIds: readonly number[]): PageRow[] {
  if (groupIds.length === 0) return [];
  const marks = groupIds.map(() => '?').join(', ');
  return db.prepare<number[], PageRow>(`SELECT * FROM entry_pages WHERE group_id IN (${marks}) ORDER BY group_id, page_no`).all(...groupIds);
}

export function getPage(db: ReadDb, groupId: number, pageNo: number): PageRow | undefined {
  return db.prepare<[number, number], PageRow>('SELECT * FROM entry_pages WHERE group_id = ? AND page_no = ?').get(groupId, pageNo);
}

export function putPage(db: WriteDb, row: PageRow): void {
  db.prepare('INSERT OR REPLACE INTO entry_pages (group_id, page_no, key_version, entry_count, sealed) VALUES (?, ?, ?, ?, ?)')
    .run(row.group_id, row.page_no, row.key_version, row.entry_count, row.sealed);
}

export function deletePage(db: WriteDb, groupId: number, pageNo: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM entry_pages WHERE group_id = ? AND page_no = ?').run(groupId, pageNo);
}

export function deletePagesOfGroup(db: WriteDb, groupId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM entry_pages WHERE group_id = ?').run(groupId);
}

/** Entries per group, to tell whether the pages are complete. */
export function entryCountsByGroup(db: ReadDb, groupIds: readonly number[]): Map<number, number> {
  if (groupIds.length === 0) return new Map();
  const marks = groupIds.map(() => '?').join(', ');
  const rows = db.prepare<number[], { group_id: number; n: number }>(`SELECT group_id, count(*) AS n FROM entries WHERE group_id IN (${marks}) AND deleted_at IS NULL GROUP BY group_id`).all(...groupIds);
  return new Map(rows.map((r) => [r.group_id, r.n]));
}
