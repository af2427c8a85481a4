/**
 * The demotion split from its rotation (beside finding D6): an owner makes bob, a technician of a
 * group whose codes the team server computes, codes-only; their desktop rotates the group so bob
 * keeps the list key alone (team.ts followRole). A push cut into parts (electron/team/sync.ts
 * partsOf; here one record a part, as a large push is cut) sent the user record in a part of its
 * own: the server refused it (bob, now codes-only, still wrapped the group's secret key) and the
 * sync ended FORBIDDEN until the push was sent whole. Who is who now goes first in one part (user
 * and group records and the pusher's own memberships), so the demotion travels with its rotation:
 * the sync is stored, and the server holds bob codes-only, the group at its new version, bob's
 * wrap there the list key alone. One desktop (a real vault file, real crypto) and a real team
 * server (PGlite) on loopback, its session in a private Secret Service. Must never put a password
 * in a process argument.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { int, text, textOrNull } from '../../server/store/db';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { runScripted } from '../support/scripted-cli';
import { groupUidIn } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const KEYCHAIN = 'crewvault-demotion-in-parts';
const SERVER_PASSWORD = 'alice on the team server 1';
const clock = manualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
let keyring: PrivateKeyring;
let server: RunningServer;
let home: string;

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-demotion-in-parts-'));
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
}, 60_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('a demotion to codes-only and its rotation, pushed in parts', () => {
  it('reach the server together: the sync is stored, bob codes-only, the group rotated, his wrap the list key alone', async () => {
    const file = path.join(home, 'owner.crewvault');
    const env = { CREWVAULT_CONFIG: path.join(home, 'config'), CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN };
    const created = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await created.createUser('bob', 'technician', 'a one-time password for bob', FAST_KDF);
    await created.createUser('carol', 'technician', 'a one-time password for carol', FAST_KDF);
    const ops = await created.team.createGroup('Ops');
    for (const name of ['bob', 'carol']) await created.team.grant(ops.id, name, false, await created.team.groupRevision(ops.id));
    await created.team.setServerCodes(ops.id, true, await created.team.groupRevision(ops.id));
    await created.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id }, { customer: 'Acme', title: 'Printer', password: 'p-1' }]);
    await created.close();

    const login = await runScripted(['login', server.url, '--user', 'alice', '--invite-file', path.join(home, 'server', 'owner-invite.txt')], [SERVER_PASSWORD], clock, env);
    expect(login.code, login.stderr).toBe('ok');
    const profile = new ServerProfiles(env.CREWVAULT_CONFIG).get(server.url);
    const tokens = await new SessionKeeper(keychainDeviceStore(KEYCHAIN)).get(server.url, 'alice');
    if (!profile || !tokens) throw new Error('the owner is not signed in');
    const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
    client.tokens = tokens;
    client.serverKey = profile.serverKey;
    const { syncOnce } = await import('../../electron/team/sync');

    const session = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    try {
      await syncOnce(client, session.replica, { move: true });
      const vault = await session.replica.vaultId();
      const group = groupUidIn(file, ops.id);
      const versionBefore = await groupVersion(vault, group);
      clock.advance(1_000);
      await session.team.changeRole('bob', 'codes_only', await session.team.userRevision('bob'));
      // Every record in a part of its own, as far as partsOf cuts: the demotion must still travel with its rotation.
      const outcome = await syncOnce(client, session.replica, { partRecords: 1 }).then(() => 'stored', (error: unknown) => String(error));
      expect({ outcome, ...await serverSays(vault, group) }).toEqual({
        outcome: 'stored', bobRole: 'codes_only', version: versionBefore + 1, wraps: { bob: { keyVersion: versionBefore + 1, secret: false }, carol: { keyVersion: versionBefore + 1, secret: true } },
      });
    } finally {
      await session.close();
    }
  }, 120_000);
});

async function groupVersion(vault: string, group: string): Promise<number> {
  const [row] = await server.database.query('SELECT key_version FROM sync_groups WHERE vault_id = $1 AND group_id = $2', [vault, group]);
  return row === undefined ? 0 : int(row, 'key_version');
}

/** bob's role, the group's key version and bob's and carol's wraps in it, as the server holds them (by the names their user records carry). */
async function serverSays(vault: string, group: string): Promise<{ bobRole: string | undefined; version: number; wraps: Record<string, { keyVersion: number; secret: boolean }> }> {
  const people = await server.database.query("SELECT record_id, body->>'name' AS name, body->>'role' AS role FROM sync_records WHERE vault_id = $1 AND kind = 'user'", [vault]);
  const nameOf = new Map(people.map((row) => [text(row, 'record_id'), text(row, 'name')]));
  const members = await server.database.query('SELECT vault_user, key_version, wrapped FROM sync_members WHERE vault_id = $1 AND group_id = $2', [vault, group]);
  const wraps: Record<string, { keyVersion: number; secret: boolean }> = {};
  for (const row of members) {
    const name = nameOf.get(text(row, 'vault_user'));
    if (name === 'bob' || name === 'carol') wraps[name] = { keyVersion: int(row, 'key_version'), secret: (JSON.parse(text(row, 'wrapped')) as [string, string | null])[1] !== null };
  }
  const bob = people.find((row) => text(row, 'name') === 'bob');
  return { bobRole: bob === undefined ? undefined : textOrNull(bob, 'role') ?? undefined, version: await groupVersion(vault, group), wraps };
}
