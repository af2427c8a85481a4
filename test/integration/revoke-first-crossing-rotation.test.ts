/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation, signed at the version the server
 * holds): another manager's rotation landing between the revoking desktop's pull and its push. The
 * owner's desktop `a` revokes bob from Ops; while its sync is between its pull and its push, the
 * owner's second desktop `a2` revokes carol and syncs (Ops moves to the next version, bob wrapped
 * at it) and bob's desktop takes that version in. The server stored a's revoke, signed at the
 * version before a2's rotation, over a2's wrap of bob: a's own rotation gave way to a2's, found bob
 * wrapped nowhere (his record now the revoke) and was not made again, so Ops stayed at the version
 * bob held; his desktop read the revoke as one below its version and kept Ops, and a2, whose wrap
 * of bob had the revoke's revision, kept him. The server now names the group as a conflict
 * (server/sync/records.ts revokesBelowUnseen): the desktop pulls the rotation, gives way to it and
 * revokes bob again past it.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { CrewvaultError } from '../../shared/errors';
import { BOB, CAROL, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { opsMembersOn, opsOnServer } from '../support/revoke-first';

describe('a revoke crossing another manager\'s rotation between its pull and its push', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 21, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-crossing', clock);
  const { a, a2, b, c, onDesktop, sync } = team;

  beforeAll(async () => {
    // Carol joins Ops too; every desktop takes it in.
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    for (const d of [a, a2, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
  }, 180_000);

  it('is not stored below the rotation: bob ends outside Ops everywhere, its key changed past the one he took', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB, CAROL]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const crossed: string[] = [];
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const client = pushingAfter(kept.client, async () => {
      await onDesktop(a2, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
      for (const d of [a2, b]) crossed.push(`${d.name}: ${await team.answer(d)}`);
    });
    const first = await onDesktop(a, (s) => syncOnce(client, s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? `${error.code}: ${error.message}` : String(error))));
    expect(crossed).toEqual(['a2: ok', 'b: ok']);
    // Its revoke, below a2's rotation, is named a conflict: the sync pulls the rotation, gives way to it and revokes bob past it.
    expect(first).toBe('ok');
    const answers: string[] = [];
    for (const d of [a, b, c, a2, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'b: ok', 'c: ok', 'a2: ok', 'a: ok']);
    // Ops moved past the version bob took from a2's rotation, and nobody but alice holds it there.
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 2 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await opsMembersOn(team, b), c: await opsMembersOn(team, c) })
      .toEqual({ a: ['alice'], a2: ['alice'], b: [], c: [] });
  }, 240_000);
});
