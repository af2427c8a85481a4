/**
 * Reading entries: customers, the entry list (from the sealed summary pages, rebuilt when
 * they do not account for every entry), search, "Customer/Title" lookups through the keyed
 * index, and one entry's details. Only what this person's group keys open is shown.
 * Must never open an entry's details for someone without its group's secret key, nor show
 * notes to a role that may not reveal a password.
 */
import { CrewvaultError } from '../../shared/errors';
import { tableEntries } from '../../shared/entry-table';
import type { CustomerView, EntryDetails, EntrySummary, EntryTable, UserView } from '../../shared/model';
import type { Permission } from '../../shared/policy';
import { entryRanker, parseQuery, type SearchRank } from '../../shared/search';
import type { ReadDb, WriteDb } from './db';
import type { EntriesCore } from './entries-service';
import { heldGroupKey, visibleEntryRow } from './entry-access';
import { NAME_ORDER, orderedTable } from './entry-order';
import { openPage, pageItem, type PageItem } from './entry-pages';
import { entryLookup } from './keys';
import { detailsView, openDetails, openSummary, summaryView } from './sealed-entry';
import { countEntriesByCustomer } from './store-customers';
import { findEntryRowsByLookup, listEntryRowsInGroups } from './store-entries';
import { deletePagesOfGroup, entryCountsByGroup, listPagesInGroups, type PageRow } from './store-pages';

export interface EntryFilter {
  readonly customer?: string;
  readonly search?: string;
}

/** What listing needs of a signed-in session. */
export interface ListingCore extends Pick<EntriesCore, 'ring' | 'customers' | 'pages' | 'read' | 'write' | 'require'> {
  user(): UserView;
  permissions(db: ReadDb): readonly Permission[];
}

/** Splits "Customer/Title" at every slash: either side may hold slashes of its own. */
export function pathCandidates(path: string): Array<{ customer: string; title: string }> {
  const out: Array<{ customer: string; title: string }> = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const customer = path.slice(0, i).trim();
    const title = path.slice(i + 1).trim();
    if (customer && title) out.push({ customer, title });
  }
  return out;
}

export class ListingService {
  private readonly core: ListingCore;

  constructor(core: ListingCore) {
    this.core = core;
  }

  async listCustomers(): Promise<CustomerView[]> {
    return this.core.read((r) => {
      this.core.require(r, 'entries.view');
      this.core.customers.loadAll(r);
      const counts = countEntriesByCustomer(r, [...this.core.ring.groups.keys()]);
      // A customer is shown to someone who can see one of its entries; owners see every one.
      const everyOne = this.core.user().role === 'owner';
      return [...this.core.customers.opened()]
        .filter(([id]) => everyOne || (counts.get(id) ?? 0) > 0)
        .map(([id, name]) => ({ id, name, entryCount: counts.get(id) ?? 0 }))
        .sort((a, b) => NAME_ORDER.compare(a.name, b.name));
    });
  }

  /** Every visible entry, optionally of one customer and matching `search` by the one search
   * rule (shared/search.ts): every term in some field, best matches first. */
  async listEntries(filter: EntryFilter = {}): Promise<EntrySummary[]> {
    return tableEntries(await this.listEntryTable(filter));
  }

  /** listEntries as columns (what the UI asks for: 100,000 entries in a fraction of the bytes). */
  async listEntryTable(filter: EntryFilter = {}): Promise<EntryTable> {
    // One read for the whole list (search runs per keystroke): pages, names and keys together.
    // Pages that do not account for every entry are rebuilt in a write, then read again.
    return await this.core.read((r) => this.tableNow(r, filter)) ?? await this.rebuildThenRead(filter);
  }

  /** The list as one read finds it; undefined when some group's pages must be rebuilt first. */
  private tableNow(r: ReadDb, filter: EntryFilter): EntryTable | undefined {
    this.core.require(r, 'entries.view');
    const pages = this.currentPages(r);
    if (!pages) return undefined;
    this.core.customers.loadAll(r);
    const customerKey = filter.customer?.trim().toLowerCase();
    // The one search rule (shared/search.ts), applied as the pages open: only matches are ordered.
    const query = filter.search === undefined ? undefined : parseQuery(filter.search);
    const rankOf = query !== undefined && query.terms.length > 0 ? entryRanker(query) : undefined;
    const ranks: SearchRank[] = [];
    const items: PageItem[] = [];
    const groupIds: number[] = [];
    for (const page of pages) {
      for (const item of openPage(page, heldGroupKey(this.core.ring, page.group_id))) {
        if (customerKey !== undefined && this.core.customers.name(r, item[1]).toLowerCase() !== customerKey) continue;
        if (rankOf !== undefined) {
          const rank = rankOf(this.core.customers.name(r, item[1]), item[2], item[3], item[4]);
          if (rank === -1) continue;
          ranks.push(rank);
        }
        items.push(item);
        groupIds.push(page.group_id);
      }
    }
    // Searched: best rank first, list order within a rank (shared/search.ts searchItems' order).
    return orderedTable(items, groupIds, (customerId) => this.core.customers.name(r, customerId), rankOf === undefined ? undefined : ranks);
  }

