/**
 * A lead whose custom role is redefined without groups.manage, with a rename of the group not yet sent (issue #15,
 * hostile review of 91e8333; replica-group-unsent.ts). bob holds "Netlead" (a technician's permissions and
 * groups.manage) and leads Ops; he renames it "Ops West"; before his desktop syncs, the owner redefines Netlead without
 * groups.manage. No user or member record of bob comes (a role record does, taken in before the people records), so the
 * groups he managed were never judged: the rename, which he may no longer send, stayed one above the agreed revision,
 * neither sent nor told, and it kept every later rename of Ops from elsewhere out of his desktop for good. It goes
 * back to the name agreed, told once (audited once), and the owner's later rename is taken in.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, synced } from '../support/revoke-first';

const NETLEAD = ['entries.view', 'passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit', 'entries.delete'];

describe('a lead whose role is redefined without groups.manage, a rename of the group not yet sent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 22, 0, 0));
  const team = useTeamDesktops('crewvault-lead-role-redefined-renamed', clock);
  const { a, b, onDesktop } = team;
  const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);

  beforeAll(async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Netlead', [...NETLEAD, 'groups.manage'], await s.team.roleRevision('Netlead'));
      await s.team.changeRole(BOB, 'Netlead', await s.team.userRevision(BOB));
      await s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId));
      await s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB));
    });
    for (const d of [a, b]) await synced(team, d);
  }, 180_000);

  it('goes back to the team\'s name, told once, and takes a later rename in', async () => {
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops West', await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.defineRole('Netlead', NETLEAD, await s.team.roleRevision('Netlead')));
    await synced(team, a);
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, b: await nameOn(b) })
      .toEqual({ first: 'A change of yours not made: "Ops" renamed "Ops West" (you no longer manage the group). Never sent, the group stays as the team holds it.', second: undefined, b: 'Ops' });
    await onDesktop(a, async (s) => s.team.renameGroup(team.opsId, 'Ops North', await s.team.groupRevision(team.opsId)));
    await synced(team, a);
    await synced(team, b);
    expect({ a: await nameOn(a), b: await nameOn(b), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b) })
      .toEqual({ a: 'Ops North', b: 'Ops North', audited: 1, aside: [] });
  }, 240_000);
});
