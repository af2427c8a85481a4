/**
 * The entry list's order — customer, then title (both by NAME_ORDER), then id — built fast
 * enough for 100,000 entries: each distinct name is ranked once, then entries sort on numbers.
 * Comparing names with the collator inside the sort cost ~1.7 million collator calls; the
 * opened page items go straight into columns, without an object per entry.
 */
import type { EntryTable } from '../../shared/model';
import type { OtpKind } from '../../shared/otp';
import type { PageItem } from './entry-pages';

/** One collator for every sort by name: String#localeCompare builds one per call. */
export const NAME_ORDER = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Each distinct key's place in NAME_ORDER of its name; names the collator holds equal share a rank. */
function rank<K>(names: Map<K, string>): Map<K, number> {
  const sorted = [...names].sort((a, b) => NAME_ORDER.compare(a[1], b[1]));
  const ranks = new Map<K, number>();
  let place = 0;
  sorted.forEach(([key, name], i) => {
    if (i > 0 && NAME_ORDER.compare(sorted[i - 1]?.[1] ?? '', name) !== 0) place++;
    ranks.set(key, place);
  });
  return ranks;
}

/**
 * Opened page items (with the group of each) in list order, as a table. With `ranks` (one per
 * item: a search's rank, 0 best), best rank first and list order within a rank: what ranking
 * the ordered list gives (its order is a stable sort, so a subset keeps its relative order),
 * made in the one sort.
 */
export function orderedTable(items: readonly PageItem[], groupIds: readonly number[], customerName: (customerId: number) => string, ranks?: ArrayLike<number>): EntryTable {
  const n = items.length;
  const customers = new Map<number, string>();
  const titles = new Map<string, string>();
  for (const [, customerId, title] of items) {
    if (!customers.has(customerId)) customers.set(customerId, customerName(customerId));
    titles.set(title, title);
  }
  const customerRanks = rank(customers);
  const titleRanks = rank(titles);
  // Plain loops: Array.from and TypedArray.from with a callback cost several times more here.
  const nameKeys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (item) nameKeys[i] = ((ranks?.[i] ?? 0) * customers.size + (customerRanks.get(item[1]) ?? 0)) * titles.size + (titleRanks.get(item[2]) ?? 0);
  }
  const rankCount = ranks === undefined ? 1 : 3;
  const idOf = (i: number): number => items[i]?.[0] ?? 0;
  let order: number[];
  if (rankCount * customers.size * titles.size * n < Number.MAX_SAFE_INTEGER) {
    // One number per entry, (customer, title, position), sorted natively; then entries that
    // share customer and title (rare) go by id.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (nameKeys[i] ?? 0) * n + i;
    keys.sort();
    order = new Array<number>(n);
    for (let i = 0; i < n; i++) order[i] = (keys[i] ?? 0) % n;
    const nameOf = (k: number): number => { const key = keys[k] ?? 0; return key - (key % n); }; // exact, unlike key / n
    for (let start = 0; start < n; ) {
      const name = nameOf(start);
      let end = start + 1;
      while (end < n && nameOf(end) === name) end++;
      if (end - start > 1) {
        const run = order.slice(start, end).sort((a, b) => idOf(a) - idOf(b));
        order.splice(start, run.length, ...run);
      }
      start = end;
    }
  } else {
    order = [...items.keys()].sort((a, b) => (nameKeys[a] ?? 0) - (nameKeys[b] ?? 0) || idOf(a) - idOf(b));
  }
  return columns(items, groupIds, order, customers);
}

function columns(items: readonly PageItem[], groupIds: readonly number[], order: readonly number[], names: ReadonlyMap<number, string>): EntryTable {
  const n = order.length;
  const table = {
    customerIds: [] as number[],
    customerNames: [] as string[],
    id: new Array<number>(n),
    customer: new Array<number>(n),
    groupId: new Array<number>(n),
    title: new Array<string>(n),
    username: new Array<string>(n),
    url: new Array<string>(n),
    otp: new Array<OtpKind | null>(n),
    updatedAt: new Array<number>(n),
  };
  const customerAt = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const i = order[k] ?? 0;
    const item = items[i];
    if (!item) continue;
    const [id, customerId, title, username, url, otp, updatedAt] = item;
    let customer = customerAt.get(customerId);
    if (customer === undefined) {
      customer = table.customerIds.length;
      customerAt.set(customerId, customer);
      table.customerIds.push(customerId);
      table.customerNames.push(names.get(customerId) ?? '');
    }
    table.id[k] = id;
    table.customer[k] = customer;
    table.groupId[k] = groupIds[i] ?? 0;
    table.title[k] = title;
    table.username[k] = username;
    table.url[k] = url;
    table.otp[k] = otp;
    table.updatedAt[k] = updatedAt;
  }
  return table;
}
