/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation, at the version the server holds):
 * a change of the member's membership at that version stored between the revoking desktop's pull
 * and its push. The owner's desktop `a` revokes bob from Ops; while its sync is between its pull and
 * its push, the owner's second desktop `a2` makes bob a lead of Ops and syncs. Both records carry
 * the same revision (each one above the last agreed): the server stored the revoke over the
 * making, cutting bob off, but a2 (which sent the making) and bob's desktop (which took it) read the
 * revoke as no newer than what they held and kept bob in Ops; and once the rotation landed, bob's
 * desktop, handed no removal at its version, set it aside and kept Ops for good. The server now
 * names the member record as a conflict (server/sync/records.ts membersChangedUnseen): the desktop
 * pulls the making and sends its revoke above it.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { CrewvaultError } from '../../shared/errors';
import { BOB, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { holdsOps, losingRotations, opsMembersOn, opsOnServer } from '../support/revoke-first';

describe('a revoke crossing a change of the member made elsewhere at the version held', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 22, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-crossing-lead', clock);
  const { a, a2, b, onDesktop } = team;

  it('goes above that change: bob is out of Ops on every desktop, before the rotation lands and after', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    await onDesktop(a2, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    const crossed: string[] = [];
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    // The owner's first push waits for a2's sync; its rotation's part is lost on the way (it does not land yet).
    const client = pushingAfter(losingRotations(kept.client), async () => {
      for (const d of [a2, b]) crossed.push(`${d.name}: ${await team.answer(d)}`);
    });
    const first = await onDesktop(a, (s) => syncOnce(client, s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect(crossed).toEqual(['a2: ok', 'b: ok']);
    expect(first).toBe('SERVER_UNREACHABLE');
    // The revoke is on the server, the rotation not: bob is out there, and out on every desktop that syncs.
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: before.version });
    for (const d of [a2, b]) expect(await team.answer(d), d.name).toBe('ok');
    expect({ a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a2: ['alice'], b: false });
    // The rotation lands; everyone settles.
    const answers: string[] = [];
    for (const d of [a, a2, b, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'a2: ok', 'b: ok', 'a: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a: ['alice'], a2: ['alice'], b: false });
  }, 240_000);
});
