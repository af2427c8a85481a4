/**
 * A revoke sent with its rotation (issue #15, docs/SYNC.md "A key change owed"; hostile review of 3942529), where it could
 * have gone wrong and does not: a user new to the server granted two groups and revoked from one, pushed one record a part
 * with the parts after the first lost (the revoke never stored ahead of the rotation and the user record that bring it);
 * and a lead, not an owner, making a group, granting and revoking before any sync. No key change owed anywhere, and the
 * server holds what the desktops hold.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { groupOnServer, groupUidOn, owedIn, storedRevoke } from '../support/key-change-owed';
import { bobLeadsOpsWithCarol, keptClient, losingPushesAfterFirst, opsOnServer, outcomeOf, synced } from '../support/revoke-first';
import { BOB, CAROL, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER } from '../support/vault';

describe('a revoke sent with its rotation, cut into parts or made by a lead', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 12, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-parts-lead', clock);
  const { a, a2, b, c, onDesktop } = team;

  it('a new user in two groups revoked from one, one record a part, the rest lost: nothing owed, converges', async () => {
    const v = (await opsOnServer(team)).version ?? 0;
    const defaultId = await onDesktop(a, async (s) => {
      // A technician starts in the default group: dave's second group, kept.
      await s.team.createUser('dave', 'technician', 'dave starts on monday 4444', FAST_KDF);
      const def = (await s.team.listGroups()).find((g) => g.isDefault);
      if (def === undefined) throw new Error('no default group');
      await s.team.grant(team.opsId, 'dave', false, await s.team.groupRevision(team.opsId));
      await s.team.revoke(team.opsId, 'dave', await s.team.memberRevision(team.opsId, 'dave'));
      return def.id;
    });
    const cut = await onDesktop(a, async (s) => outcomeOf(syncOnce(losingPushesAfterFirst(await keptClient(team, a, () => clock.now())), s.replica, { partRecords: 1 })));
    expect(cut).toMatch(/^SERVER_UNREACHABLE/);
    for (const d of [a2, b]) expect((await synced(team, d)).keyChangesOwed, d.name).toBeUndefined();
    const all = await onDesktop(a, async (s) => syncOnce(await keptClient(team, a, () => clock.now()), s.replica, { partRecords: 1 }));
    expect(all.keyChangesOwed).toBeUndefined();
    for (const d of [a, a2, b, c]) expect((await synced(team, d)).keyChangesOwed, d.name).toBeUndefined();
    for (const d of [a, a2, b, c]) expect(owedIn(d), d.name).toEqual([]);
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, BOB], version: v + 1 });
    expect((await groupOnServer(team, groupUidIn(a.file, defaultId), ['dave'])).holders).toEqual(['dave']);
    expect(await storedRevoke(team, groupUidIn(a.file, team.opsId), 'dave')).toMatchObject({ revoked: true, keyVersion: v });
  }, 300_000);

  it('a lead making a group, granting and revoking before a sync: nothing owed', async () => {
    await bobLeadsOpsWithCarol(team);
    await onDesktop(b, async (s) => {
      const made = await s.team.createGroup('Night');
      await s.team.grant(made.id, CAROL, false, await s.team.groupRevision(made.id));
      await s.team.revoke(made.id, CAROL, await s.team.memberRevision(made.id, CAROL));
    });
    expect((await synced(team, b)).keyChangesOwed).toBeUndefined();
    for (const d of [a, a2, b, c]) expect((await synced(team, d)).keyChangesOwed, d.name).toBeUndefined();
    for (const d of [a, a2, b, c]) expect(owedIn(d), d.name).toEqual([]);
    const night = await groupUidOn(team, a, 'Night');
    expect((await groupOnServer(team, night, [OWNER, BOB, CAROL])).holders).toEqual([OWNER, BOB]);
    expect(await onDesktop(c, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Night');
  }, 300_000);
});
