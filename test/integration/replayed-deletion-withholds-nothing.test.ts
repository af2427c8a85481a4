/**
 * A group deletion set aside here withholds none of this desktop's changes (hostile review of 7106f89). A dishonest
 * server hands the owner's desktop a, once, a deletion of Lab the owner's other desktop signed and never sent (the
 * server never stored it): Lab's agreed entry Bench still stands here, so the deletion waits (replica-people-new.ts
 * takeDelete), for good, the server never handing a record that takes Bench out. The owner then revokes bob from
 * Lab and adds Router elsewhere, and syncs with the honest server. The rotation must reach the team and cut bob
 * off, and Router's event must go: with Lab's own record kept back while its deletion waited (7106f89), the
 * revoke's member record went alone at a key version the server does not hold (CONFLICT, the whole push refused,
 * at every sync), and the sent mark held before Lab's row kept every later event of a off the server.
 * Real files, a real team server on PGlite over loopback HTTP; the server's dishonesty is a client that adds one
 * record, signed by the owner, to the last page of a pull. Must never sleep (the clock is injected).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { GroupRecord } from '../../shared/sync/records';
import { BOB, groupUidIn, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { lastPageAlsoCarries } from '../support/played-back';

const clock = manualClock(Date.UTC(2026, 11, 7, 19, 0, 0));
const team = useTeamDesktops('crewvault-replayed-deletion-withholds', clock);
const { a, a2, b, onDesktop, sync } = team;

/** The global ids of the events a file holds of an action, in hex. */
function eventIds(file: string, action: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT hex(uid) AS id FROM audit_log WHERE action = ?').all(action) as Array<{ id: string }>).map((r) => r.id);
  } finally {
    db.close();
  }
}

const groupNames = async (d: typeof a): Promise<string[]> => onDesktop(d, async (s) => (await s.team.listGroups()).map((g) => g.name));

describe('a group deletion played back once and set aside here', () => {
  it('withholds neither the revoke made in the group after it nor any later event of this desktop', async () => {
    clock.advance(1_000);
    const labId = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Lab');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      await s.createEntries([{ customer: 'Acme', title: 'Bench', password: 'bench-1', groupId: group.id }]);
      return group.id;
    });
    for (const d of [a, a2, b]) expect((await sync(d)).code, d.name).toBe('ok');
    const labUid = groupUidIn(a.file, labId);
    expect(await groupNames(b)).toContain('Lab');
    expect((await sync(a)).code).toBe('ok');

    // The owner's second desktop deletes Lab (Bench first), signed, and never sends it.
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

    // a syncs once through a server that adds it: Bench, agreed, stands in Lab here, so the deletion waits.
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const replayed = await onDesktop(a, (s) => syncOnce(lastPageAlsoCarries(kept.client, deletion), s.replica));
    expect(replayed).toMatchObject({ held: 1 });
    expect(setAsideOn(a).join('\n')).toMatch(/deletes an access group that still holds entries here/);
    expect(await groupNames(a)).toContain('Lab');

    // The owner revokes bob from Lab and adds Router to Ops, then syncs with the honest server.
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      await s.team.revoke(labId, BOB, await s.team.memberRevision(labId, BOB));
      await s.createEntries([{ customer: 'Acme', title: 'Router', password: 'router-1', groupId: team.opsId }]);
    });
    const honest = await sync(a);
    expect(honest.code, honest.stderr).toBe('ok');
    expect((await sync(a)).code).toBe('ok');

    // The revoke reached the team: bob's desktop loses Lab.
    const bobs = await sync(b);
    expect(bobs.code, bobs.stderr).toBe('ok');
    expect(await groupNames(b)).not.toContain('Lab');
    // Router's event went with it: the owner's other desktop holds it.
    expect((await sync(a2)).code).toBe('ok');
    const made = eventIds(a.file, 'entry.create');
    expect(made.length).toBeGreaterThan(0);
    expect(eventIds(a2.file, 'entry.create')).toEqual(expect.arrayContaining(made));
  }, 180_000);
});
