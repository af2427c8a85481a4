/**
 * An admin narrowed to a team lead with a change of a group's server codes setting not yet sent (issue #15's class of
 * replica-group-unsent.ts). bob leads Ops and is made an admin; on his desktop he turns Ops's server codes on (a key
 * change); before it syncs, the owner makes him a team lead again. He still leads Ops, so his rotation may go, but the
 * setting is owners' and admins' alone: the server refused it from him, and every push of his desktop after it, for
 * good. It goes back to the setting agreed, told once (audited once), and his key change lands without it. And with no
 * key change (codes turned off): the setting goes back on, nothing of it waits to go, and the owner's later turning
 * off is taken in.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { recordsAfter } from '../../server/store/sync';
import { auditedIn, bobLeadsOpsWithCarol, opsCodesOn, opsOnServer, synced } from '../support/revoke-first';

describe('an admin narrowed to a lead with a server codes setting not yet sent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 19, 0, 0));
  const team = useTeamDesktops('crewvault-admin-narrowed-codes-unsent', clock);
  const { a, b, onDesktop } = team;
  /** The people records (users, groups, members) the server holds, by kind and revision: what a sync sent of them. */
  const peopleOnServer = async (): Promise<string[]> => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
    return rows.flatMap((row) => {
      const r = JSON.parse(row.body) as { kind: string; id: string; revision: number };
      return r.kind === 'user' || r.kind === 'group' || r.kind === 'member' ? [`${r.kind} ${r.id}@${r.revision}`] : [];
    });
  };
  const codesOn = (d: typeof a): Promise<boolean | undefined> => opsCodesOn(team, d);

  beforeAll(async () => {
    await bobLeadsOpsWithCarol(team);
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    for (const d of [a, b]) await synced(team, d);
  }, 180_000);

  it('puts the setting back, tells it once, and sends the key change without it', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.setServerCodes(team.opsId, true, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB)));
    expect(await team.answer(a)).toBe('ok');
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, held: second.held, aside: setAsideOn(b) })
      .toEqual({ first: 'A change of yours not made: "Ops" server-computed codes turned on (only owners and admins change it). Never sent, the group stays as the team holds it.', second: undefined, held: 0, aside: [] });
    await synced(team, a);
    expect({ a: await codesOn(a), b: await codesOn(b), server: await opsOnServer(team), audited: auditedIn(b, 'group.change_unmade') })
      .toEqual({ a: false, b: false, server: { holders: before.holders, version: (before.version ?? 0) + 1 }, audited: 1 });
  }, 240_000);

  it('puts a setting turned off back on, no key change waiting: nothing of it waits to go, and the owner\'s turning off is taken in', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await onDesktop(a, async (s) => s.team.setServerCodes(team.opsId, true, await s.team.groupRevision(team.opsId)));
    for (const d of [a, b]) await synced(team, d);
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.setServerCodes(team.opsId, false, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB)));
    expect(await team.answer(a)).toBe('ok');
    const people = await peopleOnServer();
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, sent: (await peopleOnServer()).filter((p) => !people.includes(p)), b: await codesOn(b), server: await opsOnServer(team), audited: auditedIn(b, 'group.change_unmade') })
      .toEqual({ first: 'A change of yours not made: "Ops" server-computed codes turned off (only owners and admins change it). Never sent, the group stays as the team holds it.', second: undefined, sent: [], b: true, server: before, audited: 2 });
    await onDesktop(a, async (s) => s.team.setServerCodes(team.opsId, false, await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a)).toBe('ok');
    await synced(team, b);
    expect({ a: await codesOn(a), b: await codesOn(b), aside: setAsideOn(b) }).toEqual({ a: false, b: false, aside: [] });
  }, 240_000);
});
