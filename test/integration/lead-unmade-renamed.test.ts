/**
 * A lead unmade with a rename of the group not yet sent, no key change waiting (issue #15; replica-group-unsent.ts). bob,
 * a lead of Ops, renames it "Ops West"; before his desktop syncs, the owner unmakes him. The rename, which he may no
 * longer send (replica-people.ts sends only groups its person manages), was kept one above the agreed revision for good,
 * neither sent nor told: his desktop showed "Ops West" while the team held "Ops". It goes back to the name agreed,
 * told once (audited once). Then the guard: made a lead again, bob renames Ops, and a dishonest server plays the old
 * unmaking back in the pull before his push; older than the making agreed since, it stops him managing nothing, and his
 * rename lands, nothing told.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts,
 * played-back.ts). Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import type { ReplicaRecord } from '../../shared/sync/records';
import { BOB, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, keptClient, opsOnServer, outcomeOf, synced, userUidIn } from '../support/revoke-first';
import { lastPageAlsoCarries, pullsKeeping } from '../support/played-back';

describe('a lead unmade with a rename of the group not yet sent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-unmade-renamed', clock);
  const { a, b, onDesktop } = team;
  const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);
  const unmakings: ReplicaRecord[] = [];

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('goes back to the team\'s name, the rename told once as not made', async () => {
    const bobUid = userUidIn(a.file, BOB);
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops West', await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    // bob's desktop takes the unmaking in, keeping it as pulled (played back below).
    const kept = (r: ReplicaRecord): boolean => r.kind === 'member' && r.user === bobUid && !r.lead && !r.revoked;
    const first = await onDesktop(b, async (s) => syncOnce(pullsKeeping(await keptClient(team, b, () => clock.now()), kept, unmakings), s.replica));
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, held: second.held })
      .toEqual({ first: 'A change of yours not made: "Ops" renamed "Ops West" (you no longer manage the group). Never sent, the group stays as the team holds it.', second: undefined, held: 0 });
    await synced(team, a);
    expect({ a: await nameOn(a), b: await nameOn(b), server: await opsOnServer(team), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b) })
      .toEqual({ a: 'Ops', b: 'Ops', server: before, audited: 1, aside: [] });
  }, 240_000);

  it('drops nothing on an old unmaking played back: made a lead again, his rename lands', async () => {
    const unmaking = unmakings[0];
    if (unmaking === undefined) throw new Error('bob\'s desktop pulled no unmaking of bob');
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(b)).toBe('ok');
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops East', await s.team.groupRevision(team.opsId)));
    const replayed = await onDesktop(b, async (s) => outcomeOf(syncOnce(lastPageAlsoCarries(await keptClient(team, b, () => clock.now()), unmaking), s.replica)));
    expect(replayed).toBe('ok');
    await synced(team, a);
    expect({ a: await nameOn(a), b: await nameOn(b), audited: auditedIn(b, 'group.change_unmade') }).toEqual({ a: 'Ops East', b: 'Ops East', audited: 1 });
  }, 240_000);
});
