/**
 * A rename made on one desktop crossing a deletion of its group made on another, the deletion landing between
 * the renaming desktop's pull and its push (plan s39, section 2, T6). The owner's desktop a2 renames Bench; a,
 * the owner's other desktop, deletes Bench and syncs just before a2's push. a2's rename was stored as nothing
 * (stale: the server holds the group deleted), yet marked sent at its revision; the deletion pulled next, at the
 * same revision, read as no newer (replica-people-new.ts deletionStale), and Bench stayed on a2 for good. The
 * server now names the deletion as the push's conflict (server/sync/records.ts groupsChangedUnseen): a2 pulls it
 * and takes it over its unsent rename, in the same sync.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 15, 0, 0));
const team = useTeamDesktops('crewvault-rename-crossing-delete', clock);
const { a, a2, onDesktop, sync } = team;

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

const benchNames = async (d: typeof a): Promise<string[]> => (await onDesktop(d, async (s) => (await s.team.listGroups()).map((g) => g.name))).filter((n) => n.startsWith('Bench'));

describe('a rename crossing a deletion of its group made elsewhere', () => {
  it('leaves the group gone on the renaming desktop when the deletion lands between its pull and its push', async () => {
    const bench = await onDesktop(a, async (s) => (await s.team.createGroup('Bench')).id);
    await synced(a);
    await synced(a2);
    const benchOnA2 = await onDesktop(a2, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Bench')?.id ?? 0);
    clock.advance(1_000);
    await onDesktop(a2, async (s) => { await s.team.renameGroup(benchOnA2, 'Bench Two', await s.team.groupRevision(benchOnA2)); });
    const deleteOnA = async (): Promise<void> => {
      clock.advance(1_000);
      await onDesktop(a, async (s) => { await s.team.deleteGroup(bench, await s.team.groupRevision(bench)); });
      await synced(a);
    };
    const kept = await keptSession(serverPlace(a2.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(a2, (s) => syncOnce(pushingAfter(kept.client, deleteOnA), s.replica));
    expect(await benchNames(a2)).toEqual([]);
    // Nothing of it left to send, nor brought back: both desktops sync on, the group gone on each.
    await synced(a2);
    await synced(a);
    expect(await benchNames(a2)).toEqual([]);
    expect(await benchNames(a)).toEqual([]);
  }, 180_000);
});
