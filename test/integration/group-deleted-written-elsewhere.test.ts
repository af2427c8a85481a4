/**
 * A group deleted here, not sent, while someone else writes an entry into it (issue #15, hostile review of the lead's
 * deletion; replica-group-undelete.ts). The server deletes no group that holds a live entry: it refused the deletion, and
 * every other change of that desktop's push with it, at every sync, for good ("An access group that still holds entries
 * is not deleted") — an owner's deletion as well as a lead's. Now the pull that brings the entry puts the group back, the
 * entry is taken in, and the deletion is not made, told once ("it holds entries written elsewhere"), audited once; the
 * other changes go. Cases: bob, leading Ops, deletes it while the owner writes Router there; the owner deletes Net while
 * carol writes NetBox there.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CAROL, deletionsKeptOn, type Desktop, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, holdsOps, synced } from '../support/revoke-first';

const told = (group: string): string => `A change of yours not made: "${group}" deleted (it holds entries written elsewhere: move or delete them, then delete it again). Never sent, the group stays as the team holds it.`;

describe('a group deleted here while an entry is written into it elsewhere', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 19, 0, 0));
  const team = useTeamDesktops('crewvault-group-deleted-written-elsewhere', clock);
  const { a, b, c, onDesktop } = team;
  const passwordOn = async (d: Desktop, entryPath: string): Promise<string> => onDesktop(d, async (s) => s.revealPassword((await s.resolvePath(entryPath)).id));
  const holds = async (d: Desktop, group: string): Promise<boolean> => onDesktop(d, async (s) => (await s.team.listGroups()).some((g) => g.name === group));

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('a lead\'s deletion: Ops back with Router, told once, his other changes sent', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await team.setPassword(b, 'Acme/Printer', 'p-3');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, (s) => s.createEntries([{ customer: 'Acme', title: 'Router', password: 'r-1', groupId: team.opsId }]));
    expect(await team.answer(a)).toBe('ok');
    const first = await synced(team, b);
    const second = await synced(team, b);
    await synced(team, a);
    expect({
      first: first.groupChangesUnmade, second: second.groupChangesUnmade, a: await holdsOps(team, a), b: await holdsOps(team, b),
      router: await passwordOn(b, 'Acme/Router'), printer: await passwordOn(a, 'Acme/Printer'), audited: auditedIn(b, 'group.change_unmade'), kept: deletionsKeptOn(b),
    }).toEqual({ first: told('Ops'), second: undefined, a: true, b: true, router: 'r-1', printer: 'p-3', audited: 1, kept: 0 });
  }, 240_000);

  it('an owner\'s deletion: Net back with NetBox, told once', async () => {
    const net = await onDesktop(a, async (s) => {
      const g = await s.team.createGroup('Net');
      await s.team.grant(g.id, CAROL, false, await s.team.groupRevision(g.id));
      return g.id;
    });
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    await onDesktop(a, async (s) => s.team.deleteGroup(net, await s.team.groupRevision(net)));
    await onDesktop(c, (s) => s.createEntries([{ customer: 'Acme', title: 'NetBox', password: 'n-1', groupId: net }]));
    expect(await team.answer(c)).toBe('ok');
    const first = await synced(team, a);
    const second = await synced(team, a);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, a: await holds(a, 'Net'), netbox: await passwordOn(a, 'Acme/NetBox'), kept: deletionsKeptOn(a) })
      .toEqual({ first: told('Net'), second: undefined, a: true, netbox: 'n-1', kept: 0 });
  }, 240_000);
});