  private async rebuildThenRead(filter: EntryFilter): Promise<EntryTable> {
    await this.core.write((w) => this.rebuildStalePages(w));
    const table = await this.core.read((r) => this.tableNow(r, filter));
    if (!table) throw new CrewvaultError('CONFLICT', 'The entry list changed while it was read: try again.');
    return table;
  }

  /** Exact "Customer/Title" lookup through the keyed index: opens only the rows it finds. */
  async findByPath(path: string): Promise<EntrySummary[]> {
    return this.core.read((r) => {
      this.core.require(r, 'entries.view');
      const candidates = pathCandidates(path);
      if (candidates.length === 0) throw new CrewvaultError('INVALID_INPUT', 'Name an entry as "Customer/Title".');
      const lookups: Buffer[] = [];
      for (const group of this.core.ring.groups.values()) for (const c of candidates) lookups.push(entryLookup(group, c.customer, c.title));
      return findEntryRowsByLookup(r, lookups)
        .filter((row) => this.core.ring.groups.has(row.group_id))
        .map((row) => summaryView(row, openSummary(row, heldGroupKey(this.core.ring, row.group_id)), this.core.customers.name(r, row.customer_id)));
    });
  }

  /** The one entry at `path`: NOT_FOUND or AMBIGUOUS (naming the matches) otherwise. */
  async resolvePath(path: string): Promise<EntrySummary> {
    const matches = await this.findByPath(path);
    const [only] = matches;
    if (!only) throw new CrewvaultError('NOT_FOUND', `No entry named "${path}".`);
    if (matches.length > 1) {
      throw new CrewvaultError('AMBIGUOUS', `${matches.length} entries are named "${path}" (ids ${matches.map((m) => m.id).join(', ')}); rename one.`);
    }
    return only;
  }

  async getEntry(id: number): Promise<EntryDetails> {
    return this.core.read((r) => {
      this.core.require(r, 'entries.view');
      const row = visibleEntryRow(r, this.core.ring, id);
      const group = heldGroupKey(this.core.ring, row.group_id);
      // Without the secret key (an auditor) the details stay sealed: the view says they are unknown.
      // Notes are sealed with the secrets: shown to those who may reveal a password, not to codes-only.
      return detailsView(row, openSummary(row, group), group.secret ? openDetails(row, group) : undefined, this.core.customers.name(r, row.customer_id), this.core.permissions(r).includes('passwords.reveal'));
    });
  }

  /** The summary pages of every group this person holds, rebuilding any group whose pages
   * do not account for all its entries (a vault from before schema 2, or damage). */
  private currentPages(r: ReadDb): PageRow[] | undefined {
    const pages = listPagesInGroups(r, [...this.core.ring.groups.keys()]);
    return this.staleGroups(r, pages).length === 0 ? pages : undefined;
  }

  /** Groups whose pages do not account for every entry of theirs. */
  private staleGroups(r: ReadDb, pages: readonly PageRow[]): number[] {
    const groupIds = [...this.core.ring.groups.keys()];
    const paged = new Map<number, number>();
    for (const page of pages) paged.set(page.group_id, (paged.get(page.group_id) ?? 0) + page.entry_count);
    const counts = entryCountsByGroup(r, groupIds);
    return groupIds.filter((groupId) => (paged.get(groupId) ?? 0) !== (counts.get(groupId) ?? 0));
  }

  /** Rebuilds the pages of every stale group, in the caller's write (the session flushes them). */
  private rebuildStalePages(w: WriteDb): void {
    this.core.require(w, 'entries.view');
    for (const groupId of this.staleGroups(w, listPagesInGroups(w, [...this.core.ring.groups.keys()]))) {
      deletePagesOfGroup(w, groupId);
      const group = heldGroupKey(this.core.ring, groupId);
      for (const row of listEntryRowsInGroups(w, [groupId])) {
        const summary = openSummary(row, group);
        this.core.pages.set(groupId, pageItem(row.id, row.customer_id, summary, row.updated_at));
      }
    }
  }
}
