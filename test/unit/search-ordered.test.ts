// The vault's search (listing.ts) ranks the opened items as they come and orders only the
// matches in one sort (orderedTable with ranks, entryRanker's kept names): it must list exactly
// what the shared rule's reference lists over the whole ordered list (searchItems), in its order.
// Must never read a vault: the items are made here.
import { describe, expect, it } from 'vitest';
import { tableEntries } from '../../shared/entry-table';
import { entryRanker, parseQuery, rankEntry, searchItems, type SearchRank } from '../../shared/search';
import { orderedTable } from '../../electron/vault/entry-order';
import type { PageItem } from '../../electron/vault/entry-pages';
import { seededRandom } from '../support/random';

const CUSTOMERS = ['Acme Corp', 'acme', 'Äcme', 'Beta 10', 'Beta 9', 'Müller & Söhne', 'Microsoft 365 Partners', 'Straße GmbH', 'zeta'];
const TITLES = ['VPN', 'vpn', 'Microsoft 365 admin', 'Office 365', 'Domain controller', 'Firewall 10', 'Firewall 2', 'Azure AD', 'Mail', 'Ölfeld', 'a'];
const USERS = ['admin', 'svc-backup', 'root', 'ADMIN@acme.example', 'müller'];
const URLS = ['', 'https://vpn.acme.example', 'https://portal.azure.com', 'https://192.168.0.1', 'https://acme.sharepoint.com'];
const QUERIES = ['a', 'ac', 'acme', 'acme corp', 'acme corp vpn', 'vpn', 'VPN', 'm365', 'o365', 'office 365', 'ms', 'aad', 'dc', 'fire 10', 'strasse',
  'müller', 'admin', 'svc-', '192.168.', 'sharepoint.com', 'zzqx', '  ', '', 'beta', '10'];

describe('the vault search orders only its matches', () => {
  it('lists what searchItems lists over the whole ordered list, for every query', () => {
    const random = seededRandom();
    const items: PageItem[] = [];
    const groupIds: number[] = [];
    const ids = new Set<number>();
    while (items.length < 800) {
      const id = random.int(1, 100_000);
      if (ids.has(id)) continue;
      ids.add(id);
      items.push([id, random.int(0, CUSTOMERS.length - 1), random.pick(TITLES), random.pick(USERS), random.pick(URLS), null, id]);
      groupIds.push(random.int(1, 3));
    }
    const name = (customerId: number): string => CUSTOMERS[customerId] ?? '';
    const whole = tableEntries(orderedTable(items, groupIds, name));
    for (const query of QUERIES) {
      const expected = searchItems(whole, (e) => e, query).map((e) => e.id);
      const parsed = parseQuery(query);
      let got: number[];
      if (parsed.terms.length === 0) {
        got = whole.map((e) => e.id);
      } else {
        const rankOf = entryRanker(parsed);
        const kept: PageItem[] = [];
        const keptGroups: number[] = [];
        const ranks: SearchRank[] = [];
        items.forEach((item, i) => {
          const rank = rankOf(name(item[1]), item[2], item[3], item[4]);
          // The kept names give rankEntry's answer, every time.
          expect(rank, `${query} / ${item[0]}`).toBe(rankEntry(parsed, { customer: name(item[1]), title: item[2], username: item[3], url: item[4] }));
          if (rank === -1) return;
          kept.push(item);
          keptGroups.push(groupIds[i] ?? 0);
          ranks.push(rank);
        });
        got = tableEntries(orderedTable(kept, keptGroups, name, ranks)).map((e) => e.id);
      }
      expect(got, `query "${query}" (seed ${random.seed})`).toEqual(expected);
    }
    // The queries reach every rank and some miss: the comparison above is not of empty lists.
    const ranksSeen = new Set(QUERIES.flatMap((query) => whole.map((e) => rankEntry(parseQuery(query), e))));
    expect([...ranksSeen].sort()).toEqual([-1, 0, 1, 2]);
  });
});
