/**
 * T4 beside revoke-first-manager-behind.test.ts (T3), whose header says the whole. A revoke goes ahead of its rotation, signed at the key version the server holds (electron/team/sync.ts
 * partsOf): until the rotation lands, no version bump makes a wrap of the revoked member stale. A manager
 * desktop behind the revoke (it pulled before the revoke was stored, and pushes after) could so give
 * bob the group again: with its own rotation's re-wrap (T3), or a change of his membership at the
 * version held (T4). The server names such a wrap as a conflict (server/sync/records.ts
 * membersRevokedUnseen); the desktop pulls the revoke, takes it, and pushes again without him.
 * Here the owner's desktop `a` revokes bob and its sync stops after its first part (the revoke stored,
 * the rotation's part lost on the way), while the owner's second desktop `a2` had pulled before.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { keptClient, losingPushesAfterFirst, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a manager behind a revoke changing the member at the version held', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 16, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead', clock);
  const { a, a2, b, onDesktop } = team;

  it('does not give him the group again: refused, settled after its pull (T4)', async () => {
    const before = await opsOnServer(team);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    // Behind the revoke, the second desktop makes bob a lead of Ops: a wrap of his at the version the server holds.
    await onDesktop(a2, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    let first = '';
    const behind = pushingAfter(await keptClient(team, a2, () => clock.now()), async () => {
      const client = losingPushesAfterFirst(await keptClient(team, a, () => clock.now()));
      first = await onDesktop(a, (s) => outcomeOf(syncOnce(client, s.replica)));
    });
    const a2Outcome = await onDesktop(a2, (s) => outcomeOf(syncOnce(behind, s.replica)));
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    expect(a2Outcome).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: before.version });
    expect(await opsMembersOn(team, a2)).toEqual(['alice']);
    // The owner's rotation lands at its next sync; bob's desktop no longer holds Ops.
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(b)).toBe('ok');
    expect(await team.answer(a2)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect(await opsMembersOn(team, b)).toEqual([]);
  }, 180_000);
});
