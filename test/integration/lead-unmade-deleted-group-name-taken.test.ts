/**
 * A lead unmade with a deletion of the group not yet sent, a group of its name made on their desktop since (issue #15;
 * replica-group-undelete.ts putBack). bob, a lead of Ops, empties and deletes Ops and makes a new group "Ops"; before
 * his desktop syncs, the owner unmakes him. The old Ops cannot come back under its name's index (the new group holds
 * it): it comes back under its own id's, its name shown as kept, told once; left deleted, its deletion would be sent
 * as led by someone who no longer leads it, and refused at every push.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, holdsOps, opsWrapsIn, synced } from '../support/revoke-first';

describe('a lead unmade with a deletion not sent, its name taken here since', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-unmade-deleted-taken', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('gets the old Ops back beside the new one, told once; every push after goes', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await onDesktop(b, async (s) => {
      await s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId));
      await s.team.createGroup('Ops');
    });
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({
      first: first.groupChangesUnmade, second: second.groupChangesUnmade, old: await holdsOps(team, b), wraps: opsWrapsIn(team, b),
      named: await onDesktop(b, async (s) => (await s.team.listGroups()).filter((g) => g.name === 'Ops').length), audited: auditedIn(b, 'group.change_unmade'),
    }).toEqual({
      first: 'A change of yours not made: "Ops" deleted (you no longer manage the group). Never sent, the group stays as the team holds it.',
      second: undefined, old: true, wraps: opsWrapsIn(team, a), named: 2, audited: 1,
    });
  }, 240_000);
});
