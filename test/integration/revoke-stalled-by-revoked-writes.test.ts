/**
 * Hostile review of 597ea4c, question 1 (repro 8646da0): the member a revoke cuts off held it back
 * for as long as he wrote. The owner revokes bob from Ops; before each of the owner's pushes bob adds
 * an entry to Ops under the old key and syncs (a desktop writing steadily lands in the window between
 * the owner's pull and push). The server refused the part carrying the rotation and the revoke each
 * time (strayEntriesOf: an entry stored after the pusher's pull under the old key), and after
 * PUSH_ROUNDS the sync ended BUSY, bob still a member on the server. Since the fix, the revoke goes
 * ahead of its rotation, in a part of its own, signed at the version the server holds
 * (electron/team/sync.ts partsOf, electron/vault/replica-people.ts agreedVersion): stored at once, it
 * cuts bob off; his next writes into Ops are refused, and the rotation lands at the next round.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { getGroup, getMembership } from '../../server/store/membership';
import { recordsAfter } from '../../server/store/sync';
import { BOB, groupUidIn, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 13, 0, 0));
const team = useTeamDesktops('crewvault-revoke-stalled', clock);
const { a, b, onDesktop, sync, teamClient } = team;

/** A user's global id as the vault file at `file` holds it. */
function userUidIn(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(name) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

describe('a revoke while the revoked member keeps writing in the group', () => {
  it('lands all the same: bob is cut off by the first part, and the rotation follows', async () => {
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    const bobUid = userUidIn(a.file, BOB);
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const versionBefore = (await team.server.database.transaction((tx) => getGroup(tx, vault, opsUid)))?.keyVersion ?? 0;
    // An entry bob writes in Ops and keeps (not synced): pushed by hand once the revoke is stored.
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: 'Kept back', password: 'k-1', groupId: ops }]));
    const keptBack = (await onDesktop(b, (s) => s.replica.outgoing())).batch;
    await onDesktop(a, async (s) => s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)));
    const bobs: string[] = [];
    let n = 0;
    const bobWrites = async (): Promise<void> => {
      clock.advance(1_000);
      n++;
      const wrote = await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: `Switch ${n}`, password: `s-${n}`, groupId: ops }])).then(() => 'wrote', () => 'refused');
      const synced = await sync(b);
      bobs.push(`${wrote}, sync ${synced.code}`);
    };
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush') await bobWrites();
      return call(name, input, sent);
    };
    const outcome = await onDesktop(a, (s) => syncOnce(kept.client, s.replica).then(() => 'ok', (error: unknown) => String(error)));
    expect(outcome).toBe('ok');
    // Bob's first write lands before the revoke (the owner's first part). His second, made before his desktop heard of
    // the revoke, goes with his group at that sync's pull (told as dropped), and every write of his into Ops after it is refused.
    expect(bobs.length).toBeGreaterThan(2);
    expect(bobs).toEqual(['wrote, sync ok', 'wrote, sync ok', ...bobs.slice(2).map(() => 'refused, sync ok')]);
    const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
    const revokes = rows.map((row) => JSON.parse(row.body) as { kind: string; revoked?: boolean; user?: string }).filter((r) => r.kind === 'member' && r.revoked === true && r.user === bobUid);
    expect(revokes.length).toBe(1);
    // Ops holds its two entries, re-sealed under the new key, and what bob wrote while the server still listed him (the
    // entry kept back, which his first sync sent, and his first write): those stay under the key he held, and the owner's
    // desktop, which took his removal before them, set them aside (a sender writing in a group they do not hold). Nothing
    // of his after the cut-off is there.
    const opsEntries = rows.map((row) => JSON.parse(row.body) as { kind: string; group?: string; deletedAt?: number | null; keyVersion?: number }).filter((r) => r.kind === 'entry' && r.group === opsUid && r.deletedAt === null);
    expect(opsEntries.map((r) => r.keyVersion).sort()).toEqual([versionBefore, versionBefore, versionBefore + 1, versionBefore + 1]);
    expect(setAsideOn(a).filter((why) => why.includes('entries.create in a group they do not hold')).length).toBe(2);
    const onServer = await team.server.database.transaction(async (tx) => ({ member: await getMembership(tx, vault, opsUid, bobUid), version: (await getGroup(tx, vault, opsUid))?.keyVersion }));
    expect(onServer).toEqual({ member: undefined, version: versionBefore + 1 });
    expect((await onDesktop(b, (s) => s.team.listGroups())).map((g) => g.name)).not.toContain('Ops');
    // Nor any wrap of Ops, the others' included (a desktop outside a group is handed none of its member records to replace them).
    const wraps = new Database(b.file, { readonly: true });
    try {
      expect((wraps.prepare('SELECT count(*) AS n FROM group_keys WHERE group_id = ?').get(ops) as { n: number }).n).toBe(0);
    } finally {
      wraps.close();
    }
    // A batch of bob's writing in Ops, made before the revoke, pushed again as it stood: refused, nothing stored.
    const pushed = await (await teamClient(b)).call('syncPush', { batch: keptBack }).then(() => 'stored', (error: unknown) => (error as { code?: string }).code ?? 'error');
    expect(pushed).toBe('FORBIDDEN');
    // The owner's next sync has nothing of the revoke left to send.
    expect(await team.answer(a)).toBe('ok');
  }, 180_000);
});
