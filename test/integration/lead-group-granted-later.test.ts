/**
 * A group a lead makes and syncs, then grants a member in a later sync (issue #15; found by the hostile review of
 * 3942529). The member's desktop took the group's record in before, without its creator's own lead wrap (the server hands
 * no member records of a group a person is not in); the grant's pull brought that wrap apart from the record, and the
 * desktop judged it as from someone not managing the group: it, and every member record after it, set aside for good
 * ("A received record changes an access group its sender does not manage"), though the server held the member in the
 * group. Now the group's creator is noted when its record is taken without that wrap (replica-people-new.ts
 * creatorsFirstWrap), and the wrap is theirs to make when it comes. Made and granted in one sync, it always worked.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { bobLeadsOpsWithCarol } from '../support/revoke-first';
import { CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

describe('a lead makes a group, and grants a member it in a later sync', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 13, 0, 0));
  const team = useTeamDesktops('crewvault-lead-group-granted-later', clock);
  const { b, c, onDesktop } = team;
  it('the member granted it holds it', async () => {
    await bobLeadsOpsWithCarol(team);
    await onDesktop(b, async (s) => {
      const night = await s.team.createGroup('Night');
      await s.createEntries([{ customer: 'Acme', title: 'Night switch', password: 'ns-1', groupId: night.id }]);
    });
    expect(await team.answer(b)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    await onDesktop(b, async (s) => {
      const made = (await s.team.listGroups()).find((g) => g.name === 'Night');
      if (made === undefined) throw new Error('no Night');
      await s.team.grant(made.id, CAROL, false, await s.team.groupRevision(made.id));
    });
    expect(await team.answer(b)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    expect(setAsideOn(c)).toEqual([]);
    expect(await onDesktop(c, async (s) => (await s.team.listGroups()).map((g) => g.name))).toContain('Night');
    const titles = await onDesktop(c, async (s) => (await s.listEntries()).map((e) => e.title));
    expect(titles).toContain('Night switch');
  }, 300_000);
});
