/**
 * Two rotations at once, the winner's edit event on a later pull page than its entry record (#15,
 * the limit docs/SYNC.md named: "the winner's edit event arriving on a later pull page than its
 * entry record is not seen by the rule (a page holds up to 1,000 records)"). As
 * concurrent-rotation-winner-edit.test.ts: the owner's two desktops each revoke someone from Ops
 * before syncing, the winner edits both entries and the other edits Firewall; the winner's file
 * is stepped back one revision to stand for the version the rule tells apart. The desktop that
 * gives way pulls pages cut right after the winner's entry records (syncOnce's pullRecords), so
 * the events editing them come on later pages: the rule judged each page alone and took the
 * winner's Firewall for its re-seal, writing its own edit over the winner's, silently. Now the
 * intake's pages are gathered (replica-given-way.ts GivenWayIntake) and the decision waits for
 * the last page: a conflict copy, both edits kept. A real server (PGlite, loopback HTTP), the
 * sync's own code, a private Secret Service. Must never: put a password in a process argument
 * (answers go on the scripted stdin), or pass while an edit of either side is lost.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { useRotationDesktops } from '../support/rotation-desktops';
import { manualClock } from '../support/vault';

const BOB = 'bob';
const CAROL = 'carol';
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
/** The owner's desktop a (the winner) and second desktop a2 (gives way); bob and carol in Ops. */
const world = useRotationDesktops('crewvault-given-way-pages', clock, { members: [BOB, CAROL] });
const { a, a2, onDesktop, sync, teamClient, passwords, rotateOnBothWinnerEditOneAhead } = world;

describe('two rotations at once, the winner\'s edit event on a later pull page', () => {
  it('keeps both edits when the pull\'s pages end right after the entry records', async () => {
    await rotateOnBothWinnerEditOneAhead(BOB, CAROL);
    await sync(a);
    // The second desktop gives way, its pages cut right after the last entry record of the winner's
    // push: the events editing those entries all come on later pages.
    clock.advance(1_000);
    const client = await teamClient(a2);
    const [vault, since] = await onDesktop(a2, async (s) => [await s.replica.vaultId(), await s.replica.pulledUpTo()] as const);
    const ahead = (await client.call('syncPull', { vault, since })).records.map((r) => r.record);
    const cut = ahead.findLastIndex((r) => r.kind === 'entry') + 1;
    const firewall = ahead.find((r) => r.kind === 'entry' && ahead.some((e) => e.kind === 'event' && e.entry === r.id && e.action === 'entry.edit'))?.id;
    expect(cut).toBeGreaterThan(0);
    expect(ahead.slice(cut).some((r) => r.kind === 'event' && r.entry === firewall)).toBe(true);
    expect(ahead.slice(0, cut).some((r) => r.kind === 'event' && r.entry === firewall)).toBe(false);
    const pages: number[] = [];
    const given = await onDesktop(a2, (s) => syncOnce(client, s.replica, { pullRecords: cut, onProgress: (p) => pages.push(p.taken) }));
    expect(pages.filter((taken, i) => taken > 0 && taken !== pages[i - 1]).length).toBeGreaterThan(1);
    expect(given.held).toBe(0);
    expect(given.conflictCopies).toBe(1);
    await sync(a);
    await sync(a2);
    const expected = ['Firewall (conflict copy)=f-a2', 'Firewall=f-a', 'Switch=s-a'];
    for (const d of [a, a2]) expect(await passwords(d), d.name).toEqual(expected);
  });
});
