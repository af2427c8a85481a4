// Search as you type (renderer/search.ts): the page's fast index must list exactly what the
// one rule (shared/search.ts) lists, in its order, whether it scans afresh or narrows the last
// result, typed forward, backward or edited.
import { describe, expect, it } from 'vitest';
import { EntryTableBuilder, entryAt } from '../../shared/entry-table';
import type { EntryTable } from '../../shared/model';
import { searchItems } from '../../shared/search';
import { Searcher } from '../../renderer/search';
import { seededRandom } from '../support/random';

interface Row {
  readonly id: number;
  readonly customerId: number;
  readonly title: string;
  readonly username: string;
  readonly url?: string;
  readonly customer?: string;
}

function table(rows: readonly Row[]): EntryTable {
  const builder = new EntryTableBuilder();
  for (const r of rows) builder.add({ id: r.id, customerId: r.customerId, customer: r.customer ?? `Customer ${r.customerId}`, groupId: 1, title: r.title, username: r.username, url: r.url ?? '', otp: null, updatedAt: 0 });
  return builder.build();
}

/** The ids a search shows, in the order shown. */
function ids(list: EntryTable, found: Int32Array | null): number[] {
  return found ? Array.from(found, (i) => list.id[i] ?? -1) : [...list.id];
}

/** What the shared rule lists for the table, optionally of one customer. */
function reference(list: EntryTable, customerId: number | null, query: string): number[] {
  const rows = list.id.flatMap((_, i) => {
    const entry = entryAt(list, i);
    return entry && (customerId === null || entry.customerId === customerId) ? [entry] : [];
  });
  return searchItems(rows, (e) => e, query).map((e) => e.id);
}

describe('Searcher', () => {
  const entries = table([
    { id: 1, customerId: 1, title: 'VPN', username: 'ops' },
    { id: 2, customerId: 1, title: 'Firewall', username: 'admin' },
    { id: 3, customerId: 2, title: 'Mail', username: 'postmaster', url: 'https://mail.example' },
    { id: 4, customerId: 2, title: 'Mailbox', username: 'Admin' },
    { id: 5, customerId: 3, customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.example', url: 'https://admin.microsoft.com' },
  ]);

  it('matches customer, title, username and URL, case-insensitively, every term somewhere', () => {
    const searcher = new Searcher();
    expect(ids(entries, searcher.search(entries, null, 'ADMIN'))).toEqual([2, 4, 5]);
    expect(ids(entries, searcher.search(entries, null, 'mail.example'))).toEqual([3]);
    expect(ids(entries, searcher.search(entries, null, 'customer 2'))).toEqual([3, 4]);
    expect(ids(entries, searcher.search(entries, 2, ''))).toEqual([3, 4]);
    expect(ids(entries, searcher.search(entries, 1, 'mail'))).toEqual([]);
    expect(searcher.search(entries, null, '  ')).toBeNull(); // nothing asked: everything, as listed
  });

  it('finds the issue’s entry by "acme 365", "acme microsoft" and "m365"', () => {
    const searcher = new Searcher();
    for (const query of ['acme 365', 'acme microsoft', 'm365', 'o365', 'acme ms']) expect(ids(entries, searcher.search(entries, null, query)), query).toEqual([5]);
  });

  it('ranks an exact title first, then word starts, then the rest', () => {
    const list = table([
      { id: 1, customerId: 1, title: 'Backup', username: 'svc-mail' },
      { id: 2, customerId: 1, title: 'Gmail', username: 'x' },
      { id: 3, customerId: 2, title: 'Mail', username: 'postmaster' },
    ]);
    expect(ids(list, new Searcher().search(list, null, 'mail'))).toEqual([3, 1, 2]);
  });

  it('answers one letter, a digit or a non-ASCII character like a longer query', () => {
    const list = table([
      { id: 1, customerId: 1, title: 'Müller', username: 'x1' },
      { id: 2, customerId: 2, title: 'VPN', username: 'ops' },
      { id: 3, customerId: 3, title: 'Zoom', username: 'Q' },
    ]);
    expect(ids(list, new Searcher().search(list, null, 'q'))).toEqual([3]);
    expect(ids(list, new Searcher().search(list, null, 'Z'))).toEqual([3]);
    expect(ids(list, new Searcher().search(list, null, '1'))).toEqual([1]); // "Customer 1", x1
    expect(ids(list, new Searcher().search(list, null, 'ü'))).toEqual([1]);
    expect(ids(list, new Searcher().search(list, 2, 'o'))).toEqual([2]);
  });

  it('typed forward, backward and edited, always agrees with a fresh scan and with the shared rule', () => {
    const random = seededRandom();
    const words = ['acme', 'vpn', 'mail', 'admin', 'root', 'globex', 'ops', 'Ünïcode', '10.0.0.1', 'Microsoft 365', 'Office', 'M365', 'MS'];
    const customers = ['Acme Corp', 'Globex', 'Müller & Söhne', 'Office Depot', 'Initech'];
    const many = table(Array.from({ length: 400 }, (_, i) => {
      const customerId = random.int(1, customers.length);
      return { id: i + 1, customerId, customer: customers[customerId - 1], title: `${random.pick(words)} ${random.pick(words)}`, username: random.pick(words), url: `https://${random.pick(words)}.example` };
    }));
    const incremental = new Searcher();
    let query = '';
    for (let step = 0; step < 400; step++) {
      const action = random.int(0, 9);
      if (action < 6) query += random.pick(['a', 'c', 'm', 'i', 'n', 'o', 'p', ' ', 's', '.', '1', '3', '6', '5', 'ü', 'g', 'e']);
      else if (action < 9) query = query.slice(0, -1);
      else query = `${random.pick(words).slice(0, random.int(1, 4))}${random.int(0, 1) ? ' ' : ''}`;
      const customer = step % 50 < 5 ? random.int(1, customers.length) : null;
      const fresh = ids(many, new Searcher().search(many, customer, query));
      expect(fresh, `seed ${random.seed} query "${query}"`).toEqual(reference(many, customer, query));
      expect(ids(many, incremental.search(many, customer, query)), `seed ${random.seed} query "${query}"`).toEqual(fresh);
    }
  });
});
