/**
 * Repro (not fixed): a lead unmade while a rotation of their own (their revoke of carol) waits. The owner unmakes bob's
 * lead of Ops at the version the server holds, below the one bob's desktop rotated to: his desktop takes the unmaking as
 * nothing (a wrap below its own rotation: replica-people-in.ts takeMember), still reads itself a lead, and pushes its
 * revoke and rotation, which the server refuses (FORBIDDEN) at every sync, for good. Older than the revoke going first:
 * it fails the same way at 0fe8992^. To run: copy into test/integration/ with its imports as '../support/...'.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, opsOnServer } from '../support/revoke-first';

describe('a lead unmade while their own revoke waits', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 11, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('does not leave the lead\'s desktop refused at every sync', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const answers: string[] = [];
    for (const d of [b, b]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['b: ok', 'b: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB, CAROL], version: before.version });
  }, 240_000);
});
