/**
 * Reading entries: customers, the entry list (from the sealed summary pages, rebuilt when
 * they do not account for every entry), search, "Customer/Title" lookups through the keyed
 * index, and one entry's details. Only what this person's group keys open is shown.
 * Must never open an entry's details for someone without its group's secret key, nor show
 * notes to a role that may not reveal a password.
 */
import { CrewvaultError } from '../../shared/errors';
import { EntryTableBuilder, entryAt, tableEntries } from '../../shared/entry-table';
import type { CustomerView, EntryDetails, EntrySummary, EntryTable, UserView } from '../../shared/model';
import type { Permission } from '../../shared/policy';
import { searchItems } from '../../shared/search';
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
export interface ListingCore extends Pick<EntriesCore, 'db' | 'ring' | 'customers' | 'pages' | 'write' | 'require'> {
  user(): UserView;
  permissions(): readonly Permission[];
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

/** The rows of `table` that `query` finds, in the order the search rule ranks them. */
function searchedTable(table: EntryTable, query: string): EntryTable {
  const rows = Array.from(table.id, (_, i) => i);
  const found = searchItems(rows, (i) => ({
    customer: table.customerNames[table.customer[i] ?? -1] ?? '',
    title: table.title[i] ?? '',
    username: table.username[i] ?? '',
    url: table.url[i] ?? '',
  }), query);
  const builder = new EntryTableBuilder();
  for (const i of found) {
    const entry = entryAt(table, i);
    if (entry) builder.add({ ...entry, otp: entry.otp?.kind ?? null });
  }
  return builder.build();
}

export class ListingService {
  private readonly core: ListingCore;

  constructor(core: ListingCore) {
    this.core = core;
  }

  listCustomers(): CustomerView[] {
    this.core.require('entries.view');
    this.core.customers.loadAll();
    const counts = countEntriesByCustomer(this.core.db, [...this.core.ring.groups.keys()]);
    // A customer is shown to someone who can see one of its entries; owners see every one.
    const everyOne = this.core.user().role === 'owner';
    return [...this.core.customers.opened()]
      .filter(([id]) => everyOne || (counts.get(id) ?? 0) > 0)
      .map(([id, name]) => ({ id, name, entryCount: counts.get(id) ?? 0 }))
      .sort((a, b) => NAME_ORDER.compare(a.name, b.name));
  }

  /** Every visible entry, optionally of one customer and matching `search` by the one search
   * rule (shared/search.ts): every term in some field, best matches first. */
  listEntries(filter: EntryFilter = {}): EntrySummary[] {
    return tableEntries(this.listEntryTable(filter));
  }

  /** listEntries as columns (what the UI asks for: 100,000 entries in a fraction of the bytes). */
  listEntryTable(filter: EntryFilter = {}): EntryTable {
    this.core.require('entries.view');
    this.core.customers.loadAll();
    const customerKey = filter.customer?.trim().toLowerCase();
    const items: PageItem[] = [];
    const groupIds: number[] = [];
    for (const page of this.currentPages()) {
      for (const item of openPage(page, heldGroupKey(this.core.ring, page.group_id))) {
        if (customerKey !== undefined && this.core.customers.name(item[1]).toLowerCase() !== customerKey) continue;
        items.push(item);
        groupIds.push(page.group_id);
      }
    }
    const table = orderedTable(items, groupIds, (customerId) => this.core.customers.name(customerId));
    return filter.search === undefined ? table : searchedTable(table, filter.search);
  }

  /** Exact "Customer/Title" lookup through the keyed index: opens only the rows it finds. */
  findByPath(path: string): EntrySummary[] {
    this.core.require('entries.view');
    const candidates = pathCandidates(path);
    if (candidates.length === 0) throw new CrewvaultError('INVALID_INPUT', 'Name an entry as "Customer/Title".');
    const lookups: Buffer[] = [];
    for (const group of this.core.ring.groups.values()) for (const c of candidates) lookups.push(entryLookup(group, c.customer, c.title));
    return findEntryRowsByLookup(this.core.db, lookups)
      .filter((row) => this.core.ring.groups.has(row.group_id))
      .map((row) => summaryView(row, openSummary(row, heldGroupKey(this.core.ring, row.group_id)), this.core.customers.name(row.customer_id)));
  }

  /** The one entry at `path`: NOT_FOUND or AMBIGUOUS (naming the matches) otherwise. */
  resolvePath(path: string): EntrySummary {
    const matches = this.findByPath(path);
    const [only] = matches;
    if (!only) throw new CrewvaultError('NOT_FOUND', `No entry named "${path}".`);
    if (matches.length > 1) {
      throw new CrewvaultError('AMBIGUOUS', `${matches.length} entries are named "${path}" (ids ${matches.map((m) => m.id).join(', ')}); rename one.`);
    }
    return only;
  }

  getEntry(id: number): EntryDetails {
    this.core.require('entries.view');
    const row = visibleEntryRow(this.core.db, this.core.ring, id);
    const group = heldGroupKey(this.core.ring, row.group_id);
    // Without the secret key (an auditor) the details stay sealed: the view says they are unknown.
    // Notes are sealed with the secrets: shown to those who may reveal a password, not to codes-only.
    return detailsView(row, openSummary(row, group), group.secret ? openDetails(row, group) : undefined, this.core.customers.name(row.customer_id), this.core.permissions().includes('passwords.reveal'));
  }

  /** The summary pages of every group this person holds, rebuilding any group whose pages
   * do not account for all its entries (a vault from before schema 2, or damage). */
  private currentPages(): PageRow[] {
    const groupIds = [...this.core.ring.groups.keys()];
    const pages = listPagesInGroups(this.core.db, groupIds);
    const paged = new Map<number, number>();
    for (const page of pages) paged.set(page.group_id, (paged.get(page.group_id) ?? 0) + page.entry_count);
    const counts = entryCountsByGroup(this.core.db, groupIds);
    const stale = groupIds.filter((groupId) => (paged.get(groupId) ?? 0) !== (counts.get(groupId) ?? 0));
    if (stale.length === 0) return pages;
    this.core.write((w) => {
      for (const groupId of stale) {
        deletePagesOfGroup(w, groupId);
        const group = heldGroupKey(this.core.ring, groupId);
        for (const row of listEntryRowsInGroups(w, [groupId])) {
          const summary = openSummary(row, group);
          this.core.pages.set(groupId, pageItem(row.id, row.customer_id, summary, row.updated_at));
        }
      }
    });
    return listPagesInGroups(this.core.db, groupIds);
  }
}
