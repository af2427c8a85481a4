/**
 * A lead unmade while their own revoke waits, having renamed the group since (issue #15's give-way, replica-own-key.ts
 * giveWayToHeld; replica-group-unsent.ts). bob, a lead of Ops, revokes carol (a rotation, unsent), renames Ops to
 * "Ops West" and sets a password; the owner unmakes him. The rename, which he may no longer send (replica-people.ts
 * sends only groups its person manages), was kept one above the agreed revision, neither sent nor told: his desktop
 * showed "Ops West" for good while the team held "Ops". It goes back to the name agreed, at the agreed revision, told
 * once (audited once); his password lands, and the owner's later rename of Ops is taken in.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, opsOnServer, switchPasswordOn, synced, UNDONE_CAROL } from '../support/revoke-first';

/** What bob's sync tells of his rename of Ops, not made (sync.ts groupChangesUnmadeLine). */
const UNMADE_RENAME = 'A change of yours not made: "Ops" renamed "Ops West" (you no longer manage the group). Never sent, the group stays as the team holds it.';

describe('a lead unmade while their own revoke waits, the group renamed here since', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 16, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade-renamed', clock);
  const { a, b, onDesktop } = team;
  const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('sends nothing the server must refuse: the rename, his no longer to send, goes back to the team\'s name and is told once', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops West', await s.team.groupRevision(team.opsId)));
    await team.setPassword(b, 'Acme/Switch', 's-bob');
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, revokes: second.revokesUnmade }).toEqual({ first: UNMADE_RENAME, second: undefined, revokes: UNDONE_CAROL });
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB, CAROL], version: before.version });
    await synced(team, a);
    expect({ a: await nameOn(a), b: await nameOn(b), switch: await switchPasswordOn(team, a), audited: auditedIn(b, 'group.change_unmade') })
      .toEqual({ a: 'Ops', b: 'Ops', switch: 's-bob', audited: 1 });
  }, 240_000);

  it('takes the owner\'s rename of Ops in afterwards', async () => {
    await onDesktop(a, async (s) => s.team.renameGroup(team.opsId, 'Ops North', await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a)).toBe('ok');
    const after = await synced(team, b);
    expect({ a: await nameOn(a), b: await nameOn(b), told: after.groupChangesUnmade, aside: setAsideOn(b), audited: auditedIn(b, 'group.change_unmade') })
      .toEqual({ a: 'Ops North', b: 'Ops North', told: undefined, aside: [], audited: 1 });
  }, 240_000);
});
