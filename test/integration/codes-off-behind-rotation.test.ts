/**
 * Server codes turned off elsewhere while a desktop behind it rotates the group (hostile review of
 * 597ea4c): the owner's desktop a turns Ops's server codes on, then off (end-to-end again); the
 * owner's second desktop a2, behind the turning off, revokes bob (a rotation) and syncs. Its pull
 * meets the group record below its unsent rotation (takeUnderOwnRotation); the rotation must not
 * turn the server's codes back on under a2's signature. And the other way: codes turned on elsewhere
 * below two rotations made here, a codes-only member wrapped there with the secret key: the setting is
 * taken and the member's wrap made again without it, so the push is stored (the server refuses the
 * secret key wrapped for a role that may not hold it) and the codes stay on. And a revoke there stored
 * ahead of its rotation (electron/team/sync.ts partsOf), the rotation's part lost: the server takes
 * the revoke alone (no secret key taken from anyone who stays), and the rotation at the next sync.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import { CrewvaultError } from '../../shared/errors';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { getMembership } from '../../server/store/membership';
import { recordsAfter } from '../../server/store/sync';
import { BOB, CAROL, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 12, 0, 0));
const team = useTeamDesktops('crewvault-codes-off-behind', clock);
const { a, a2, onDesktop, sync } = team;

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

async function serverCodesOnServer(groupUid: string): Promise<{ keyVersion?: number; serverCodes?: boolean }> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  let found: { keyVersion?: number; serverCodes?: boolean } = {};
  for (const row of rows) {
    const r = JSON.parse(row.body) as { kind: string; id: string; keyVersion: number; serverCodes?: boolean };
    if (r.kind === 'group' && r.id === groupUid) found = { keyVersion: r.keyVersion, serverCodes: r.serverCodes === true };
  }
  return found;
}

const CODES_ONLY = ['entries.view', 'otp.view'];

/** Bob's wrap of `groupId` in `file`: its version and whether it holds the secret key. */
function bobsWrap(file: string, groupId: number): { version: number; secret: boolean } | undefined {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare(`SELECT gk.key_version AS version, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk
      JOIN users u ON u.id = gk.user_id WHERE u.name = ? AND gk.group_id = ?`).get(BOB, groupId) as { version: number; secret: number } | undefined;
    return row === undefined ? undefined : { version: row.version, secret: row.secret === 1 };
  } finally {
    db.close();
  }
}

function serverCodesHere(file: string, groupId: number): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT server_codes FROM access_groups WHERE id = ?').get(groupId) as { server_codes: number }).server_codes === 1;
  } finally {
    db.close();
  }
}

describe('server codes turned off elsewhere, behind a rotation made here', () => {
  it('stay off: the rotation goes on top of the turning off', async () => {
    await synced(a2);
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    await onDesktop(a, async (s) => { await s.team.setServerCodes(ops, true, await s.team.groupRevision(ops)); });
    await synced(a);
    await synced(a2);
    expect(serverCodesHere(a2.file, ops)).toBe(true);
    await onDesktop(a, async (s) => { await s.team.setServerCodes(ops, false, await s.team.groupRevision(ops)); });
    await synced(a);
    const off = await serverCodesOnServer(opsUid);
    expect(off.serverCodes).toBe(false);
    await onDesktop(a2, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    await synced(a2);
    const after = await serverCodesOnServer(opsUid);
    expect(after.keyVersion).toBe((off.keyVersion ?? 0) + 1);
    expect(after.serverCodes).toBe(false);
    expect(serverCodesHere(a2.file, ops)).toBe(false);
    await synced(a);
    expect(serverCodesHere(a.file, ops)).toBe(false);
  });

  it('turned on elsewhere below two rotations here: taken, the codes-only member wrapped again without the secret key', async () => {
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Watcher', CODES_ONLY, 0);
      await s.team.changeRole(BOB, 'Watcher', await s.team.userRevision(BOB));
      // Revoked by the case before: a member again, with the secret key (codes off).
      await s.team.setServerCodes(ops, false, await s.team.groupRevision(ops));
      await s.team.grant(ops, BOB, false, await s.team.groupRevision(ops));
    });
    await synced(a);
    await synced(a2);
    expect(bobsWrap(a2.file, ops)?.secret).toBe(true);
    await onDesktop(a, async (s) => { await s.team.setServerCodes(ops, true, await s.team.groupRevision(ops)); });
    await synced(a);
    const on = await serverCodesOnServer(opsUid);
    expect(on.serverCodes).toBe(true);
    for (let i = 0; i < 2; i++) {
      await onDesktop(a2, async (s) => { await s.team.grant(ops, CAROL, false, await s.team.groupRevision(ops)); });
      await onDesktop(a2, async (s) => { await s.team.revoke(ops, CAROL, await s.team.memberRevision(ops, CAROL)); });
    }
    await synced(a2);
    const after = await serverCodesOnServer(opsUid);
    expect(after.keyVersion).toBe((on.keyVersion ?? 0) + 1);
    expect(after.serverCodes).toBe(true);
    expect(serverCodesHere(a2.file, ops)).toBe(true);
    expect(bobsWrap(a2.file, ops)).toEqual({ version: after.keyVersion, secret: false });
  });

  it('a revoke stored ahead of its rotation in a group whose codes the server computes: taken alone, the rotation after it', async () => {
    const ops = team.opsId;
    const opsUid = groupUidIn(a.file, ops);
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const db = new Database(a.file, { readonly: true });
    const bobUid = uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(BOB) as { uid: Buffer }).uid);
    db.close();
    const bobHolds = (): Promise<boolean> => team.server.database.transaction(async (tx) => (await getMembership(tx, vault, opsUid, bobUid)) !== undefined);
    const before = await serverCodesOnServer(opsUid);
    expect({ on: before.serverCodes, bob: await bobHolds() }).toEqual({ on: true, bob: true });
    await onDesktop(a, async (s) => { await s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)); });
    // The owner's sync stores its first part (the revoke) and loses the rest on the way.
    const client = (await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now())).client;
    const call = client.call.bind(client);
    let pushes = 0;
    client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush' && ++pushes > 1) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
      return call(name, input, sent);
    };
    const cut = await onDesktop(a, (s) => syncOnce(client, s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect({ cut, bob: await bobHolds(), group: await serverCodesOnServer(opsUid) }).toEqual({ cut: 'SERVER_UNREACHABLE', bob: false, group: before });
    await synced(a);
    expect(await serverCodesOnServer(opsUid)).toEqual({ keyVersion: (before.keyVersion ?? 0) + 1, serverCodes: true });
    expect(await bobHolds()).toBe(false);
  });
});
