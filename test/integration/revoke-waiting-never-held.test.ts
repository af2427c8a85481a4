/**
 * A removal waiting, of someone the server never held in the group (issue #15, sync.ts revokesWaitingLine): the owner makes
 * dave, grants him Ops and revokes him again before any sync, and revokes bob, whom the server holds there. The round's
 * rotation is lost on the way. Before, dave's removal was told as "dave still reaches it on the server", which he never did
 * (his user record, and the revoke with it, goes with the rotation: the server never stored him); bob's, stored ahead of the
 * rotation, as cut off with the key change waiting. Now dave's says it waits to be sent and that he never reached the group.
 * Real desktops (real vault files, the sync's own code) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { keptClient, losingRotations, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER } from '../support/vault';

describe('a removal waiting, of someone the server never held in the group', () => {
  const clock = manualClock(Date.UTC(2026, 11, 16, 8, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-waiting-never-held', clock);
  const { a, onDesktop } = team;

  it('is told as waiting to be sent, never as still reaching the group', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => {
      await s.team.createUser('dave', 'technician', 'dave starts on monday 4444', FAST_KDF);
      await s.team.grant(team.opsId, 'dave', false, await s.team.groupRevision(team.opsId));
      await s.team.revoke(team.opsId, 'dave', await s.team.memberRevision(team.opsId, 'dave'));
      await s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB));
    });
    const failed = await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)));
    expect(failed).toBe('SERVER_UNREACHABLE: The team server could not be reached. '
      + 'dave\'s removal from Ops waits to be sent: dave never reached it on the server; '
      + 'bob no longer reaches Ops on the server; its key change waits: entries written there since stay under the key bob held. Sync again to send the rest.');
    // The next round sends the rest: Ops rotated without either, and nothing waits.
    expect((await synced(team, a)).revokesWaiting).toBeUndefined();
    const ops = await opsOnServer(team);
    expect(ops.holders).toEqual([OWNER]);
    expect(ops.version).toBe(v + 2); // two revokes made here, a key change each
  }, 240_000);
});
