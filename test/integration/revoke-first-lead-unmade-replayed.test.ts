/**
 * An old unmaking of a lead, played back by a dishonest server under the lead's current rotation (issue #15's guard).
 * The owner unmakes bob as lead of Ops, then makes him one again; bob's desktop takes both in. bob revokes carol (a
 * rotation, unsent), and the server hands the old unmaking back in the pull before his push: older than the making
 * agreed since (its revision at or below the one agreed here), it gives way to nothing (replica-people-in.ts
 * takeOwnUnmadeUnderOwnRotation), and bob's revoke and rotation land. Real desktops against a real team server on
 * loopback (test/support/team-desktops.ts, played-back.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import type { ReplicaRecord } from '../../shared/sync/records';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, keptClient, opsOnServer, outcomeOf, userUidIn } from '../support/revoke-first';
import { lastPageAlsoCarries, pullsKeeping } from '../support/played-back';

describe('an old unmaking of a lead played back under their current rotation', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 13, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade-replayed', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('undoes nothing: the rotation lands', async () => {
    const bobUid = userUidIn(a.file, BOB);
    const unmakings: ReplicaRecord[] = [];
    // The owner unmakes bob and makes him a lead again; bob's desktop takes both in, keeping the unmaking as pulled.
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const kept = (r: ReplicaRecord): boolean => r.kind === 'member' && r.user === bobUid && !r.lead && !r.revoked;
    expect(await onDesktop(b, async (s) => outcomeOf(syncOnce(pullsKeeping(await keptClient(team, b, () => clock.now()), kept, unmakings), s.replica)))).toBe('ok');
    const unmaking = unmakings[0];
    if (unmaking === undefined) throw new Error('bob\'s desktop pulled no unmaking of bob');
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(b)).toBe('ok');
    const before = await opsOnServer(team);
    // bob revokes carol; the server plays the old unmaking back in the pull before his push.
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    const replayed = await onDesktop(b, async (s) => outcomeOf(syncOnce(lastPageAlsoCarries(await keptClient(team, b, () => clock.now()), unmaking), s.replica)));
    expect(replayed).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: (before.version ?? 0) + 1 });
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(0);
  }, 240_000);
});
