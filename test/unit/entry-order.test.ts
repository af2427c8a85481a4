// The list's order from ranked names must be exactly the old collator sort: customer, title, id.
import { describe, expect, it } from 'vitest';
import { tableEntries } from '../../shared/entry-table';
import { NAME_ORDER, orderedTable } from '../../electron/vault/entry-order';
import type { PageItem } from '../../electron/vault/entry-pages';
import { seededRandom } from '../support/random';

describe('orderedTable', () => {
  it('orders like a collator sort by customer, title and id, ties and case included', () => {
    const random = seededRandom();
    const customers = ['Acme', 'acme', 'Äcme', 'Beta 10', 'Beta 9', 'Müller & Söhne', 'zeta', 'Zeta'];
    const titles = ['VPN', 'vpn', 'Firewall 2', 'Firewall 10', 'Mail', 'Ölfeld', 'a', 'A'];
    const items: PageItem[] = [];
    const groupIds: number[] = [];
    const ids = new Set<number>();
    while (items.length < 600) {
      const id = random.int(1, 100_000);
      if (ids.has(id)) continue;
      ids.add(id);
      items.push([id, random.int(0, customers.length - 1), random.pick(titles), 'user', '', random.int(0, 1) ? 'totp' : null, id * 10]);
      groupIds.push(random.int(1, 3));
    }
    const name = (customerId: number): string => customers[customerId] ?? '';
    const expected = items
      .map((item, i) => ({ id: item[0], customer: name(item[1]), title: item[2], groupId: groupIds[i] }))
      .sort((a, b) => NAME_ORDER.compare(a.customer, b.customer) || NAME_ORDER.compare(a.title, b.title) || a.id - b.id);
    const listed = tableEntries(orderedTable(items, groupIds, name));
    expect(listed.map((e) => ({ id: e.id, customer: e.customer, title: e.title, groupId: e.groupId }))).toEqual(expected);
    expect(listed[0]).toMatchObject({ username: 'user', url: '' });
    expect(listed.find((e) => e.id === items[0]?.[0])).toMatchObject({ otp: items[0]?.[5] ? { kind: 'totp' } : null, updatedAt: (items[0]?.[0] ?? 0) * 10 });
  });
});
