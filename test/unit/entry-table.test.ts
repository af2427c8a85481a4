// The columnar list as entries.list sends it: dictionary-coded text columns come back exactly,
// through JSON, and repeated titles are sent once.
import { describe, expect, it } from 'vitest';
import { EntryTableBuilder, packTable, tableEntries, unpackTable, type PackedEntryTable } from '../../shared/entry-table';
import { seededRandom } from '../support/random';

describe('packTable / unpackTable', () => {
  it('round-trip every column through JSON, each distinct text sent once', () => {
    const random = seededRandom(7);
    const titles = ['VPN', 'Firewall', 'Microsoft 365 admin', '', 'Ünïcode ✓'];
    const builder = new EntryTableBuilder();
    for (let id = 1; id <= 500; id++) {
      const customerId = random.int(1, 20);
      builder.add({
        id,
        customerId,
        customer: `Customer ${customerId}`,
        groupId: 1 + (id % 3),
        title: random.pick(titles),
        username: `user${random.int(0, 49)}@example.com`,
        url: random.next() < 0.3 ? '' : `https://host${id % 7}.example`,
        otp: random.pick([null, 'totp', 'hotp', 'steam'] as const),
        updatedAt: 1_700_000_000_000 + id,
      });
    }
    const table = builder.build();
    const packed = JSON.parse(JSON.stringify(packTable(table))) as PackedEntryTable;
    expect(unpackTable(packed)).toEqual(table);
    expect(tableEntries(unpackTable(packed))).toEqual(tableEntries(table));
    expect([...packed.title.values].sort()).toEqual([...new Set(table.title)].sort());
    expect(packed.otp.values.length).toBeLessThanOrEqual(4);
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(table).length);
  });

  it('keep an empty table empty', () => {
    const empty = new EntryTableBuilder().build();
    expect(unpackTable(packTable(empty))).toEqual(empty);
  });
});
