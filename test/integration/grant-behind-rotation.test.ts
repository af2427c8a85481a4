/**
 * A grant of a new person made elsewhere at the key version the server holds, while a rotation of the same group waits
 * unsent on a manager's desktop (issue #15): the owner's desktop `a` revokes bob from Ops offline; the owner's second
 * desktop `a2` grants carol Ops, and it lands; `a` then syncs, pulls carol's grant below its own rotation, and pushes
 * that rotation. Made without her, it dropped her wrap everywhere: carol lost Ops, her desktop kept it set aside for
 * want of a removal at the new version, and nobody was told.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { holdsOps, opsMembersOn, opsOnServer } from '../support/revoke-first';

describe('a grant made elsewhere while a rotation waits unsent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 9, 0, 0));
  const team = useTeamDesktops('crewvault-grant-behind-rotation', clock);
  const { a, a2, b, c, onDesktop } = team;

  it('is carried by the rotation landing after it', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB]);
    // The owner's desktop revokes bob, offline: the rotation waits there.
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    // The owner's second desktop grants carol Ops at the version the server holds; it lands, and carol's desktop takes it.
    await onDesktop(a2, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a2)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB, CAROL], version: before.version });
    expect(await holdsOps(team, c)).toBe(true);
    const answers: string[] = [];
    for (const d of [a, a2, b, c, a, a2, b, c]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'a2: ok', 'b: ok', 'c: ok', 'a: ok', 'a2: ok', 'b: ok', 'c: ok']);
    // The key changed without bob, and carol, granted before it landed, holds the new key.
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b), c: await holdsOps(team, c), asideOnC: setAsideOn(c) })
      .toEqual({ a: ['alice', CAROL], a2: ['alice', CAROL], b: false, c: true, asideOnC: [] });
  }, 240_000);
});
