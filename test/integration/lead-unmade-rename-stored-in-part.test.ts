/**
 * A lead's rename stored by the server in the first part of a push whose later part was lost (electron/team/sync.ts
 * partsOf: who is who goes first), then the lead unmade before the next push (issue #15, hostile review of 91e8333;
 * replica-group-unsent.ts). The part stored is marked sent (markSent: the group agreed at the rename's revision), the
 * sent sequence not: the rename read as still unsent, and the name kept as agreed was still the one it replaced. So the
 * unmaking put bob's desktop back to "Ops" at the revision that carries "Ops West" on the server, told the rename "not
 * made", and his desktop showed "Ops" for good while the team held "Ops West". A group record stored is what the server
 * holds: its name and setting are agreed as it is marked sent.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, keptClient, losingPushesAfterFirst, outcomeOf, synced } from '../support/revoke-first';

describe('a lead unmade after the part of his push carrying a rename was stored', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 20, 0, 0));
  const team = useTeamDesktops('crewvault-lead-unmade-rename-stored-in-part', clock);
  const { a, b, onDesktop } = team;
  const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('keeps the name the server stored, telling nothing as not made', async () => {
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops West', await s.team.groupRevision(team.opsId)));
    // The people part (the rename) is stored; the part after it (its audit event) is lost on the way.
    const cut = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingPushesAfterFirst(await keptClient(team, b, () => clock.now())), s.replica)));
    expect(cut).toMatch(/^SERVER_UNREACHABLE/);
    await synced(team, a);
    expect(await nameOn(a)).toBe('Ops West');
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const after = await synced(team, b);
    expect({ told: after.groupChangesUnmade, b: await nameOn(b), a: await nameOn(a), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b) })
      .toEqual({ told: undefined, b: 'Ops West', a: 'Ops West', audited: 0, aside: [] });
  }, 240_000);
});
