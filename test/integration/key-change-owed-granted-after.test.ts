/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") learnt by a desktop that takes the group in only
 * after the revoke: the owner revokes bob from Ops on desktop a, its rotation is lost on the way and a is abandoned;
 * the owner's other desktop a2 then makes carol a team lead and a lead of Ops. Her desktop takes bob's revoke in with
 * her grant, in one pull, and must tell her the key change owed, as she manages Ops now.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { keptClient, losingRotations, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { CAROL, BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const OWED_BOB = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a key change owed learnt by a desktop granted the group after the revoke', () => {
  const clock = manualClock(Date.UTC(2026, 11, 10, 15, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-granted-after', clock);
  const { a, a2, c, onDesktop } = team;

  beforeAll(async () => {
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
  }, 240_000);

  it('is told to a lead granted the group since', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    await onDesktop(a2, async (s) => {
      await s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL));
      await s.team.grant(team.opsId, CAROL, true, await s.team.groupRevision(team.opsId));
    });
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v });
    expect((await synced(team, c)).keyChangesOwed).toBe(OWED_BOB);
    expect((await synced(team, c)).keyChangesOwed).toBe(OWED_BOB);
  }, 240_000);
});
