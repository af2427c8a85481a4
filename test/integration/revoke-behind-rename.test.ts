/**
 * A revoke made on a desktop behind a rename made elsewhere (hostile review of 0571e01): the owner's
 * desktop a renames Ops and syncs; the owner's second desktop a2, which has not pulled it, revokes
 * bob (a rotation on the old name) and pushes before any pull, as a push racing the rename between
 * its desktop's pull and push does. Before, the server stored the rotation whatever it had not seen,
 * its old name back over the rename. Now that push is refused (a CONFLICT naming Ops, nothing
 * stored); a2's sync pulls the rename, takes it under its own rotation, and pushes the rotation
 * again: the rename is kept, and bob, revoked, ends without Ops on the server and on his desktop.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { recordsAfter } from '../../server/store/sync';
import { BOB, CAROL, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 10, 0, 0));
const team = useTeamDesktops('crewvault-revoke-behind-rename', clock);
const { a, a2, b, onDesktop, sync, teamClient } = team;

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

function userUid(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(name) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

/** Group keys bob's desktop holds of the group `groupUid`. */
function bobsKeysOn(file: string, groupUid: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const groups = db.prepare('SELECT id, uid FROM access_groups').all() as Array<{ id: number; uid: Buffer }>;
    const group = groups.find((g) => uidText(g.uid) === groupUid);
    if (group === undefined) return 0;
    return (db.prepare('SELECT count(*) AS n FROM group_keys k JOIN users u ON u.id = k.user_id WHERE k.group_id = ? AND u.name = ?').get(group.id, BOB) as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The group's record and bob's member record of it, as the server holds them. */
async function onServer(groupUid: string, bobUid: string): Promise<{ group?: { author: string; keyVersion: number; nameIndex: string }; bob?: { revoked: boolean; keyVersion: number } }> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  const found: { group?: { author: string; keyVersion: number; nameIndex: string }; bob?: { revoked: boolean; keyVersion: number } } = {};
  for (const row of rows) {
    const r = JSON.parse(row.body) as { kind: string; id: string; author: string; keyVersion: number; nameIndex: string; group?: string; user?: string; revoked?: boolean };
    if (r.kind === 'group' && r.id === groupUid) found.group = { author: r.author, keyVersion: r.keyVersion, nameIndex: r.nameIndex };
    if (r.kind === 'member' && r.group === groupUid && r.user === bobUid) found.bob = { revoked: r.revoked === true, keyVersion: r.keyVersion };
  }
  return found;
}

describe('a revoke made behind a rename made elsewhere', () => {
  it('is refused until its desktop took the rename in, then made on top of it: bob cut off, the name kept', async () => {
    await synced(a2);
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    const bobUid = userUid(a.file, BOB);
    const aliceUid = userUid(a.file, OWNER);
    expect(bobsKeysOn(b.file, opsUid)).toBeGreaterThan(0);
    const name = (d: typeof a) => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === ops)?.name);
    const members = (d: typeof a) => onDesktop(d, async (s) => (await s.team.members(ops)).map((m) => m.name));
    await onDesktop(a, async (s) => { await s.team.renameGroup(ops, 'Network Ops', await s.team.groupRevision(ops)); });
    await synced(a);
    const renamed = await onServer(opsUid, bobUid);
    // a2, behind the rename, revokes bob and pushes what it holds without pulling first.
    await onDesktop(a2, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    const client = await teamClient(a2);
    const refused = await onDesktop(a2, async (s) => {
      const out = await s.replica.outgoing(false, true);
      return client.call('syncPush', { batch: out.batch, pulled: await s.replica.pulledUpTo() });
    });
    expect(refused.conflicts.map((c) => c.id)).toContain(opsUid);
    expect(refused.accepted).toBe(0);
    expect(await onServer(opsUid, bobUid)).toEqual(renamed);
    // Its sync pulls the rename, takes it under its rotation and pushes the rotation again.
    await synced(a2);
    expect(await name(a2)).toBe('Network Ops');
    expect(await members(a2)).not.toContain(BOB);
    const after = await onServer(opsUid, bobUid);
    expect(after.group).toEqual({ author: aliceUid, keyVersion: (renamed.group?.keyVersion ?? 0) + 1, nameIndex: renamed.group?.nameIndex });
    expect(after.bob?.revoked).toBe(true);
    // Bob's desktop loses Ops; the owner's first desktop keeps the name and takes the revoke.
    await synced(b);
    expect(bobsKeysOn(b.file, opsUid)).toBe(0);
    await synced(a);
    expect(await name(a)).toBe('Network Ops');
    expect(await members(a)).not.toContain(BOB);
    expect((await onServer(opsUid, bobUid)).group).toEqual(after.group);
  });

  it('gives way to a rotation on a rename made elsewhere at the same key version, and is made again past it on that name', async () => {
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    const bobUid = userUid(a.file, BOB);
    const aliceUid = userUid(a.file, OWNER);
    const name = (d: typeof a) => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === ops)?.name);
    const members = (d: typeof a) => onDesktop(d, async (s) => (await s.team.members(ops)).map((m) => m.name));
    await onDesktop(a, async (s) => { await s.team.grant(ops, BOB, false, await s.team.groupRevision(ops)); });
    await synced(a);
    await synced(a2);
    const before = await onServer(opsUid, bobUid);
    // a renames Ops and rotates it (carol granted and revoked); a2, behind both, revokes bob to the same key version.
    await onDesktop(a, async (s) => {
      await s.team.renameGroup(ops, 'Core Ops', await s.team.groupRevision(ops));
      await s.team.grant(ops, CAROL, false, await s.team.groupRevision(ops));
      await s.team.revoke(ops, CAROL, await s.team.memberRevision(ops, CAROL));
    });
    await synced(a);
    const renamed = await onServer(opsUid, bobUid);
    expect(renamed.group?.keyVersion).toBe((before.group?.keyVersion ?? 0) + 1);
    await onDesktop(a2, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    await synced(a2);
    const after = await onServer(opsUid, bobUid);
    expect(after.group).toEqual({ author: aliceUid, keyVersion: (before.group?.keyVersion ?? 0) + 2, nameIndex: renamed.group?.nameIndex });
    expect(await name(a2)).toBe('Core Ops');
    expect(await members(a2)).not.toContain(BOB);
    expect(after.bob?.revoked).toBe(true);
    await synced(a);
    expect(await name(a)).toBe('Core Ops');
    expect(await members(a)).not.toContain(BOB);
  });
});
