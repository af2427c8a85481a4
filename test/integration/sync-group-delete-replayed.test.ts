/**
 * Hostile review of C7 (a group's deletion taken at the pull's last page): a dishonest server hands
 * bob a group deletion the owner signed but the server never stored (the owner's second desktop
 * deleted the group's one entry and the group, and never sent it: a push refused, or one the
 * server kept and played back later). The group still holds an entry, agreed with the team, and
 * bob has an unsent change of it. Nothing vouches that the entry went: no delete or move of it
 * comes. Bob's desktop must not take the deletion on the server's word: the entry and his change
 * stay. (Before the fix, the last page emptied the group here, the agreed entry and the unsent
 * change with it.) And the honest deletion is still taken in one sync, on the signed records that
 * emptied the group, which the server now hands its former members: a delete, and a move into a
 * group the member does not hold (the left-reach record).
 * Real files, a real team server on PGlite over loopback HTTP, the sync's own code; the server's
 * dishonesty is a client that adds one record, signed by the owner, to the last page of a pull.
 * Must never put a password in a process argument, nor find one in what a sync tells.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { GroupRecord } from '../../shared/sync/records';
import { BOB, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { lastPageAlsoCarries } from '../support/played-back';

const clock = manualClock(Date.UTC(2026, 11, 6, 4, 0, 0));
const team = useTeamDesktops('crewvault-c7-replayed-delete', clock);
const { a, a2, b, onDesktop, sync, setPassword } = team;

describe('a group deletion the server never stored, played back to a member (C7 hostile review)', () => {
  it('keeps the group, its agreed entry and the member\'s unsent change', async () => {
    clock.advance(1_000);
    const labId = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Lab');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      await s.createEntries([{ customer: 'Acme', title: 'Bench', password: 'bench-1', groupId: group.id }]);
      return group.id;
    });
    for (const d of [a, a2, b]) expect((await sync(d)).code, d.name).toBe('ok');
    const labUid = groupUidIn(a.file, labId);

    // The owner's second desktop deletes Bench and Lab, signed, and never sends them.
    clock.advance(1_000);
    const deletion = await onDesktop(a2, async (s) => {
      const bench = await s.resolvePath('Acme/Bench');
      const labHere = (await s.team.listGroups()).find((g) => g.name === 'Lab');
      if (labHere === undefined) throw new Error('a2 does not hold Lab');
      await s.deleteEntry(bench.id, bench.revision ?? -1);
      await s.team.deleteGroup(labHere.id, await s.team.groupRevision(labHere.id));
      const out = await s.replica.outgoing(false, true);
      return out.batch.records.find((r): r is GroupRecord => r.kind === 'group' && r.id === labUid && r.deletedAt !== null);
    });
    if (deletion === undefined) throw new Error('a2 made no deletion record of Lab');

    // Bob changes Bench offline; then syncs through a server that adds the owner's unsent deletion.
    await setPassword(b, 'Acme/Bench', 'bench-bob');
    const kept = await keptSession(serverPlace(b.env), new URL(team.server.url).origin, () => clock.now());
    const outcome = await onDesktop(b, (s) => syncOnce(lastPageAlsoCarries(kept.client, deletion), s.replica)).catch((error: unknown) => error);
    expect(JSON.stringify(outcome)).not.toMatch(/bench-bob|bench-1/);
    expect(outcome).not.toHaveProperty('groupDeleted');

    // Still there: the group, the entry, and bob's change of it (it goes with his next honest sync).
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).toContain('Lab');
    expect(await onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Acme/Bench')).id))).toBe('bench-bob');
    const honest = await sync(b);
    expect(honest.code, honest.stderr).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Bench')).id))).toBe('bench-bob');
  }, 180_000);

  it('takes an honest deletion on the records that emptied the group: a delete, and a move into a group the member does not hold', async () => {
    clock.advance(1_000);
    const ids = await onDesktop(a, async (s) => {
      const shop = await s.team.createGroup('Shop');
      await s.team.grant(shop.id, BOB, false, await s.team.groupRevision(shop.id));
      const safe = await s.team.createGroup('Safe');
      await s.createEntries([{ customer: 'Acme', title: 'Till', password: 'till-1', groupId: shop.id }, { customer: 'Acme', title: 'Scale', password: 'scale-1', groupId: shop.id }]);
      return { shop: shop.id, safe: safe.id };
    });
    for (const d of [a, b]) expect((await sync(d)).code, d.name).toBe('ok');
    expect((await onDesktop(b, async (s) => s.listEntries())).map((e) => e.title)).toEqual(expect.arrayContaining(['Till', 'Scale']));
    // Bob, offline, changes Scale; the owner moves Till into Safe (bob is not in it), deletes Scale, then Shop.
    await setPassword(b, 'Acme/Scale', 'scale-bob');
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const till = await s.resolvePath('Acme/Till');
      await s.team.moveEntry(till.id, ids.safe, till.revision ?? -1);
      const scale = await s.resolvePath('Acme/Scale');
      await s.deleteEntry(scale.id, scale.revision ?? -1);
      await s.team.deleteGroup(ids.shop, await s.team.groupRevision(ids.shop));
    });
    expect((await sync(a)).code).toBe('ok');
    const out = await sync(b);
    expect(out.code, out.stderr).toBe('ok');
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Shop');
    expect((await onDesktop(b, async (s) => s.listEntries())).map((e) => e.title)).not.toEqual(expect.arrayContaining(['Till']));
    expect((await onDesktop(b, async (s) => s.listEntries())).map((e) => e.title)).not.toContain('Scale');
    // Bob's change of Scale (kept as a copy against the owner's delete) went with the group: told, and in his audit log.
    expect(JSON.parse(out.stdout)).toMatchObject({ groupDeleted: '1 unsent change dropped: its group "Shop" was deleted elsewhere.' });
    // (Read from bob's file: a technician's role reads no audit log.)
    const file = new Database(b.file, { readonly: true });
    try {
      expect(file.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'group.changes_dropped' AND subject IS NULL AND sealed_detail IS NOT NULL").get()).toEqual({ n: 1 });
    } finally {
      file.close();
    }
    expect(out.stdout + out.stderr).not.toMatch(/scale-bob/);
    // His events (the copy's, the drop's) go to the team, and the owner's desktop chains them: none set aside.
    expect((await sync(b)).code).toBe('ok');
    const owner = await sync(a);
    expect(owner.code, owner.stderr).toBe('ok');
    expect(JSON.parse(owner.stdout)).toMatchObject({ held: 0 });
  }, 180_000);
});
