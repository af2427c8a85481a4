/**
 * What the one-desktop server-codes tests stand on (demotion-rotation-in-parts, rotate-key-server-codes,
 * cli-sync-server-codes): a real team server (PGlite) on loopback in a temp folder of the test file's, a private
 * Secret Service for the owner's session, the owner signed in through `crewvault login` with the first-owner invite,
 * and what the server holds of a group read from its tables. Test support only; must never put a password in a
 * process argument, nor touch the machine's own keychain or config.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import type { Clock } from '../../electron/vault/service';
import { startServer, type RunningServer } from '../../server/main';
import { int, text, textOrNull } from '../../server/store/db';
import { startPrivateKeyring, type PrivateKeyring } from './keyring';
import { runScripted } from './scripted-cli';
import { OWNER } from './vault';

const SERVER_PASSWORD = 'alice on the team server 1';

export interface OneDesktopServer {
  /** The test file's folder (made in beforeAll). */
  readonly home: string;
  readonly server: RunningServer;
  /** The owner's desktop's config folder and keychain service (the CLI's env). */
  readonly env: { readonly CREWVAULT_CONFIG: string; readonly CREWVAULT_KEYCHAIN_SERVICE: string };
  /** Signs the owner in through `crewvault login` with the first-owner invite (the server's first account). */
  readonly ownerLogin: () => Promise<void>;
  /** A client on the session `ownerLogin` kept. */
  readonly ownerClient: () => Promise<TeamClient>;
  /** The group's key version on the server (0: it holds no such group). */
  readonly groupVersion: (vault: string, group: string) => Promise<number>;
  /** bob's role, the group's key version and bob's and carol's wraps in it, as the server holds them (by the names their user records carry). */
  readonly bobAndCarolIn: (vault: string, group: string) => Promise<{ bobRole: string | undefined; version: number; wraps: Record<string, { keyVersion: number; secret: boolean }> }>;
}

/** The world above, built once for the test file (its own beforeAll/afterAll) in a temp folder and keychain service named by `prefix`. */
export function useOneDesktopServer(prefix: string, clock: Clock): OneDesktopServer {
  let keyring: PrivateKeyring | undefined;
  let home = '';
  let server: RunningServer | undefined;
  const running = (): RunningServer => {
    if (server === undefined) throw new Error('the server has not been started');
    return server;
  };
  const env = () => ({ CREWVAULT_CONFIG: path.join(home, 'config'), CREWVAULT_KEYCHAIN_SERVICE: prefix });

  beforeAll(async () => {
    keyring = startPrivateKeyring();
    Object.assign(process.env, keyring.env);
    home = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    keyring?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const groupVersion = async (vault: string, group: string): Promise<number> => {
    const [row] = await running().database.query('SELECT key_version FROM sync_groups WHERE vault_id = $1 AND group_id = $2', [vault, group]);
    return row === undefined ? 0 : int(row, 'key_version');
  };

  return {
    get home() { return home; },
    get server() { return running(); },
    get env() { return env(); },
    ownerLogin: async () => {
      const login = await runScripted(['login', running().url, '--user', OWNER, '--invite-file', path.join(home, 'server', 'owner-invite.txt')], [SERVER_PASSWORD], clock, env());
      expect(login.code, login.stderr).toBe('ok');
    },
    ownerClient: async () => {
      const { url } = running();
      const profile = new ServerProfiles(env().CREWVAULT_CONFIG).get(url);
      const tokens = await new SessionKeeper(keychainDeviceStore(prefix)).get(url, OWNER);
      if (!profile || !tokens) throw new Error('the owner is not signed in');
      const client = new TeamClient(new URL(url), profile.trust, profile.deviceId);
      client.tokens = tokens;
      client.serverKey = profile.serverKey;
      return client;
    },
    groupVersion,
    bobAndCarolIn: async (vault, group) => {
      const db = running().database;
      const people = await db.query("SELECT record_id, body->>'name' AS name, body->>'role' AS role FROM sync_records WHERE vault_id = $1 AND kind = 'user'", [vault]);
      const nameOf = new Map(people.map((row) => [text(row, 'record_id'), text(row, 'name')]));
      const members = await db.query('SELECT vault_user, key_version, wrapped FROM sync_members WHERE vault_id = $1 AND group_id = $2', [vault, group]);
      const wraps: Record<string, { keyVersion: number; secret: boolean }> = {};
      for (const row of members) {
        const name = nameOf.get(text(row, 'vault_user'));
        if (name === 'bob' || name === 'carol') wraps[name] = { keyVersion: int(row, 'key_version'), secret: (JSON.parse(text(row, 'wrapped')) as [string, string | null])[1] !== null };
      }
      const bob = people.find((row) => text(row, 'name') === 'bob');
      return { bobRole: bob === undefined ? undefined : textOrNull(bob, 'role') ?? undefined, version: await groupVersion(vault, group), wraps };
    },
  };
}
