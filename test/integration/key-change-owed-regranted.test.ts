/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") whose member is granted the group again at the
 * version they held: the owner revokes bob from Ops on desktop a, its rotation is lost on the way and a is abandoned;
 * the owner's other desktop a2 is told the key change is owed, then grants bob Ops again. bob holds its key again by
 * right, so nothing is owed any more: the line stops (before, it stood until the key was changed).
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { keptClient, losingRotations, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const OWED_BOB = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a key change owed whose member is granted the group again', () => {
  const clock = manualClock(Date.UTC(2026, 11, 10, 9, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-regranted', clock);
  const { a, a2, onDesktop } = team;

  beforeAll(async () => {
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
  }, 240_000);

  it('is no longer told once the member holds the group again', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    expect((await opsOnServer(team)).holders).toEqual([OWNER]);
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    await onDesktop(a2, async (s) => s.team.grant(team.opsId, BOB, false, await s.team.groupRevision(team.opsId)));
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, BOB], version: v });
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
  }, 240_000);
});
