/**
 * As grant-behind-rotation.test.ts, the grant landing between the rotating desktop's pull and its push (issue #15): the
 * owner's desktop `a` revokes bob from Ops offline and syncs; after its pull, the owner's second desktop `a2` grants
 * carol Ops and it lands. The server refuses a's push already (a grant stores the group's record again after it,
 * server/store/sync.ts restampGroupEntries, so records.ts groupsChangedUnseen names the group): a pulls the grant under
 * its rotation and pushes again. Taken as nothing there, the rotation pushed again dropped her wrap below its version:
 * carol lost Ops, her desktop kept it set aside, nobody told (replica-people-in.ts grantedUnderOwnRotation wraps her).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, pushingAfter, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { holdsOps, keptClient, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a grant stored between a rotating desktop\'s pull and its push', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 11, 0, 0));
  const team = useTeamDesktops('crewvault-grant-between-pull-and-push', clock);
  const { a, a2, b, c, onDesktop } = team;

  it('is carried by the rotation, pushed again past it', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    let granted = '';
    const client = pushingAfter(await keptClient(team, a, () => clock.now()), async () => {
      await onDesktop(a2, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
      granted = await team.answer(a2);
    });
    const owner = await onDesktop(a, (s) => outcomeOf(syncOnce(client, s.replica)));
    expect({ granted, owner }).toEqual({ granted: 'ok', owner: 'ok' });
    const answers: string[] = [];
    for (const d of [a2, b, c, a, a2, b, c]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a2: ok', 'b: ok', 'c: ok', 'a: ok', 'a2: ok', 'b: ok', 'c: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b), c: await holdsOps(team, c), asideOnC: setAsideOn(c) })
      .toEqual({ a: ['alice', CAROL], a2: ['alice', CAROL], b: false, c: true, asideOnC: [] });
  }, 240_000);
});
