/**
 * Hostile review of the revoke going ahead of its rotation (electron/team/sync.ts partsOf), second round:
 * the revoked member is a lead with a rotation of their own not sent. The owner's desktop `a` revokes
 * bob, a lead of Ops, while bob's desktop `b` revokes carol (its own rotation of Ops, unsent). The
 * owner's revoke goes first, signed at the version the server holds, below the one bob's desktop
 * rotated to: taken under that rotation (takeRevokeUnderOwnRotation), a removal of this desktop's own
 * person was left to a record at its version that never comes (the owner's rotation sends none), so bob's
 * desktop kept Ops, its rotation and its revoke, and every sync of it was refused.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, keptClient, losingRotations, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a lead revoked while their own revoke waits', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 9, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-revoked-lead', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => {
    await bobLeadsOpsWithCarol(team);
  }, 180_000);

  it('cuts the lead off on their own desktop, before the owner\'s rotation lands and after', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB, CAROL]);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    // The owner's revoke is stored, its rotation's part lost on the way (the key change waits).
    const first = await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)));
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: before.version });
    // Bob's desktop takes his removal: Ops goes, with his rotation and his revoke of carol (he may no longer make them).
    const bobFirst = await team.answer(b);
    expect({ bobFirst, holds: await holdsOps(team, b) }).toEqual({ bobFirst: 'ok', holds: false });
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: before.version });
    // The owner's rotation lands; everyone settles.
    const answers: string[] = [];
    for (const d of [a, team.a2, b, team.c, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'a2: ok', 'b: ok', 'c: ok', 'a: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), b: await holdsOps(team, b), c: await holdsOps(team, team.c) }).toEqual({ a: ['alice', CAROL], b: false, c: true });
  }, 240_000);
});
