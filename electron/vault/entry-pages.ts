/**
 * Keeping the sealed summary pages in step with the entries. Changes are staged during a
 * write transaction and flushed once at its end, so adding 5,000 entries re-seals each page
 * once, not 5,000 times. A page is `{ e: [id, customerId, title, username, url, otpKind,
 * updatedAt][] }`, sealed under its group's key with associated data naming the page.
 */
import { OTP_KINDS, type OtpKind } from '../../shared/otp';
import { openJson, sealJson, tampered, type SealContext } from './crypto';
import type { WriteDb } from './db';
import type { GroupKey } from './keys';
import type { SealedSummary } from './sealed-entry';
import { deletePage, getPage, putPage, type PageRow } from './store-pages';

export const PAGE_SIZE = 512;

export type PageItem = [id: number, customerId: number, title: string, username: string, url: string, otp: OtpKind | null, updatedAt: number];

/** The one place a list line is made from an entry's summary (a write, a move, a rotation, a page rebuilt). */
export function pageItem(entryId: number, customerId: number, summary: Pick<SealedSummary, 't' | 'u' | 'l' | 'o'>, updatedAt: number): PageItem {
  return [entryId, customerId, summary.t, summary.u, summary.l, summary.o, updatedAt];
}

const KINDS: ReadonlySet<unknown> = new Set(OTP_KINDS);

/** The page's shape, checked by hand: zod took ~35 ms over 100,000 items, this a few. */
function isPageItem(item: unknown): item is PageItem {
  return Array.isArray(item) && item.length === 7
    && Number.isSafeInteger(item[0]) && Number.isSafeInteger(item[1])
    && typeof item[2] === 'string' && typeof item[3] === 'string' && typeof item[4] === 'string'
    && (item[5] === null || KINDS.has(item[5])) && typeof item[6] === 'number' && Number.isFinite(item[6]);
}

function pageItems(page: unknown): PageItem[] | undefined {
  if (typeof page !== 'object' || page === null || !('e' in page) || !Array.isArray(page.e)) return undefined;
  const items: unknown[] = page.e;
  return items.every(isPageItem) ? items : undefined;
}

export function pageOf(entryId: number): number {
  return Math.floor(entryId / PAGE_SIZE);
}

function context(groupId: number, pageNo: number, keyVersion: number): SealContext {
  // A page is this desktop's cache (never shared): named by row ids in both formats.
  return { table: 'entry_pages', row: `${groupId}:${pageNo}`, uid: `${groupId}:${pageNo}`, field: 'summaries', keyVersion };
}

export function openPage(row: PageRow, group: GroupKey): PageItem[] {
  if (row.key_version !== group.version) throw tampered();
  const items = pageItems(openJson(group.key, row.sealed, context(row.group_id, row.page_no, row.key_version)));
  if (!items || items.length !== row.entry_count) throw tampered();
  for (const item of items) if (pageOf(item[0]) !== row.page_no) throw tampered();
  return items;
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

  /** Forgets what is staged for one group (deleted in the same transaction: its pages are gone, its key too). */
  forgetGroup(groupId: number): void {
    for (const [key, bucket] of this.staged) if (bucket.groupId === groupId) this.staged.delete(key);
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
