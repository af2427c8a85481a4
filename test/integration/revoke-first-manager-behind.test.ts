/**
 * A revoke goes ahead of its rotation, signed at the key version the server holds (electron/team/sync.ts
 * partsOf): until the rotation lands, no version bump makes a wrap of the revoked member stale. A manager
 * desktop behind the revoke (it pulled before the revoke was stored, and pushes after) could so give
 * bob the group again: with its own rotation's re-wrap (T3), or a change of his membership at the
 * version held (T4). The server names such a wrap as a conflict (server/sync/records.ts
 * membersRevokedUnseen); the desktop pulls the revoke, takes it, and pushes again without him.
 * Here the owner's desktop `a` revokes bob and its sync stops after its first part (the revoke stored,
 * the rotation's part lost on the way), while the owner's second desktop `a2` had pulled before.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { keptClient, losingPushesAfterFirst, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a manager behind a revoke stored ahead of its rotation', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 15, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-behind', clock);
  const { a, a2, b, c, onDesktop, sync } = team;

  beforeAll(async () => {
    // Carol joins Ops too; every desktop takes it in.
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    for (const d of [a, a2, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
  }, 180_000);

  it('does not give bob the group again with its own rotation: refused, it pulls the revoke and pushes without him (T3)', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB, CAROL]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    await onDesktop(a2, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    let first = '';
    let afterRevoke: Awaited<ReturnType<typeof opsOnServer>> | undefined;
    const behind = pushingAfter(await keptClient(team, a2, () => clock.now()), async () => {
      const client = losingPushesAfterFirst(await keptClient(team, a, () => clock.now()));
      first = await onDesktop(a, (s) => outcomeOf(syncOnce(client, s.replica)));
      afterRevoke = await opsOnServer(team);
    });
    const a2Outcome = await onDesktop(a2, (s) => outcomeOf(syncOnce(behind, s.replica)));
    // The owner's revoke stored, its rotation not: bob is out on the server at the version it held.
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    expect(afterRevoke).toEqual({ holders: ['alice', CAROL], version: before.version });
    // The second desktop's rotation re-wrapped bob: refused once, then sent without him.
    expect(a2Outcome).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    // The owner's rotation gives way to it; everyone settles, nobody BUSY.
    const answers: string[] = [];
    for (const d of [a, a2, b, c, a, a2]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'a2: ok', 'b: ok', 'c: ok', 'a: ok', 'a2: ok']);
    expect((await opsOnServer(team)).holders).toEqual(['alice']);
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await opsMembersOn(team, b), c: await opsMembersOn(team, c) })
      .toEqual({ a: ['alice'], a2: ['alice'], b: [], c: [] });
  }, 180_000);
});
