/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation): a re-grant made while the key change
 * waits. The owner's desktop `a` revokes bob from Ops: the revoke is stored, its rotation's part lost
 * on the way (the key change waits, as a kept member writing in every window makes it wait). The
 * owner's second desktop `a2` takes the revoke in and grants bob Ops again; bob's desktop takes the
 * grant. When a's rotation landed, it was made without him (his grant, below a's unsent rotation, was
 * taken as nothing there): the server dropped him again, nobody told, and bob's desktop, handed no
 * removal at the new version, kept Ops set aside.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { CrewvaultError } from '../../shared/errors';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { holdsOps, losingRotations, opsMembersOn, opsOnServer } from '../support/revoke-first';

describe('a re-grant while a revoke waits for its key change', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 23, 0, 0));
  const team = useTeamDesktops('crewvault-regrant-behind-rotation', clock);
  const { a, a2, b, onDesktop } = team;

  it('is not undone by the rotation landing after it', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const first = await onDesktop(a, (s) => syncOnce(losingRotations(kept.client), s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect(first).toBe('SERVER_UNREACHABLE');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: before.version });
    // The second desktop takes the revoke in, and grants bob Ops again.
    expect(await team.answer(a2)).toBe('ok');
    expect(await opsMembersOn(team, a2)).toEqual(['alice']);
    await onDesktop(a2, async (s) => s.team.grant(team.opsId, BOB, false, await s.team.groupRevision(team.opsId)));
    const answers: string[] = [];
    for (const d of [a2, b, a, a2, b, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a2: ok', 'b: ok', 'a: ok', 'a2: ok', 'b: ok', 'a: ok']);
    // The key changed, and bob, granted again after his revoke, holds it.
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a: ['alice', BOB], a2: ['alice', BOB], b: true });
  }, 240_000);
});
