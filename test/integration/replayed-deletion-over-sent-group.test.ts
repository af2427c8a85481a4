/**
 * A deletion a dishonest server played back, waiting here while the group's record went over it, deletes nothing
 * the team holds live (hostile review of 1f00bfb). The server hands the owner's desktop a, once, a deletion of Lab
 * the owner's other desktop signed and never sent: Lab's agreed entry Bench still stands here, so it waits. The owner
 * then revokes bob from Lab (the rotation goes to the honest server, which holds Lab live at the new key), deletes
 * Bench, and syncs; then the server plays the same deletion back again. Lab must stay on a, as the team holds it:
 * the revision agreed before the rotation, noted for the waiting deletion (noteGroupSentOverDeletion), judged the
 * played-back deletion newer than the group for good, though the server had stored the rotation live.
 * Real files, a real team server on PGlite over loopback HTTP. Must never sleep (the clock is injected).
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { GroupRecord } from '../../shared/sync/records';
import { BOB, groupUidIn, setAsideOn, storedPeopleOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { lastPageAlsoCarries } from '../support/played-back';

const clock = manualClock(Date.UTC(2026, 11, 7, 19, 0, 0));
const team = useTeamDesktops('crewvault-replayed-deletion-over-sent', clock);
const { a, a2, b, onDesktop, sync } = team;

const groupNames = async (d: typeof a): Promise<string[]> => onDesktop(d, async (s) => (await s.team.listGroups()).map((g) => g.name));

describe('a played-back deletion waiting here while the group\'s record went over it', () => {
  it('deletes nothing the team holds live, once the entry holding it back leaves or when played back again', async () => {
    clock.advance(1_000);
    const labId = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Lab');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      await s.createEntries([{ customer: 'Acme', title: 'Bench', password: 'bench-1', groupId: group.id }]);
      return group.id;
    });
    for (const d of [a, a2, b]) expect((await sync(d)).code, d.name).toBe('ok');
    const labUid = groupUidIn(a.file, labId);
    expect((await sync(a)).code).toBe('ok');

    // The owner's second desktop deletes Lab (Bench first), signed, and never sends it.
    clock.advance(1_000);
    const deletion = await onDesktop(a2, async (s) => {
      const bench = await s.resolvePath('Acme/Bench');
      const labHere = (await s.team.listGroups()).find((g) => g.name === 'Lab');
      if (labHere === undefined) throw new Error('a2 does not hold Lab');
      await s.deleteEntry(bench.id, bench.revision ?? -1);
      await s.team.deleteGroup(labHere.id, await s.team.groupRevision(labHere.id));
      const out = await s.replica.outgoing(false, true);
      return out.batch.records.find((r): r is GroupRecord => r.kind === 'group' && r.id === labUid && r.deletedAt !== null);
    });
    if (deletion === undefined) throw new Error('a2 made no deletion record of Lab');

    // a syncs once through a server that adds it: Bench, agreed, stands in Lab here, so the deletion waits.
    const replayOnce = async (): Promise<void> => {
      const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
      await onDesktop(a, (s) => syncOnce(lastPageAlsoCarries(kept.client, deletion), s.replica));
    };
    await replayOnce();
    expect(setAsideOn(a).join('\n')).toMatch(/deletes an access group that still holds entries here/);

    // The owner revokes bob from Lab (its rotation reaches the honest server, which holds Lab live), then deletes Bench.
    clock.advance(1_000);
    await onDesktop(a, async (s) => s.team.revoke(labId, BOB, await s.team.memberRevision(labId, BOB)));
    for (let i = 0; i < 2; i++) expect((await sync(a)).code).toBe('ok');
    const stored = (await storedPeopleOn(team, a)).get(labUid);
    expect(stored?.revision).toBeGreaterThanOrEqual(deletion.revision);
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const bench = await s.resolvePath('Acme/Bench');
      await s.deleteEntry(bench.id, bench.revision ?? -1);
    });
    for (let i = 0; i < 2; i++) expect((await sync(a)).code).toBe('ok');
    expect(await groupNames(a)).toContain('Lab');

    // Played back again: still older than what the team holds of Lab.
    clock.advance(1_000);
    await replayOnce();
    expect((await sync(a)).code).toBe('ok');
    expect(await groupNames(a)).toContain('Lab');
  }, 180_000);
});
