/**
 * Hostile review of 0571e01: a rotation made on a desktop behind a rename made elsewhere. carol (an
 * admin) took the owner's rename of Ops from the server; the owner's second desktop a2, behind,
 * rotates Ops (bob revoked) on the old name. Before, the server stored that rotation whatever it had
 * not seen (the old name back over the rename), and carol's sync read "the name here differs and the
 * record did not rename it" as a rename of her own and pushed the owner's name again as her group
 * record. Now the server refuses the rotation while a record of the group stored since a2's pull
 * stands (CONFLICT), a2 pulls the rename, takes it under its own rotation and pushes that again: the
 * rename is kept everywhere, the group record stays the owner's, bob is cut off.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { recordsAfter } from '../../server/store/sync';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 9, 0, 0));
const team = useTeamDesktops('crewvault-attrev-rename', clock);
const { a, a2, c, onDesktop, sync, teamClient } = team;

async function synced(d: typeof a): Promise<string> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return out.stdout;
}

function uidIn(file: string, sql: string, arg: string | number): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare(sql).get(arg) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

interface StoredGroup { readonly author: string; readonly revision: number; readonly keyVersion: number; readonly nameIndex: string }

async function storedGroup(groupUid: string): Promise<StoredGroup | undefined> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  let found: StoredGroup | undefined;
  for (const row of rows) {
    const r = JSON.parse(row.body) as { kind: string; id: string } & StoredGroup;
    if (r.kind === 'group' && r.id === groupUid) found = { author: r.author, revision: r.revision, keyVersion: r.keyVersion, nameIndex: r.nameIndex };
  }
  return found;
}

describe('a rename taken in from elsewhere, crossed by a rotation on the old name', () => {
  it('is kept by the rotation, which goes again past it, and is not pushed again as the taking desktop\'s own record', async () => {
    await onDesktop(a, async (s) => { await s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL)); });
    await synced(a);
    await synced(c);
    await synced(a2);
    await synced(c);
    const ops = team.opsId;
    const opsUid = uidIn(a.file, 'SELECT uid FROM access_groups WHERE id = ?', ops);
    const aliceUid = uidIn(a.file, 'SELECT uid FROM users WHERE name = ?', OWNER);
    const carolUid = uidIn(c.file, 'SELECT uid FROM users WHERE name = ?', CAROL);
    const name = (d: typeof a) => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === ops)?.name);
    const members = (d: typeof a) => onDesktop(d, async (s) => (await s.team.members(ops)).map((m) => m.name));
    // The owner renames Ops; carol takes it in.
    await onDesktop(a, async (s) => { await s.team.renameGroup(ops, 'Ops renamed by alice', await s.team.groupRevision(ops)); });
    await synced(a);
    await synced(c);
    const renamed = await storedGroup(opsUid);
    expect(await name(c)).toBe('Ops renamed by alice');
    // The owner's second desktop, behind, rotates Ops (bob revoked) on the old name.
    await onDesktop(a2, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    await synced(a2);
    const rotated = await storedGroup(opsUid);
    // The rotation reached the server, on the rename: the owner's record, one key version on, the new name's index.
    expect(rotated?.keyVersion).toBe((renamed?.keyVersion ?? 0) + 1);
    expect(rotated?.nameIndex).toBe(renamed?.nameIndex);
    expect(rotated?.author).toBe(aliceUid);
    expect(await name(a2)).toBe('Ops renamed by alice');
    expect(await members(a2)).not.toContain(BOB);
    await synced(c);
    // carol took the rotation in and sent nothing of the group as hers.
    const afterCarol = await storedGroup(opsUid);
    expect(afterCarol).toEqual(rotated);
    expect(afterCarol?.author).not.toBe(carolUid);
    expect(await name(c)).toBe('Ops renamed by alice');
    expect(await members(c)).not.toContain(BOB);
    await synced(a);
    expect(await name(a)).toBe('Ops renamed by alice');
    expect(await members(a)).not.toContain(BOB);
    expect(await storedGroup(opsUid)).toEqual(rotated);
  });

  it('gives way to the rotation\'s name when the server took it unjudged (a desktop not saying how far it pulled), and is not sent as carol\'s', async () => {
    const ops = team.opsId;
    const opsUid = uidIn(a.file, 'SELECT uid FROM access_groups WHERE id = ?', ops);
    const aliceUid = uidIn(a.file, 'SELECT uid FROM users WHERE name = ?', OWNER);
    const name = (d: typeof a) => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === ops)?.name);
    await synced(a2);
    await onDesktop(a, async (s) => { await s.team.renameGroup(ops, 'Ops renamed twice', await s.team.groupRevision(ops)); });
    await synced(a);
    await synced(c);
    expect(await name(c)).toBe('Ops renamed twice');
    // a2, behind, rotates Ops (bob granted back and revoked) and pushes as a desktop from before schema 29 would: no `pulled`.
    await onDesktop(a2, async (s) => {
      await s.team.grant(ops, BOB, false, await s.team.groupRevision(ops));
      await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB));
    });
    const client = await teamClient(a2);
    const stored = await onDesktop(a2, async (s) => client.call('syncPush', { batch: (await s.replica.outgoing(false, true)).batch }));
    expect(stored.conflicts).toEqual([]);
    const unjudged = await storedGroup(opsUid);
    expect(unjudged?.author).toBe(aliceUid);
    await synced(c);
    // carol's row takes the server's record whole: nothing of the group goes as hers.
    expect(await storedGroup(opsUid)).toEqual(unjudged);
    expect(await name(c)).toBe('Ops renamed by alice');
  });
});
