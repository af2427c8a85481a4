/**
 * Hostile review of the revoke going ahead of its rotation (electron/team/sync.ts partsOf), second round: a revoke
 * made on a desktop that never sent its group's record, started from a copy of the vault file (agreed as a whole:
 * replica-service.ts markAllAgreed notes no agreed revision of a group, and a group record taken in unchanged notes
 * none either). Its revoke was signed at the rotation's version, as if the server had never stored the group
 * (replica-people.ts agreedVersion read "agreed at no revision" as that), and so went with the rotation, not ahead of
 * it: bob, a lead of Ops, revoking carol, his rotation's part lost on the way (as a kept member writing in every window
 * holds it off), left carol in Ops on the server, writing there and reading every entry.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, keptClient, losingRotations, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a revoke made on a desktop that never sent its group\'s record', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 16, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-copied-desktop', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('goes ahead of its rotation: carol is out on the server before the key change lands', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB, CAROL]);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    const first = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, b, () => clock.now())), s.replica)));
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: before.version });
    expect(await team.answer(c)).toBe('ok');
    expect(await holdsOps(team, c)).toBe(false);
    const answers: string[] = [];
    for (const d of [b, a, c]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['b: ok', 'a: ok', 'c: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), b: await opsMembersOn(team, b), c: await holdsOps(team, c) }).toEqual({ a: ['alice', BOB], b: ['alice', BOB], c: false });
  }, 240_000);
});
