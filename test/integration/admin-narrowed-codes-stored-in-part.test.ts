/**
 * An admin's server codes setting stored by the server in the first part of a push whose later part was lost, then
 * the admin narrowed to a team lead before the next push (issue #15, hostile review of 91e8333; replica-group-unsent.ts
 * agreeSent). The part stored (the group turned on, at its new key version, carol's wrap without the secret key) left
 * the sent sequence behind it, so the setting still read as unsent and the one kept as agreed was "off": the narrowing
 * put bob's desktop back to off, carol (codes-only) wrapped with the secret key there again, told "not made", while the
 * team held the group on. A group record stored is what the server holds: nothing is put back, nothing told.
 * Real desktops (real vault files, the sync's own code) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { wrapIn } from '../support/group-wraps';
import { auditedIn, bobAdminCarolCodesOnly, keptClient, losingPushesAfterFirst, opsCodesOn, outcomeOf, synced } from '../support/revoke-first';

describe('an admin narrowed after the part of his push carrying a server codes setting was stored', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 2, 0, 0));
  const team = useTeamDesktops('crewvault-admin-narrowed-codes-stored-in-part', clock);
  const { a, b, onDesktop } = team;
  const codesOn = (d: typeof a): Promise<boolean | undefined> => opsCodesOn(team, d);

  beforeAll(async () => bobAdminCarolCodesOnly(team), 180_000);

  it('keeps the setting the server stored, carol without the secret key, telling nothing as not made', async () => {
    await onDesktop(b, async (s) => s.team.setServerCodes(team.opsId, true, await s.team.groupRevision(team.opsId)));
    const cut = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingPushesAfterFirst(await keptClient(team, b, () => clock.now())), s.replica)));
    expect(cut).toMatch(/^SERVER_UNREACHABLE/);
    await synced(team, a);
    expect(await codesOn(a)).toBe(true);
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB)));
    await synced(team, a);
    const after = await synced(team, b);
    expect({ told: after.groupChangesUnmade, b: await codesOn(b), carol: wrapIn(b.file, CAROL, team.opsId), carolOnA: wrapIn(a.file, CAROL, team.opsId), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b) })
      .toEqual({ told: undefined, b: true, carol: wrapIn(a.file, CAROL, team.opsId), carolOnA: { version: wrapIn(a.file, CAROL, team.opsId).version, secret: false }, audited: 0, aside: [] });
  }, 240_000);
});
