/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") is told only to those who may change the key: the
 * owner revokes bob from Ops on desktop a, its rotation is lost on the way and a is abandoned. carol leads Ops under a
 * custom role that manages groups but holds no secret key (entries.view, groups.manage): changing a key re-seals what
 * the group holds under its secret key, so rotateKey refuses her (FORBIDDEN). Before, she was told at each sync to
 * "Change it: crewvault group rotate Ops", a step she may not take; the owner's other desktop a2, who may, still is.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { keptClient, losingRotations, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const OWED_BOB = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a key change owed, and a lead who may not change the key', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 15, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-lead-no-secret', clock);
  const { a, a2, c, onDesktop } = team;

  beforeAll(async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('group_keeper', ['entries.view', 'groups.manage'], 0);
      await s.team.changeRole(CAROL, 'group_keeper', await s.team.userRevision(CAROL));
      await s.team.grant(team.opsId, CAROL, true, await s.team.groupRevision(team.opsId));
    });
    for (const d of [a, a2, team.b, c]) expect(await team.answer(d), d.name).toBe('ok');
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
    expect((await opsOnServer(team)).holders).toEqual([OWNER, CAROL]);
  }, 240_000);

  it('is not told to her, who may not change it, and is told to the owner', async () => {
    expect(await onDesktop(c, async (s) => outcomeOf(s.team.rotateKey(team.opsId)))).toMatch(/^FORBIDDEN/);
    expect((await synced(team, c)).keyChangesOwed).toBeUndefined();
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
  }, 240_000);
});
