/**
 * No key change owed for a revoke of a user the server never stored (issue #15, docs/SYNC.md "A key change owed"): the
 * owner makes dave on desktop a, grants him Ops and revokes him again before any sync. dave's revoke goes with the user
 * record that brings him (the server would refuse it ahead of it), and signed at the rotation's version every desktop
 * holding Ops read it as standing at the version it holds, a key change owed for nothing. Now it is signed below the
 * rotation it goes with, at the version dave was wrapped at here.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { owedIn, storedRevoke } from '../support/key-change-owed';
import { opsOnServer, synced } from '../support/revoke-first';
import { BOB, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER } from '../support/vault';

describe('a revoke sent with its rotation, of a user the server never stored', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 10, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-new-user', clock);
  const { a, a2, onDesktop } = team;

  it('notes no key change owed on the desktops that take it in', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => {
      await s.team.createUser('dave', 'technician', 'dave starts on monday 4444', FAST_KDF);
      await s.team.grant(team.opsId, 'dave', false, await s.team.groupRevision(team.opsId));
      await s.team.revoke(team.opsId, 'dave', await s.team.memberRevision(team.opsId, 'dave'));
    });
    expect((await synced(team, a)).keyChangesOwed).toBeUndefined();
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    expect(owedIn(a2)).toEqual([]);
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    // Ops rotated without dave on the server; his revoke signed below it (the version he was wrapped at here).
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, BOB], version: v + 1 });
    expect(await storedRevoke(team, groupUidIn(a.file, team.opsId), 'dave')).toMatchObject({ revoked: true, keyVersion: v });
  }, 240_000);
});
