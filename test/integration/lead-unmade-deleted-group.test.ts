/**
 * A lead unmade with a deletion of the group not yet sent (issue #15; replica-group-unsent.ts). bob, a lead of Ops,
 * deletes its two entries and then Ops on his desktop, and changes Printer (the default group); before his desktop
 * syncs, the owner unmakes him (and writes Router in Ops). A desktop sends a group's record only for a group its person
 * manages (replica-people.ts), and a tombstone takes no record: the deletion was kept on his desktop alone, for good,
 * neither sent nor told, while the team held Ops with its members, its key and Router. Ops comes back as the team holds
 * it (his entry deletes and his Printer change still go), told once, audited once. Then the guard: made a lead again, he
 * deletes Ops, and a dishonest server plays the old unmaking back in the pull before his push; older than the making
 * agreed since, it stops him managing nothing, and his deletion lands, nothing told.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts,
 * played-back.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, deletionsKeptOn, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { syncOnce } from '../../electron/team/sync';
import type { ReplicaRecord } from '../../shared/sync/records';
import { auditedIn, bobLeadsOpsWithCarol, holdsOps, keptClient, opsOnServer, opsWrapsIn, outcomeOf, synced, userUidIn } from '../support/revoke-first';
import { lastPageAlsoCarries, pullsKeeping } from '../support/played-back';

describe('a lead unmade with a deletion of the group not yet sent', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-unmade-deleted', clock);
  const { a, b, onDesktop } = team;
  const passwordOn = async (d: Desktop, entryPath: string): Promise<string> => onDesktop(d, async (s) => s.revealPassword((await s.resolvePath(entryPath)).id));
  const printerOn = async (d: Desktop): Promise<string> => passwordOn(d, 'Acme/Printer');
  const bobLeadsOn = async (d: Desktop): Promise<boolean | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.lead);
  const unmakings: ReplicaRecord[] = [];
  const titles = async (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('gets Ops back as the team holds it, the deletion told once as not made; his other changes go', async () => {
    const before = await opsOnServer(team);
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await team.setPassword(b, 'Acme/Printer', 'p-2');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    // The owner writes in Ops meanwhile: bob's desktop takes it in with the group put back.
    await onDesktop(a, async (s) => {
      await s.createEntries([{ customer: 'Acme', title: 'Router', password: 'r-1', groupId: team.opsId }]);
      await s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB));
    });
    expect(await team.answer(a)).toBe('ok');
    // bob's desktop takes the unmaking in, keeping it as pulled (played back below).
    const bobUid = userUidIn(a.file, BOB);
    const kept = (r: ReplicaRecord): boolean => r.kind === 'member' && r.user === bobUid && !r.lead && !r.revoked;
    const first = await onDesktop(b, async (s) => syncOnce(pullsKeeping(await keptClient(team, b, () => clock.now()), kept, unmakings), s.replica));
    const second = await synced(team, b);
    await synced(team, a);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, held: second.held })
      .toEqual({ first: 'A change of yours not made: "Ops" deleted (you no longer manage the group). Never sent, the group stays as the team holds it.', second: undefined, held: 0 });
    expect({
      b: await holdsOps(team, b), wraps: opsWrapsIn(team, b), lead: await bobLeadsOn(b), server: await opsOnServer(team),
      titlesA: await titles(a), titlesB: await titles(b), printer: await printerOn(a), router: await passwordOn(b, 'Acme/Router'), audited: auditedIn(b, 'group.change_unmade'), aside: setAsideOn(b), kept: deletionsKeptOn(b),
    }).toEqual({
      b: true, wraps: opsWrapsIn(team, a), lead: false, server: before,
      titlesA: ['Printer', 'Router'], titlesB: ['Printer', 'Router'], router: 'r-1', printer: 'p-2', audited: 1, aside: [], kept: 0,
    });
  }, 240_000);

  it('drops nothing on an old unmaking played back: made a lead again, his deletion lands', async () => {
    const unmaking = unmakings[0];
    if (unmaking === undefined) throw new Error('bob\'s desktop pulled no unmaking of bob');
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(b)).toBe('ok');
    await team.deleteEntryAt(b, 'Acme/Router');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    expect(deletionsKeptOn(b)).toBe(1);
    const replayed = await onDesktop(b, async (s) => outcomeOf(syncOnce(lastPageAlsoCarries(await keptClient(team, b, () => clock.now()), unmaking), s.replica)));
    expect(replayed).toBe('ok');
    await synced(team, a);
    expect({ a: await holdsOps(team, a), b: await holdsOps(team, b), titlesA: await titles(a), audited: auditedIn(b, 'group.change_unmade'), kept: deletionsKeptOn(b) })
      .toEqual({ a: false, b: false, titlesA: ['Printer'], audited: 1, kept: 0 });
  }, 240_000);
});
