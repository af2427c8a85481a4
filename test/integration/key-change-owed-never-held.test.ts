/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") learnt by a desktop that never held the revoked
 * membership: the owner makes a group Night and grants bob it (carol's desktop, not holding Night, is handed none of
 * its member records), then revokes bob from Night on desktop a, whose rotation is lost on the way, and a is
 * abandoned. The owner's other desktop a2 makes carol a team lead and a lead of Night: her desktop is handed Night with
 * its member records, bob's revoke among them, of a pair it never held, as a desktop filled by its first sync is. It
 * must note the key change owed and tell her (before, a revoke of a pair never held was taken as unchanged, its
 * revision never agreed, and noted nothing).
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { keptClient, losingRotations, outcomeOf, synced } from '../support/revoke-first';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const OWED_BOB = 'bob was removed from Night on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Night (or the Groups screen).';

describe('a key change owed learnt by a desktop that never held the revoked membership', () => {
  const clock = manualClock(Date.UTC(2026, 11, 11, 9, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-never-held', clock);
  const { a, a2, c, onDesktop } = team;
  let night = 0;

  beforeAll(async () => {
    night = await onDesktop(a, async (s) => {
      const made = await s.team.createGroup('Night');
      await s.team.grant(made.id, BOB, false, await s.team.groupRevision(made.id));
      return made.id;
    });
    for (const d of [a, a2, team.b, c]) expect(await team.answer(d), d.name).toBe('ok');
    await onDesktop(a, async (s) => s.team.revoke(night, BOB, await s.team.memberRevision(night, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
  }, 240_000);

  it('is told to a lead granted the group since', async () => {
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    await onDesktop(a2, async (s) => {
      await s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL));
      await s.team.grant(night, CAROL, true, await s.team.groupRevision(night));
    });
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    expect((await synced(team, c)).keyChangesOwed).toBe(OWED_BOB);
    expect((await synced(team, c)).keyChangesOwed).toBe(OWED_BOB);
  }, 240_000);
});
