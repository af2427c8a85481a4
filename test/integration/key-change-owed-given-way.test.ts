/**
 * No key change owed for a revoke of a user the server never stored whose rotation gave way (issue #15, docs/SYNC.md
 * "A key change owed"; hostile review of 3942529): the owner makes dave on desktop a, grants him Ops and revokes him
 * again before any sync, while the owner's other desktop a2 changes Ops's key and is stored first. a's rotation gives way
 * to a2's (which never wrapped dave), and dave's revoke goes alone. Signed at a2's version (raised to the owner's own wrap
 * there), every desktop holding Ops, a's own with them, read it as standing at the version held and told its managers at
 * each sync that the key was owed a change, for nothing: dave never held any key of Ops. Now it is signed at the version
 * dave was wrapped at here, below the one the server holds.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { owedIn, storedRevoke } from '../support/key-change-owed';
import { opsOnServer, synced } from '../support/revoke-first';
import { BOB, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER } from '../support/vault';

describe('a revoke of a user the server never stored, its rotation given way to another', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 11, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-given-way', clock);
  const { a, a2, b, onDesktop } = team;

  it('notes no key change owed on any desktop', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => {
      await s.team.createUser('dave', 'technician', 'dave starts on monday 4444', FAST_KDF);
      await s.team.grant(team.opsId, 'dave', false, await s.team.groupRevision(team.opsId));
      await s.team.revoke(team.opsId, 'dave', await s.team.memberRevision(team.opsId, 'dave'));
    });
    await onDesktop(a2, async (s) => s.team.rotateKey(team.opsId));
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    // a's rotation gives way to a2's, stored first at the same version: dave's revoke goes without a rotation.
    expect((await synced(team, a)).keyChangesOwed).toBeUndefined();
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, BOB], version: v + 1 });
    for (const d of [a, a2, b]) expect((await synced(team, d)).keyChangesOwed, d.name).toBeUndefined();
    for (const d of [a, a2, b]) expect(owedIn(d), d.name).toEqual([]);
    // Signed at the version dave was wrapped at here, below the one the server holds.
    expect(await storedRevoke(team, groupUidIn(a.file, team.opsId), 'dave')).toMatchObject({ revoked: true, keyVersion: v });
  }, 240_000);
});
