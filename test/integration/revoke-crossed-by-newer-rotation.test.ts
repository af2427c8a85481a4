/**
 * A revoke made here and not sent, crossed by a newer rotation from elsewhere (hostile review of
 * 623cdbd, 7 December): the owner's desktop a revokes bob from Ops (its own rotation v -> v+1), not
 * sent; meanwhile the owner's second desktop a2 rotates Ops twice (carol granted and revoked, twice),
 * so the server holds Ops past v+1 with a wrap for bob. a's sync takes that rotation in (no give-way:
 * the versions differ) and bob's row with it. Before, the row taken in superseded the revoke noted
 * here and bob kept Ops on a and on the server, nothing told; now the revoke is made again past the
 * newer rotation (team.ts rotateAgain) and reaches the server.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { recordsAfter } from '../../server/store/sync';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 9, 0, 0));
const team = useTeamDesktops('crewvault-revoke-crossed', clock);
const { a, a2, onDesktop, sync } = team;

async function synced(d: typeof a): Promise<string> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return `${out.stdout}\n${out.stderr}`;
}

async function bobOnServer(): Promise<{ revoked: boolean; keyVersion: number } | undefined> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  const db = new Database(a.file, { readonly: true });
  const bobUid = uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(BOB) as { uid: Buffer }).uid);
  db.close();
  let found: { revoked: boolean; keyVersion: number } | undefined;
  for (const row of rows) {
    const r = JSON.parse(row.body) as { kind: string; user?: string; revoked?: boolean; keyVersion?: number; group?: string };
    if (r.kind === 'member' && r.user !== undefined && String(r.user).replaceAll('-', '') === String(bobUid).replaceAll('-', '')) found = { revoked: r.revoked === true, keyVersion: r.keyVersion ?? -1 };
  }
  return found;
}

describe('a revoke made here, crossed by a rotation elsewhere two versions on', () => {
  it('is made again past it and reaches the server', async () => {
    await synced(a2);
    await synced(a);
    const ops = team.opsId;
    // a: bob revoked here, not sent.
    await onDesktop(a, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    expect(await onDesktop(a, async (s) => (await s.team.members(ops)).map((m) => m.name))).not.toContain(BOB);
    // a2: two rotations of Ops that know nothing of it.
    for (let i = 0; i < 2; i++) {
      await onDesktop(a2, async (s) => { await s.team.grant(ops, CAROL, false, await s.team.groupRevision(ops)); });
      await synced(a2);
      await onDesktop(a2, async (s) => { await s.team.revoke(ops, CAROL, await s.team.memberRevision(ops, CAROL)); });
      await synced(a2);
    }
    expect((await bobOnServer())?.revoked).toBe(false);
    await synced(a);
    const after = await bobOnServer();
    const onA = await onDesktop(a, async (s) => (await s.team.members(ops)).map((m) => m.name).sort());
    expect(onA).not.toContain(BOB);
    expect(after?.revoked).toBe(true);
  });
});
