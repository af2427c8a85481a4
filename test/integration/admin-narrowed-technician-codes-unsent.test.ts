/**
 * An admin narrowed to a technician (no longer managing the group at all) with a server codes setting not yet sent
 * (issue #15, hostile review of 91e8333; replica-people-in.ts dropUnsentCodes, then giveWayToHeld). carol is codes-only.
 * Turned on (a key change taking carol's secret key): the setting goes back off, the key change gives way to the version
 * the server holds, and carol's wrap there holds the secret key again. Turned off (carol handed the secret key, no key
 * change): back on, carol's wrap without it, nothing of it sent. Each told once; no push refused.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { wrapIn } from '../support/group-wraps';
import { auditedIn, bobAdminCarolCodesOnly, opsCodesOn, opsOnServer, synced } from '../support/revoke-first';

const told = (turned: 'on' | 'off'): string => `A change of yours not made: "Ops" server-computed codes turned ${turned} (only owners and admins change it). Never sent, the group stays as the team holds it.`;

describe('an admin narrowed to a technician with a server codes setting not yet sent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 23, 0, 0));
  const team = useTeamDesktops('crewvault-admin-narrowed-technician-codes', clock);
  const { a, b, c, onDesktop } = team;
  const codesOn = (d: typeof a): Promise<boolean | undefined> => opsCodesOn(team, d);

  beforeAll(async () => bobAdminCarolCodesOnly(team), 180_000);

  it('turned on: back off, the key change given way, carol holding the secret key at the version held', async () => {
    const before = await opsOnServer(team);
    const carolBefore = wrapIn(b.file, CAROL, team.opsId);
    await onDesktop(b, async (s) => s.team.setServerCodes(team.opsId, true, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    await synced(team, a);
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, held: second.held, aside: setAsideOn(b), b: await codesOn(b), carol: wrapIn(b.file, CAROL, team.opsId), server: await opsOnServer(team), audited: auditedIn(b, 'group.change_unmade') })
      .toEqual({ first: told('on'), second: undefined, held: 0, aside: [], b: false, carol: carolBefore, server: before, audited: 1 });
    expect(carolBefore.secret).toBe(true);
  }, 240_000);

  it('turned off: back on, carol\'s wrap without the secret key, nothing sent', async () => {
    await onDesktop(a, async (s) => {
      await s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB));
      await s.team.setServerCodes(team.opsId, true, await s.team.groupRevision(team.opsId));
    });
    for (const d of [a, b, c]) await synced(team, d);
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.setServerCodes(team.opsId, false, await s.team.groupRevision(team.opsId)));
    expect(wrapIn(b.file, CAROL, team.opsId).secret).toBe(true);
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    await synced(team, a);
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, held: second.held, aside: setAsideOn(b), b: await codesOn(b), carol: wrapIn(b.file, CAROL, team.opsId).secret, server: await opsOnServer(team), audited: auditedIn(b, 'group.change_unmade') })
      .toEqual({ first: told('off'), second: undefined, held: 0, aside: [], b: true, carol: false, server: before, audited: 2 });
  }, 240_000);
});
