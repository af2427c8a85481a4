/**
 * A key change held off by writes (issue #15, docs/SYNC.md "A key change held off by writes"): the owner revokes bob
 * from Ops while carol, a member the rotation keeps, writes there before every push of the owner's. Before, each push
 * of the rotation met an entry stored after the owner's pull (strayEntriesOf), and the sync ended BUSY for as long as
 * she wrote: the group stayed under the key bob held. Now the refused rotation holds the group for a moment
 * (server/store/rotation-claims.ts): carol's next push is refused BUSY, kept on her desktop, the owner's next round
 * lands the rotation, and carol's change goes at her next sync, sealed under the new key. A hold ends by itself: a
 * rotation refused and never sent again holds nobody's writes past ROTATION_CLAIM_MS. The claimant's own writes are
 * never held.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { readAudit } from '../../server/store/audit';
import { ROTATION_CLAIM_MS } from '../../server/store/rotation-claims';
import { opsOnServer, outcomeOf } from '../support/revoke-first';
import { BOB, CAROL, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const HELD = 'An access group this push writes into is having its key changed on another desktop: nothing was stored. Sync again in a few seconds.';

describe('a key change while a member it keeps writes in the group', () => {
  const clock = manualClock(Date.UTC(2026, 11, 15, 9, 0, 0));
  const team = useTeamDesktops('crewvault-rotation-claim', clock);
  const { a, c, onDesktop, sync } = team;

  /** Carol's entry titled `title` written in Ops on her desktop, and her sync's code ('held' when refused as the hold words it). */
  const carolWrites = async (title: string): Promise<string> => {
    await onDesktop(c, (s) => s.createEntries([{ customer: 'Acme', title, password: `${title}-pw`, groupId: team.opsId }]));
    const out = await sync(c);
    return out.code === 'BUSY' && out.stderr.includes(HELD) ? 'held' : out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
  };

  /** The server's audit of the holds made (`sync.key-change-held`): each one's group, and the time it was held until. */
  const holdsAudited = async (): Promise<Array<{ group: unknown; until: unknown; byAccount: boolean }>> => {
    const rows = await team.server.database.transaction((tx) => readAudit(tx, 0, 100_000));
    return rows.filter((r) => r.kind === 'sync.key-change-held').map((r) => {
      const detail = JSON.parse(r.detail) as Record<string, unknown>;
      return { group: detail.group, until: detail.until, byAccount: r.actorId !== null };
    });
  };

  beforeAll(async () => {
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    for (const d of [a, team.b, c]) expect(await team.answer(d), d.name).toBe('ok');
  }, 180_000);

  it('lands in the same sync: her write in between is held off, and goes at her next sync under the new key', async () => {
    const before = (await opsOnServer(team)).version ?? 0;
    const started = clock.now();
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const carol: string[] = [];
    let n = 0;
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush') carol.push(await carolWrites(`Carol ${++n}`));
      return call(name, input, sent);
    };
    expect(await onDesktop(a, (s) => outcomeOf(syncOnce(kept.client, s.replica)))).toBe('ok');
    // Before the revoke's part and the rotation's first push: stored. After the refusal: held off. Once it landed
    // (before the round's later pushes), stored again.
    expect(carol).toEqual(['ok', 'ok', 'held', ...carol.slice(3).map(() => 'ok')]);
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: before + 1 });
    // The hold is in the server's audit, once (one refusal), naming the group and until when: an owner sees who held it.
    const [hold, ...more] = await holdsAudited();
    expect(more).toEqual([]);
    expect([hold?.group, hold?.byAccount]).toEqual([groupUidIn(a.file, team.opsId), true]);
    expect(hold?.until).toBeGreaterThanOrEqual(started + ROTATION_CLAIM_MS);
    expect(hold?.until).toBeLessThanOrEqual(clock.now() + ROTATION_CLAIM_MS);
    // Her held change goes at her next sync, sealed under the new key: the owner reads it.
    expect((await sync(c)).code).toBe('ok');
    expect(await team.answer(a)).toBe('ok');
    const titles = await onDesktop(a, async (s) => (await s.listEntries()).map((e) => e.title));
    expect(titles).toEqual(expect.arrayContaining(Array.from({ length: n }, (_, i) => `Carol ${i + 1}`)));
  }, 240_000);

  it('lands past a lead renaming the group between its pulls and pushes: the rename in between is held off, and goes after', async () => {
    await onDesktop(a, async (s) => {
      await s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL));
      await s.team.setLead(team.opsId, CAROL, true, await s.team.memberRevision(team.opsId, CAROL));
    });
    for (const d of [a, c]) expect(await team.answer(d), d.name).toBe('ok');
    const before = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => s.team.rotateKey(team.opsId));
    const renames: string[] = [];
    let n = 0;
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush') {
        await onDesktop(c, async (s) => s.team.renameGroup(team.opsId, `Ops ${++n}`, await s.team.groupRevision(team.opsId)));
        const out = await sync(c);
        renames.push(out.code === 'BUSY' && out.stderr.includes(HELD) ? 'held' : out.code);
      }
      return call(name, input, sent);
    };
    expect(await onDesktop(a, (s) => outcomeOf(syncOnce(kept.client, s.replica)))).toBe('ok');
    expect(renames.slice(0, 2)).toEqual(['ok', 'held']);
    expect((await opsOnServer(team)).version).toBe(before + 1);
    // Her last rename goes at her next sync, over the new key; the owner takes it.
    expect((await sync(c)).code).toBe('ok');
    expect(await team.answer(a)).toBe('ok');
    expect((await onDesktop(a, (s) => s.team.listGroups())).map((g) => g.name)).toContain(`Ops ${n}`);
  }, 240_000);

  it('holds only the group a write stood in the way in: a key change of two groups, refused for a write in one, leaves the other open', async () => {
    const groups = await onDesktop(a, (s) => s.team.listGroups());
    const other = groups.find((g) => g.id !== team.opsId && groups.length === 2)?.id;
    if (other === undefined) throw new Error(`not two groups: ${groups.map((g) => g.name).join(', ')}`);
    const holdsBefore = (await holdsAudited()).length;
    const before = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => {
      await s.team.rotateKey(team.opsId);
      await s.team.rotateKey(other);
    });
    const carol: string[] = [];
    let pushes = 0;
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush' && ++pushes <= 2) {
        // Her write in Ops stands in the way of the first push; then one in the other group, which nothing holds.
        await onDesktop(c, (s) => s.createEntries([{ customer: 'Acme', title: `Carol both ${pushes}`, password: 'b-1', ...(pushes === 1 ? { groupId: team.opsId } : { groupId: other }) }]));
        const out = await sync(c);
        carol.push(out.code === 'BUSY' && out.stderr.includes(HELD) ? 'held' : out.code);
      }
      return call(name, input, sent);
    };
    expect(await onDesktop(a, (s) => outcomeOf(syncOnce(kept.client, s.replica)))).toBe('ok');
    // Before, the first refusal held both groups, and her write in the other one was refused BUSY.
    expect(carol).toEqual(['ok', 'ok']);
    const holds = (await holdsAudited()).slice(holdsBefore).map((h) => h.group);
    expect(holds[0]).toBe(groupUidIn(a.file, team.opsId));
    expect(holds.slice(1)).toEqual(holds.length > 1 ? [groupUidIn(a.file, other)] : []);
    expect((await opsOnServer(team)).version).toBe(before + 1);
  }, 240_000);

  it('ends by itself: a refused key change never sent again holds nobody past its time', async () => {
    const before = (await opsOnServer(team)).version ?? 0;
    const holdsBefore = (await holdsAudited()).length;
    await onDesktop(a, async (s) => s.team.rotateKey(team.opsId));
    // The owner's rotation is refused once (carol's write between its pull and push), and the owner's desktop is gone.
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    let pushes = 0;
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush' && ++pushes === 1) expect(await carolWrites('Carol late')).toBe('ok');
      if (name === 'syncPush' && pushes > 1) throw new Error('the owner\'s desktop is gone');
      return call(name, input, sent);
    };
    expect(await onDesktop(a, (s) => outcomeOf(syncOnce(kept.client, s.replica)))).toBe('Error: the owner\'s desktop is gone');
    expect(await carolWrites('Carol held')).toBe('held');
    const holds = await holdsAudited();
    expect(holds).toHaveLength(holdsBefore + 1);
    expect(holds.at(-1)?.group).toBe(groupUidIn(a.file, team.opsId));
    clock.advance(ROTATION_CLAIM_MS);
    expect((await sync(c)).code).toBe('ok');
    expect((await opsOnServer(team)).version).toBe(before);
    // The owner's own writes were never held: the rotation lands at their next sync, carol's entries re-sealed with it.
    expect(await team.answer(a)).toBe('ok');
    expect((await opsOnServer(team)).version).toBe(before + 1);
  }, 240_000);
});
