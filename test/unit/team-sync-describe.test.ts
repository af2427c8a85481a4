/**
 * The Team server screen's sentence for a sync round (renderer/screens/sync-sentence.ts
 * describeSync): a round that removed this person from a group says so by the group's name, and
 * a round that did not says nothing of it. Must never: read the wall clock (times are given).
 */
import { describe, expect, it } from 'vitest';
import { describeSync } from '../../renderer/screens/sync-sentence';

const round = { ok: true, at: Date.UTC(2026, 10, 30, 9, 0, 0), moved: false, taken: 2, sent: 0, conflictCopies: 0, setAside: 0 } as const;

describe('describeSync', () => {
  it('says which groups this person was removed from', () => {
    expect(describeSync({ ...round, accessRemoved: ['Ops'] })).toContain('your access to the group "Ops" was removed (its entries are no longer on this computer)');
  });

  it('says nothing of removals when there were none', () => {
    expect(describeSync(round)).not.toContain('removed');
    expect(describeSync({ ...round, accessRemoved: [] })).not.toContain('removed');
  });

  it('tells a round that took the vault in again after the server\'s history changed, and says nothing of it otherwise', () => {
    const line = 'The team server\'s copy of this vault is not the one this desktop last synced with (restored from a backup, or replaced): taken in again from the start.';
    expect(describeSync({ ...round, historyChanged: line }).endsWith(` ${line}`)).toBe(true);
    expect(describeSync(round)).not.toContain('last synced with');
  });
});
