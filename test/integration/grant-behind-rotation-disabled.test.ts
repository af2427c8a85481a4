/**
 * As grant-behind-rotation.test.ts, the person granted disabled on the rotating desktop (issue #15): the owner's desktop
 * `a` revokes bob from Ops and disables carol, offline; the owner's second desktop `a2` grants carol Ops, and it lands.
 * `a` cannot carry her in its rotation (the server gives a disabled person no group key): the grant is dropped there,
 * told, and her removal goes with the rotation, so nothing of Ops stays with her.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { holdsOps, opsMembersOn, opsOnServer } from '../support/revoke-first';

describe('a grant made elsewhere of someone the rotating desktop disabled', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 13, 0, 0));
  const team = useTeamDesktops('crewvault-grant-behind-rotation-disabled', clock);
  const { a, a2, b, c, onDesktop } = team;

  it('is dropped there, told, and her removal sent with the rotation', async () => {
    const before = await opsOnServer(team);
    await onDesktop(a, async (s) => {
      await s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB));
      await s.team.disableUser(CAROL, await s.team.userRevision(CAROL));
    });
    await onDesktop(a2, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a2)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    expect(await holdsOps(team, c)).toBe(true);
    const owner = await team.sync(a);
    expect(owner.code, owner.stderr).toBe('ok');
    const crossed = (JSON.parse(owner.stdout) as { crossed: Array<{ user: string; detail: string }> }).crossed;
    expect(crossed.map((x) => x.user)).toEqual([CAROL]);
    expect(crossed[0]?.detail).toMatch(/granted the group "Ops" elsewhere .*they are disabled here.*the grant dropped, their removal sent with the new key/);
    const answers: string[] = [];
    for (const d of [a2, b, a, a2]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a2: ok', 'b: ok', 'a: ok', 'a2: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a: ['alice'], a2: ['alice'], b: false });
    // Disabled, carol's desktop is refused by the server: nothing more of Ops reaches it.
    expect(await team.answer(c)).toMatch(/^FORBIDDEN: .*disabled/);
  }, 240_000);
});
