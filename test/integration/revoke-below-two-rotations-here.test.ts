/**
 * A revoke made elsewhere at a key version below two rotations made here and not sent (hostile
 * review of 597ea4c, the mirror of revoke-crossed-by-newer-rotation): the owner's desktop a revokes
 * bob from Ops (v -> v+1) and syncs; the owner's second desktop a2, behind it, rotates Ops twice
 * (carol granted and revoked, twice: v -> v+2) with bob still a member there, and syncs. a2's pull
 * meets the group record below its own unsent rotation (takeUnderOwnRotation); its push must not
 * hand bob a wrap of the v+2 key, nor his member record back: bob ends revoked everywhere.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { recordsAfter } from '../../server/store/sync';
import { BOB, CAROL, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 11, 0, 0));
const team = useTeamDesktops('crewvault-revoke-below-two', clock);
const { a, a2, b, onDesktop, sync } = team;

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

/** The group's key version and bob's member record of it, as the server holds them. */
async function onServer(groupUid: string): Promise<{ keyVersion?: number; bob?: { revoked: boolean; keyVersion: number } }> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  const db = new Database(a.file, { readonly: true });
  const bobUid = uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(BOB) as { uid: Buffer }).uid);
  db.close();
  const found: { keyVersion?: number; bob?: { revoked: boolean; keyVersion: number } } = {};
  for (const row of rows) {
    const r = JSON.parse(row.body) as { kind: string; id: string; keyVersion: number; group?: string; user?: string; revoked?: boolean };
    if (r.kind === 'group' && r.id === groupUid) found.keyVersion = r.keyVersion;
    if (r.kind === 'member' && r.group === groupUid && r.user === bobUid) found.bob = { revoked: r.revoked === true, keyVersion: r.keyVersion };
  }
  return found;
}

/** The newest key version of the group bob's desktop holds (0: none). */
function bobsNewestKey(file: string, groupUid: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const groups = db.prepare('SELECT id, uid FROM access_groups').all() as Array<{ id: number; uid: Buffer }>;
    const group = groups.find((g) => uidText(g.uid) === groupUid);
    if (group === undefined) return 0;
    return (db.prepare('SELECT coalesce(max(k.key_version), 0) AS v FROM group_keys k JOIN users u ON u.id = k.user_id WHERE k.group_id = ? AND u.name = ?').get(group.id, BOB) as { v: number }).v;
  } finally {
    db.close();
  }
}

describe('a revoke made elsewhere below two rotations made here and not sent', () => {
  it('stands: bob gets no wrap of the newer key and ends revoked on the server and on every desktop', async () => {
    await synced(a2);
    await synced(a);
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    const members = (d: typeof a) => onDesktop(d, async (s) => (await s.team.members(ops)).map((m) => m.name));
    const before = await onServer(opsUid);
    await onDesktop(a, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    await synced(a);
    expect((await onServer(opsUid)).bob?.revoked).toBe(true);
    // a2, behind the revoke, rotates Ops twice with bob still a member here.
    for (let i = 0; i < 2; i++) {
      await onDesktop(a2, async (s) => { await s.team.grant(ops, CAROL, false, await s.team.groupRevision(ops)); });
      await onDesktop(a2, async (s) => { await s.team.revoke(ops, CAROL, await s.team.memberRevision(ops, CAROL)); });
    }
    await synced(a2);
    const after = await onServer(opsUid);
    expect(after.keyVersion).toBeGreaterThanOrEqual((before.keyVersion ?? 0) + 2);
    expect(after.bob?.revoked).toBe(true);
    expect(await members(a2)).not.toContain(BOB);
    await synced(b);
    expect(bobsNewestKey(b.file, opsUid)).toBeLessThan(after.keyVersion ?? 0);
    await synced(a);
    expect(await members(a)).not.toContain(BOB);
    expect((await onServer(opsUid)).bob?.revoked).toBe(true);
  });
});
