/**
 * A key change owed that must stay told (issue #15, docs/SYNC.md "A key change owed"): the owner makes Night and grants
 * bob it; the group's first sync carries the grant, and bob pulls the key. Revoked after it, the rotation lost on the
 * way and desktop a abandoned, Night stays under the key bob holds. Desktop a2, which had not pulled since before
 * Night, takes the group at that version and bob's revoke at it in one pull (his grant replaced on the server): the
 * same shape as a revoke sent with its rotation used to have, and it must be noted and told.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { groupOnServer, groupUidOn, OWED_BOB_NIGHT } from '../support/key-change-owed';
import { keptClient, losingRotations, outcomeOf, synced } from '../support/revoke-first';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

describe('a group granted with its first sync and revoked after it, its rotation lost', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 11, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-granted-at-first-sync', clock);
  const { a, a2, b, onDesktop } = team;

  it('is still owed on a desktop that learns of the group in the same pull as the revoke', async () => {
    const night = await onDesktop(a, async (s) => {
      const made = await s.team.createGroup('Night');
      await s.team.grant(made.id, BOB, false, await s.team.groupRevision(made.id));
      return made.id;
    });
    expect(await team.answer(a)).toBe('ok');
    // bob pulls Night's key with the group's first sync.
    expect(await team.answer(b)).toBe('ok');
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).toContain('Night');
    await onDesktop(a, async (s) => s.team.revoke(night, BOB, await s.team.memberRevision(night, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
    const nightUid = await groupUidOn(team, a, 'Night');
    expect(await groupOnServer(team, nightUid, [OWNER, BOB])).toEqual({ holders: [OWNER], version: 1 });
    // a2 had not pulled since before Night: the group at version 1 and bob's revoke there come together (his grant replaced).
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB_NIGHT);
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB_NIGHT);
  }, 240_000);
});
