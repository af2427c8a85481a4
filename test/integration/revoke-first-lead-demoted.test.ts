/**
 * A lead whose role is narrowed while a rotation of their own waits (issue #15's class: the demotion comes by a user
 * record, not a member record). bob, a lead of Ops, revokes carol on his desktop (a rotation, unsent); before it goes,
 * the owner makes him a technician: he leads Ops still, and his role manages no group. His desktop, reading itself a
 * manager no more, sent the entries it re-sealed under a key version the server never took, and the server refused its
 * pushes for good; now it gives way to the version the server holds, as for a lead unmade
 * (revoke-first-lead-unmade.test.ts): the rotation dropped, bob's password under the key held, the revoke told.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, opsOnServer, opsWrapsIn, switchPasswordOn, synced, UNDONE_CAROL } from '../support/revoke-first';

describe('a lead whose role is narrowed while their own revoke waits', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 12, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-demoted', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('gives way to the version the server holds and tells the revoke', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await team.setPassword(b, 'Acme/Switch', 's-bob');
    // bob leads Ops still; a technician's role manages no group.
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    expect(await team.answer(a)).toBe('ok');
    const answers: string[] = [];
    for (const d of [b, b]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['b: ok', 'b: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB, CAROL], version: before.version });
    const v = before.version ?? 0;
    expect(opsWrapsIn(team, b)).toEqual([`alice@${v}`, `${BOB}@${v}`, `${CAROL}@${v}`]);
    expect((await synced(team, b)).revokesUnmade).toBe(UNDONE_CAROL);
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(1);
    await synced(team, a);
    expect(await switchPasswordOn(team, a)).toBe('s-bob');
  }, 240_000);
});
