/**
 * A group deleted here, not sent, put back by a pull cut short that took in an entry written into it elsewhere, whose
 * writer deletes it before the next pull (hostile review of 4a2305a, replica-group-undelete.ts judgePutBack). Judged at
 * the last page before that page's entries were taken in, the entry still stood live here: the deletion was dropped,
 * told "it holds entries written elsewhere", though the group was empty on the server, which took the deletion. Now the
 * judgment follows the page's entries: the deletion is made again and sent, nothing told. And an entry written there
 * between a sync's pull and its push: that push is refused, the sync's pull after it puts the group back, told once;
 * pulled in pages of one record, it is judged at the last page, told once.
 * Real desktops (real vault files, the sync's own code) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import type { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import { CAROL, deletionsKeptOn, pushingAfter, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { keptClient, outcomeOf, synced } from '../support/revoke-first';

/** `client`, its pull cut short (the server unreachable) right after the first page that hands an entry record. */
function cutAfterFirstEntry(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  let cut = false;
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPull' && cut) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    const reply = await call(name, input, sent);
    if (name === 'syncPull' && (reply as ServerRouteOutput<'syncPull'>).records.some((r) => r.record.kind === 'entry')) cut = true;
    return reply;
  };
  return client;
}

describe('a group deleted here while an entry comes and goes in it elsewhere', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 22, 0, 0));
  const team = useTeamDesktops('crewvault-group-deleted-entry-gone', clock);
  const { a, c, onDesktop } = team;
  const holds = async (d: Desktop, group: string): Promise<boolean> => onDesktop(d, async (s) => (await s.team.listGroups()).some((g) => g.name === group));
  let net = 0;

  beforeAll(async () => {
    net = await onDesktop(a, async (s) => {
      const g = await s.team.createGroup('Net');
      await s.team.grant(g.id, CAROL, false, await s.team.groupRevision(g.id));
      return g.id;
    });
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
  }, 180_000);

  it('an owner\'s deletion: made again once NetBox is gone, sent, nothing told', async () => {
    await onDesktop(a, async (s) => s.team.deleteGroup(net, await s.team.groupRevision(net)));
    await onDesktop(c, (s) => s.createEntries([{ customer: 'Acme', title: 'NetBox', password: 'n-1', groupId: net }]));
    expect(await team.answer(c)).toBe('ok');
    const cut = await outcomeOf(onDesktop(a, async (s) => syncOnce(cutAfterFirstEntry(await keptClient(team, a, () => clock.now())), s.replica, { pullRecords: 1 })));
    const backAfterCut = await holds(a, 'Net');
    await team.deleteEntryAt(c, 'Acme/NetBox');
    expect(await team.answer(c)).toBe('ok');
    const next = await synced(team, a);
    await synced(team, c);
    expect({ cut: cut.split(':')[0], backAfterCut, told: next.groupChangesUnmade, a: await holds(a, 'Net'), c: await holds(c, 'Net'), kept: deletionsKeptOn(a) })
      .toEqual({ cut: 'SERVER_UNREACHABLE', backAfterCut: true, told: undefined, a: false, c: false, kept: 0 });
  }, 240_000);

  it('an entry written into the group between this sync\'s pull and its push: refused that once, back with it in the same sync, told once', async () => {
    const lab = await onDesktop(a, async (s) => {
      const g = await s.team.createGroup('Lab');
      await s.team.grant(g.id, CAROL, false, await s.team.groupRevision(g.id));
      return g.id;
    });
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    await onDesktop(a, async (s) => s.team.deleteGroup(lab, await s.team.groupRevision(lab)));
    const racing = await outcomeOf(onDesktop(a, async (s) => syncOnce(pushingAfter(await keptClient(team, a, () => clock.now()), async () => {
      await onDesktop(c, (t) => t.createEntries([{ customer: 'Acme', title: 'LabBox', password: 'l-1', groupId: lab }]));
      expect(await team.answer(c)).toBe('ok');
    }), s.replica)));
    const next = await team.sync(a);
    const after = await team.sync(a);
    expect({ racing, next: next.code, told: next.code === 'ok' ? (JSON.parse(next.stdout) as { groupChangesUnmade?: string }).groupChangesUnmade : next.stderr, after: after.code, a: await holds(a, 'Lab'), kept: deletionsKeptOn(a) })
      .toEqual({
        racing: 'FORBIDDEN: An access group that still holds entries is not deleted: nothing was stored. A change of yours not made: "Lab" deleted (it holds entries written elsewhere: move or delete them, then delete it again). Never sent, the group stays as the team holds it.',
        next: 'ok', told: undefined, after: 'ok', a: true, kept: 0,
      });
  }, 240_000);

  it('an entry written into the group, pulled in pages of one record: back with it, told once, at the last page', async () => {
    const rack = await onDesktop(a, async (s) => {
      const g = await s.team.createGroup('Rack');
      await s.team.grant(g.id, CAROL, false, await s.team.groupRevision(g.id));
      return g.id;
    });
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(c)).toBe('ok');
    await onDesktop(a, async (s) => s.team.deleteGroup(rack, await s.team.groupRevision(rack)));
    await onDesktop(c, (s) => s.createEntries([{ customer: 'Acme', title: 'RackBox', password: 'k-1', groupId: rack }, { customer: 'Acme', title: 'RackPdu', password: 'k-2', groupId: rack }]));
    expect(await team.answer(c)).toBe('ok');
    const paged = await onDesktop(a, async (s) => syncOnce(await keptClient(team, a, () => clock.now()), s.replica, { pullRecords: 1 }));
    const next = await synced(team, a);
    const rackTitles = await onDesktop(a, async (s) => (await s.listEntries()).filter((e) => e.title.startsWith('Rack')).map((e) => e.title).sort());
    expect({ told: paged.groupChangesUnmade, next: next.groupChangesUnmade, a: await holds(a, 'Rack'), rackTitles, kept: deletionsKeptOn(a) })
      .toEqual({ told: 'A change of yours not made: "Rack" deleted (it holds entries written elsewhere: move or delete them, then delete it again). Never sent, the group stays as the team holds it.', next: undefined, a: true, rackTitles: ['RackBox', 'RackPdu'], kept: 0 });
  }, 240_000);
});
