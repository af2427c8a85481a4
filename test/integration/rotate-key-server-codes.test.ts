/**
 * A key changed at will (team.ts rotateKey, docs/SYNC.md "A key change owed") in a group whose codes the team server
 * computes: the rotation must keep the secret key from its codes-only member (bob holds the list key alone at the new
 * version) and give it to those whose role may hold it there (carol, a technician), and the server must take the push
 * (it refuses a secret key wrapped for a codes-only member there: server/sync/membership.ts). A codes-only member and a
 * role that manages the group but may not hold its secret key there may not change it. One desktop (a real vault file,
 * real crypto) and a real team server (PGlite) on loopback, its session in a private Secret Service. Must never put a
 * password in a process argument.
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

import { CrewvaultError } from '../../shared/errors';

const KEYCHAIN = 'crewvault-rotate-key-server-codes';
const SERVER_PASSWORD = 'alice on the team server 1';
const clock = manualClock(Date.UTC(2026, 11, 13, 9, 0, 0));
let keyring: PrivateKeyring;
let server: RunningServer;
let home: string;

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-rotate-key-server-codes-'));
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
}, 60_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

const codeOf = (run: Promise<unknown>): Promise<string> => run.then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error)));

describe('a key changed in a group whose codes the server computes', () => {
  it('is stored by the server, the codes-only member holding the list key alone at the new version', async () => {
    const file = path.join(home, 'owner.crewvault');
    const env = { CREWVAULT_CONFIG: path.join(home, 'config'), CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN };
    const created = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await created.createUser('bob', 'codes_only', 'a one-time password for bob', FAST_KDF);
    await created.createUser('carol', 'technician', 'a one-time password for carol', FAST_KDF);
    await created.team.defineRole('codes_lead', ['entries.view', 'otp.view', 'groups.manage'], 0);
    await created.createUser('dave', 'codes_lead', 'a one-time password for dave', FAST_KDF);
    const ops = await created.team.createGroup('Ops');
    for (const name of ['bob', 'carol']) await created.team.grant(ops.id, name, false, await created.team.groupRevision(ops.id));
    await created.team.grant(ops.id, 'dave', true, await created.team.groupRevision(ops.id));
    await created.team.setServerCodes(ops.id, true, await created.team.groupRevision(ops.id));
    await created.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id }]);
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
    await syncOnce(client, session.replica, { move: true });
    const vault = await session.replica.vaultId();
    const group = groupUidIn(file, ops.id);
    const versionBefore = await groupVersion(vault, group);
    try {
      clock.advance(1_000);
      await session.team.rotateKey(ops.id);
      const outcome = await syncOnce(client, session.replica).then(() => 'stored', (error: unknown) => String(error));
      expect({ outcome, ...await serverSays(vault, group) }).toEqual({
        outcome: 'stored', bobRole: 'codes_only', version: versionBefore + 1, wraps: { bob: { keyVersion: versionBefore + 1, secret: false }, carol: { keyVersion: versionBefore + 1, secret: true } },
      });
    } finally {
      await session.close();
    }
    // Neither a codes-only member nor a lead whose role may not hold the secret key there changes it.
    for (const [name, refusal] of [['bob', 'FORBIDDEN'], ['dave', 'FORBIDDEN']] as const) {
      const theirs = await Vault.open(file, clock).signIn(name, `a one-time password for ${name}`);
      try {
        expect(await codeOf(theirs.team.rotateKey(ops.id)), name).toBe(refusal);
      } finally {
        await theirs.close();
      }
    }
    expect(await groupVersion(vault, group)).toBe(versionBefore + 1);
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
