// Search as you type: narrowing from the last result must give exactly what a full scan gives.
import { describe, expect, it } from 'vitest';
import { EntryTableBuilder } from '../../shared/entry-table';
import type { EntryTable } from '../../shared/model';
import { Searcher } from '../../renderer/search';
import { seededRandom } from '../support/random';

interface Row {
  readonly id: number;
  readonly customerId: number;
  readonly title: string;
  readonly username: string;
  readonly url?: string;
}

function table(rows: readonly Row[]): EntryTable {
  const builder = new EntryTableBuilder();
  for (const r of rows) builder.add({ id: r.id, customerId: r.customerId, customer: `Customer ${r.customerId}`, groupId: 1, title: r.title, username: r.username, url: r.url ?? '', otp: null, updatedAt: 0 });
  return builder.build();
}

/** The ids a search shows, in list order. */
function ids(list: EntryTable, found: Int32Array | null): number[] {
  return found ? Array.from(found, (i) => list.id[i] ?? -1) : [...list.id];
}

describe('Searcher', () => {
  const entries = table([
    { id: 1, customerId: 1, title: 'VPN', username: 'ops' },
    { id: 2, customerId: 1, title: 'Firewall', username: 'admin' },
    { id: 3, customerId: 2, title: 'Mail', username: 'postmaster', url: 'https://mail.example' },
    { id: 4, customerId: 2, title: 'Mailbox', username: 'Admin' },
  ]);

  it('matches customer, title, username and URL, case-insensitively', () => {
    const searcher = new Searcher();
    expect(ids(entries, searcher.search(entries, null, 'ADMIN'))).toEqual([2, 4]);
    expect(ids(entries, searcher.search(entries, null, 'mail.example'))).toEqual([3]);
    expect(ids(entries, searcher.search(entries, null, 'customer 2'))).toEqual([3, 4]);
    expect(ids(entries, searcher.search(entries, 2, ''))).toEqual([3, 4]);
    expect(ids(entries, searcher.search(entries, 1, 'mail'))).toEqual([]);
    expect(searcher.search(entries, null, '  ')).toBeNull(); // nothing asked: everything, as listed
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

  it('typed forward, backward and edited, always agrees with a fresh scan', () => {
    const random = seededRandom();
    const words = ['acme', 'vpn', 'mail', 'admin', 'root', 'globex', 'ops', 'Ünïcode', '10.0.0.1'];
    const many = table(Array.from({ length: 500 }, (_, i) => ({ id: i + 1, customerId: random.int(1, 9), title: `${random.pick(words)} ${random.pick(words)}`, username: random.pick(words) })));
    const incremental = new Searcher();
    let query = '';
    for (let step = 0; step < 300; step++) {
      const action = random.int(0, 9);
      if (action < 6) query += random.pick(['a', 'd', 'm', 'i', 'n', 'o', 'p', ' ', 's', '.', '1', 'ü']);
      else if (action < 9) query = query.slice(0, -1);
      else query = random.pick(words).slice(0, random.int(1, 3));
      const customer = step % 50 === 0 ? random.int(1, 9) : null;
      const fresh = ids(many, new Searcher().search(many, customer, query));
      const expected = many.id.filter((_, i) => {
        const text = `Customer ${many.customerIds[many.customer[i] ?? -1]}\n${many.title[i]}\n${many.username[i]}\n${many.url[i]}`.toLowerCase();
        return text.includes(query.trim().toLowerCase()) && (customer === null || many.customerIds[many.customer[i] ?? -1] === customer);
      });
      expect(fresh, `seed ${random.seed} query "${query}"`).toEqual(expected);
      expect(ids(many, incremental.search(many, customer, query)), `seed ${random.seed} query "${query}"`).toEqual(fresh);
    }
  });
});
