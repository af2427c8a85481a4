/**
 * A key changed at will (team.ts rotateKey, docs/SYNC.md "A key change owed") crossing a revoke made elsewhere: the
 * owner's other desktop a2 changes Ops's key; between its sync's pull and push, desktop a revokes bob from Ops, its
 * push storing the revoke and losing the rotation on the way (a then abandoned). a2's rotation still wraps bob: the
 * server refuses it (a re-wrap of a membership whose revoke it stored after the pull), and a2 pulls the revoke, takes
 * it under its own rotation and sends the rotation without bob. The key bob held is changed, nothing is owed, and bob's
 * desktop no longer holds Ops.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { holdsOps, keptClient, losingRotations, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { BOB, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

describe('a key change crossing a revoke stored between its pull and push', () => {
  const clock = manualClock(Date.UTC(2026, 11, 14, 9, 0, 0));
  const team = useTeamDesktops('crewvault-rotate-key-crossing-revoke', clock);
  const { a, a2, b, onDesktop } = team;

  it('lands without the revoked member, and nothing is owed', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a2, async (s) => s.team.rotateKey(team.opsId));
    let revoking = '';
    const behind = pushingAfter(await keptClient(team, a2, () => clock.now()), async () => {
      await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
      const client = losingRotations(await keptClient(team, a, () => clock.now()));
      revoking = await onDesktop(a, (s) => outcomeOf(syncOnce(client, s.replica)));
    });
    await onDesktop(a2, (s) => outcomeOf(syncOnce(behind, s.replica)));
    expect(revoking).toMatch(/^SERVER_UNREACHABLE/);
    const after = await synced(team, a2);
    expect(after.keyChangesOwed).toBeUndefined();
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER], version: v + 1 });
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    await synced(team, b);
    expect(await holdsOps(team, b)).toBe(false);
  }, 240_000);
});
