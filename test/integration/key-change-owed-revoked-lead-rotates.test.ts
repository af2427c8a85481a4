/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") is not settled by the very member it is owed for: bob
 * leads Ops; the owner revokes him on desktop a, its push storing the revoke and losing the rotation on the way (a then
 * abandoned). bob's desktop, not having pulled the revoke, changes Ops's key (team.ts rotateKey: he still leads it
 * there). Landed, the new key would be his, and every desktop would read the key as changed. His sync pulls his own
 * removal first and cuts him off, his rotation with it: the server's Ops stays at the version he held, without him, and
 * the owner's other desktop is still told the key change is owed.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { bobLeadsOpsWithCarol, holdsOps, keptClient, losingRotations, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const OWED_BOB = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a revoked lead changing the key before pulling his removal', () => {
  const clock = manualClock(Date.UTC(2026, 11, 14, 15, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-revoked-lead', clock);
  const { a, a2, b, c, onDesktop } = team;

  it('does not settle the key change owed for him', async () => {
    await bobLeadsOpsWithCarol(team);
    const v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v });
    await onDesktop(b, async (s) => s.team.rotateKey(team.opsId));
    expect(await team.answer(b)).toBe('ok');
    expect(await holdsOps(team, b)).toBe(false);
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v });
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    expect((await synced(team, c)).keyChangesOwed).toBeUndefined();
  }, 240_000);
});
