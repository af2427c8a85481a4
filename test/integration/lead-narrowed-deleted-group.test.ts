/**
 * A lead whose role is narrowed, or who is removed from the group, with a deletion of the group not yet sent (issue #15;
 * replica-group-undelete.ts). bob, a team lead leading Ops, empties and deletes Ops on his desktop; before it syncs, the
 * owner makes him a technician (no groups.manage): Ops comes back as the team holds it (his membership and key), told
 * once, audited once. Made a lead again, he deletes it again, and the owner removes him from Ops: the removal is told
 * as ever, and the deletion as not made; nothing set aside. Before, the deletion stayed on his desktop alone, untold.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, holdsOps, opsWrapsIn, synced } from '../support/revoke-first';

const UNMADE = 'A change of yours not made: "Ops" deleted (you no longer manage the group). Never sent, the group stays as the team holds it.';

describe('a lead narrowed or removed with a deletion of the group not yet sent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-narrowed-deleted', clock);
  const { a, b, onDesktop } = team;
  const deleteOps = async (): Promise<void> => {
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
  };

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('narrowed to a technician: Ops comes back, told once', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await deleteOps();
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    expect(await team.answer(a)).toBe('ok');
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, b: await holdsOps(team, b), wraps: opsWrapsIn(team, b), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b) })
      .toEqual({ first: UNMADE, second: undefined, b: true, wraps: opsWrapsIn(team, a), audited: 1, aside: [] });
  }, 240_000);

  it('removed from Ops: the removal told, and the deletion as not made', async () => {
    await onDesktop(a, async (s) => {
      await s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB));
      await s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB));
    });
    expect(await team.answer(a)).toBe('ok');
    await synced(team, b);
    await deleteOps();
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: [first.groupChangesUnmade, first.accessRemoved], second: [second.groupChangesUnmade, second.accessRemoved], b: await holdsOps(team, b), wraps: opsWrapsIn(team, b), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b) })
      .toEqual({ first: [UNMADE, [{ group: 'Ops', droppedEdits: 0 }]], second: [undefined, []], b: false, wraps: [], audited: 2, aside: [] });
  }, 240_000);
});
