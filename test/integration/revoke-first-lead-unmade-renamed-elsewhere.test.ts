/**
 * A group renamed elsewhere after a lead's desktop gave way in it (issue #15's give-way, replica-own-key.ts
 * giveWayToHeld). bob, a lead of Ops, revokes carol (a rotation, unsent); the owner unmakes him, and his desktop gives
 * way to the version the server holds. Ops was agreed there at no revision (a file copy agreed whole), so the group's row
 * stayed at the revision the dropped rotation (and the give-way's own move of its key) left it, above the server's: the
 * owner's rename of Ops, one above the server's, was no newer than that row and taken as nothing, bob's desktop showing
 * the old name for good. It goes back to the revision it had before the rotation.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, synced, UNDONE_CAROL } from '../support/revoke-first';

describe('a group renamed elsewhere after a lead\'s desktop gave way in it', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 20, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade-renamed-elsewhere', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('takes the rename in', async () => {
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    expect((await synced(team, b)).revokesUnmade).toBe(UNDONE_CAROL);
    await onDesktop(a, async (s) => s.team.renameGroup(team.opsId, 'Ops North', await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a)).toBe('ok');
    await synced(team, b);
    const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);
    expect({ a: await nameOn(a), b: await nameOn(b), aside: setAsideOn(b) }).toEqual({ a: 'Ops North', b: 'Ops North', aside: [] });
  }, 240_000);
});
