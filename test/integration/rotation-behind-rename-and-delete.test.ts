/**
 * A rotation made on a desktop behind a rename and then a deletion of the group made elsewhere (hostile
 * review of 597ea4c, question 5): the owner's desktop a renames Lab and deletes it, syncing after each; the
 * owner's second desktop a2, behind both, revokes bob from Lab. a2's sync must end (no refusal loop on the
 * rename its rotation did not see), the group gone there, and nothing of it brought back on the server.
 * And the same crossing inside a2's sync: the rename and the deletion land between its pull and its push. Its push
 * was stored as nothing (stale) yet marked sent, and the deletion pulled next read as older than its rotation: the
 * group stayed on a2 for good. The server now names the deletion as a conflict (server/sync/records.ts
 * groupsChangedUnseen): no loop, the group gone on a2 in that sync, nothing back.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { recordsAfter } from '../../server/store/sync';
import { BOB, groupUidIn, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 14, 0, 0));
const team = useTeamDesktops('crewvault-rotation-behind-delete', clock);
const { a, a2, onDesktop, sync } = team;

async function deletedOnServer(groupUid: string): Promise<boolean> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  const group = rows.map((row) => JSON.parse(row.body) as { kind: string; id: string; deletedAt: number | null }).filter((r) => r.kind === 'group' && r.id === groupUid).at(-1);
  return group !== undefined && group.deletedAt !== null;
}

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

describe('a rotation behind a rename and a deletion made elsewhere', () => {
  it('ends: the group gone on the desktop and still deleted on the server', async () => {
    const lab = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Lab');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      return group.id;
    });
    await synced(a);
    await synced(a2);
    const labUid = groupUidIn(a.file, lab);
    const labOnA2 = await onDesktop(a2, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Lab')?.id);
    expect(labOnA2).toBeDefined();
    await onDesktop(a, async (s) => { await s.team.renameGroup(lab, 'Lab Two', await s.team.groupRevision(lab)); });
    await synced(a);
    await onDesktop(a, async (s) => { await s.team.deleteGroup(lab, await s.team.groupRevision(lab)); });
    await synced(a);
    await onDesktop(a2, async (s) => { await s.team.revoke(labOnA2 ?? 0, BOB, await s.team.memberRevision(labOnA2 ?? 0, BOB)); });
    await synced(a2);
    expect(await onDesktop(a2, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Lab');
    expect(await onDesktop(a2, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Lab Two');
    expect(await deletedOnServer(labUid)).toBe(true);
    await synced(a2);
    await synced(a);
  });

  it('ends when the rename and the deletion land between its pull and its push', async () => {
    const lab = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Bench');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      return group.id;
    });
    await synced(a);
    await synced(a2);
    const labUid = groupUidIn(a.file, lab);
    const labOnA2 = await onDesktop(a2, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Bench')?.id ?? 0);
    await onDesktop(a2, async (s) => { await s.team.revoke(labOnA2, BOB, await s.team.memberRevision(labOnA2, BOB)); });
    const renameAndDelete = async (): Promise<void> => {
      await onDesktop(a, async (s) => { await s.team.renameGroup(lab, 'Bench Two', await s.team.groupRevision(lab)); });
      await synced(a);
      await onDesktop(a, async (s) => { await s.team.deleteGroup(lab, await s.team.groupRevision(lab)); });
      await synced(a);
    };
    const kept = await keptSession(serverPlace(a2.env), new URL(team.server.url).origin, () => clock.now());
    // Its push is answered with the deletion, stored after its pull, as a conflict (nothing stored): the pull after it
    // takes the deletion over the unsent rotation, and the same sync ends with the group gone, nothing left to send.
    await onDesktop(a2, (s) => syncOnce(pushingAfter(kept.client, renameAndDelete), s.replica));
    expect(await deletedOnServer(labUid)).toBe(true);
    expect((await onDesktop(a2, async (s) => (await s.team.listGroups()).map((g) => g.name))).filter((n) => n.startsWith('Bench'))).toEqual([]);
    await synced(a2);
    const names = await onDesktop(a2, async (s) => (await s.team.listGroups()).map((g) => g.name));
    expect(names.filter((n) => n.startsWith('Bench'))).toEqual([]);
    await synced(a);
    expect(await deletedOnServer(labUid)).toBe(true);
  }, 180_000);
});
