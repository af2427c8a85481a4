// Where the entry form puts a new entry (renderer/entry-group.ts, #11): never into a group that
// shows it to more people than its customer's other entries, without the person choosing.
import { describe, expect, it } from 'vitest';
import { EntryTableBuilder } from '../../shared/entry-table';
import type { GroupSummary } from '../../shared/model';
import { customerKey, onlyGroup, suggestGroup } from '../../renderer/entry-group';

const DEFAULT: GroupSummary = { id: 1, name: 'Default', members: 9, entries: 3, lead: false, isDefault: true, serverCodes: false, revision: 1 };
const ACME_TEAM: GroupSummary = { id: 2, name: 'Acme team', members: 2, entries: 2, lead: true, isDefault: false, serverCodes: false, revision: 1 };
const NIGHT: GroupSummary = { id: 3, name: 'Night shift', members: 3, entries: 1, lead: false, isDefault: false, serverCodes: false, revision: 1 };

function table(rows: ReadonlyArray<[customerId: number, customer: string, groupId: number]>) {
  const builder = new EntryTableBuilder();
  rows.forEach(([customerId, customer, groupId], i) => builder.add({ id: i + 1, customerId, customer, groupId, title: `T${i}`, username: '', url: '', otp: null, updatedAt: 0 }));
  return builder.build();
}

const VAULT = table([[10, 'Acme Corp', 2], [10, 'Acme Corp', 2], [11, 'Globex', 1], [12, 'Initech', 1], [12, 'Initech', 3]]);

describe('suggestGroup', () => {
  it('puts a known customer\'s entry where its other entries are, whatever the spelling', () => {
    expect(suggestGroup(VAULT, 'Acme Corp', [DEFAULT, ACME_TEAM])).toEqual({ kind: 'suggested', groupId: 2, why: 'Acme Corp\'s other entries are in Acme team.' });
    expect(suggestGroup(VAULT, '  acme   CORP ', [DEFAULT, ACME_TEAM])).toMatchObject({ kind: 'suggested', groupId: 2 });
    expect(suggestGroup(VAULT, 'Globex', [DEFAULT, ACME_TEAM])).toMatchObject({ kind: 'suggested', groupId: 1 });
  });

  it('asks the person to choose when the customer\'s entries are in several groups', () => {
    expect(suggestGroup(VAULT, 'Initech', [DEFAULT, ACME_TEAM, NIGHT])).toEqual({ kind: 'choose', why: 'Initech\'s entries are in 2 groups: choose who may see this one.' });
  });

  it('counts only the groups the person holds', () => {
    expect(suggestGroup(VAULT, 'Initech', [DEFAULT, ACME_TEAM])).toMatchObject({ kind: 'suggested', groupId: 1 });
  });

  it('a new customer: the person\'s only group, else the default group, said as such', () => {
    expect(suggestGroup(VAULT, 'Umbrella', [ACME_TEAM])).toEqual({ kind: 'suggested', groupId: 2, why: 'Acme team is your only group.' });
    expect(suggestGroup(VAULT, 'Umbrella', [DEFAULT, ACME_TEAM])).toEqual({ kind: 'suggested', groupId: null, why: 'Umbrella is a new customer: its first entry goes to the default group unless you choose another.' });
    expect(suggestGroup(null, '', [DEFAULT, ACME_TEAM])).toMatchObject({ kind: 'suggested', groupId: null });
  });

  it('a new customer, several groups held but not the default one: the person chooses (an entry without a group would land in one the vault picks)', () => {
    expect(suggestGroup(VAULT, 'Umbrella', [ACME_TEAM, NIGHT])).toEqual({ kind: 'choose', why: 'Umbrella is a new customer: choose who may see its entries.' });
    expect(suggestGroup(VAULT, '', [ACME_TEAM, NIGHT])).toMatchObject({ kind: 'choose' });
    // A known customer still goes where its entries are.
    expect(suggestGroup(VAULT, 'Acme Corp', [ACME_TEAM, NIGHT])).toMatchObject({ kind: 'suggested', groupId: 2 });
  });

  it('onlyGroup keeps the search\'s order and only the group\'s rows', () => {
    expect([...onlyGroup(VAULT, null, 1)]).toEqual([2, 3]);
    expect([...onlyGroup(VAULT, Int32Array.from([4, 3, 0, 2]), 1)]).toEqual([3, 2]);
    expect([...onlyGroup(VAULT, Int32Array.from([]), 2)]).toEqual([]);
  });

  it('customerKey ignores case, outer and repeated spaces', () => {
    expect(customerKey(' Acme\tCorp ')).toBe(customerKey('acme corp'));
  });
});
