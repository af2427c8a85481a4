/**
 * Keeping the sealed summary pages in step with the entries. Changes are staged during a
 * write transaction and flushed once at its end, so adding 5,000 entries re-seals each page
 * once, not 5,000 times. A page is `{ e: [id, customerId, title, username, url, otpKind,
 * updatedAt][] }`, sealed under its group's key with associated data naming the page.
 */
import { z } from 'zod';
import { OTP_KINDS } from '../../shared/otp';
import { openJson, sealJson, tampered, type SealContext } from './crypto';
import type { WriteDb } from './db';
import type { GroupKey } from './keys';
import { deletePage, getPage, putPage, type PageRow } from './store-pages';

export const PAGE_SIZE = 512;

const itemSchema = z.tuple([z.number().int(), z.number().int(), z.string(), z.string(), z.string(), z.enum(OTP_KINDS).nullable(), z.number()]);
const pageSchema = z.object({ e: z.array(itemSchema) });
export type PageItem = z.infer<typeof itemSchema>;

export function pageOf(entryId: number): number {
  return Math.floor(entryId / PAGE_SIZE);
}

function context(groupId: number, pageNo: number, keyVersion: number): SealContext {
  return { table: 'entry_pages', row: `${groupId}:${pageNo}`, field: 'summaries', keyVersion };
}

export function openPage(row: PageRow, group: GroupKey): PageItem[] {
  if (row.key_version !== group.version) throw tampered();
  const parsed = pageSchema.safeParse(openJson(group.key, row.sealed, context(row.group_id, row.page_no, row.key_version)));
  if (!parsed.success || parsed.data.e.length !== row.entry_count) throw tampered();
  for (const item of parsed.data.e) if (pageOf(item[0]) !== row.page_no) throw tampered();
  return parsed.data.e;
}

/** Staged page changes of one write transaction: entry id → its new item, or null (removed). */
export class PageChanges {
  private readonly staged = new Map<string, { groupId: number; pageNo: number; items: Map<number, PageItem | null> }>();

  set(groupId: number, item: PageItem): void {
    this.bucket(groupId, pageOf(item[0])).set(item[0], item);
  }

  remove(groupId: number, entryId: number): void {
    this.bucket(groupId, pageOf(entryId)).set(entryId, null);
  }

  /** Applies every staged change, each page opened and re-sealed once. */
  flush(db: WriteDb, groupKey: (groupId: number) => GroupKey): void {
    for (const { groupId, pageNo, items } of this.staged.values()) {
      const group = groupKey(groupId);
      const existing = getPage(db, groupId, pageNo);
      const current = new Map<number, PageItem>(existing ? openPage(existing, group).map((item) => [item[0], item]) : []);
      for (const [id, item] of items) {
        if (item) current.set(id, item);
        else current.delete(id);
      }
      writePage(db, group, groupId, pageNo, [...current.values()]);
    }
    this.staged.clear();
  }

  clear(): void {
    this.staged.clear();
  }

  private bucket(groupId: number, pageNo: number): Map<number, PageItem | null> {
    const key = `${groupId}:${pageNo}`;
    let entry = this.staged.get(key);
    if (!entry) {
      entry = { groupId, pageNo, items: new Map() };
      this.staged.set(key, entry);
    }
    return entry.items;
  }
}

export function writePage(db: WriteDb, group: GroupKey, groupId: number, pageNo: number, items: PageItem[]): void {
  if (items.length === 0) {
    deletePage(db, groupId, pageNo);
    return;
  }
  items.sort((a, b) => a[0] - b[0]);
  putPage(db, { group_id: groupId, page_no: pageNo, key_version: group.version, entry_count: items.length, sealed: sealJson(group.key, { e: items }, context(groupId, pageNo, group.version)) });
}
