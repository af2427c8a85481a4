// Search as you type: narrowing from the last result must give exactly what a full scan gives.
import { describe, expect, it } from 'vitest';
import type { EntrySummary } from '../../shared/model';
import { buildIndex, Searcher } from '../../renderer/search';
import { seededRandom } from '../support/random';

function entry(id: number, customerId: number, title: string, username: string, url = ''): EntrySummary {
  return { id, customerId, customer: `Customer ${customerId}`, groupId: 1, title, username, url, otp: null, updatedAt: 0 };
}

describe('Searcher', () => {
  const entries = [entry(1, 1, 'VPN', 'ops'), entry(2, 1, 'Firewall', 'admin'), entry(3, 2, 'Mail', 'postmaster', 'https://mail.example'), entry(4, 2, 'Mailbox', 'Admin')];

  it('matches customer, title, username and URL, case-insensitively', () => {
    const index = buildIndex(entries);
    const searcher = new Searcher();
    expect(searcher.search(index, null, 'ADMIN').map((e) => e.id)).toEqual([2, 4]);
    expect(searcher.search(index, null, 'mail.example').map((e) => e.id)).toEqual([3]);
    expect(searcher.search(index, null, 'customer 2').map((e) => e.id)).toEqual([3, 4]);
    expect(searcher.search(index, 2, '').map((e) => e.id)).toEqual([3, 4]);
    expect(searcher.search(index, 1, 'mail')).toEqual([]);
  });

  it('typed forward, backward and edited, always agrees with a fresh scan', () => {
    const random = seededRandom();
    const words = ['acme', 'vpn', 'mail', 'admin', 'root', 'globex', 'ops'];
    const many = Array.from({ length: 500 }, (_, i) => entry(i + 1, random.int(1, 9), `${random.pick(words)} ${random.pick(words)}`, random.pick(words)));
    const index = buildIndex(many);
    const incremental = new Searcher();
    let query = '';
    for (let step = 0; step < 300; step++) {
      const action = random.int(0, 9);
      if (action < 6) query += random.pick(['a', 'd', 'm', 'i', 'n', 'o', 'p', ' ', 's']);
      else if (action < 9) query = query.slice(0, -1);
      else query = random.pick(words).slice(0, random.int(1, 3));
      const customer = step % 50 === 0 ? random.int(1, 9) : null;
      const fresh = new Searcher().search(index, customer, query).map((e) => e.id);
      expect(incremental.search(index, customer, query).map((e) => e.id), `seed ${random.seed} query "${query}"`).toEqual(fresh);
    }
  });
});
