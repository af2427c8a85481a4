/**
 * The owner's two desktops racing a rotation, built once for the concurrent-rotation tests
 * (given-way-across-pages, concurrent-rotation-winner-edit, rotation-crossed-by-edit,
 * push-names-member-once): a real team server (server/main.ts on PGlite, loopback HTTP), the
 * owner's vault with the group Ops (the named technicians in it, two entries: Switch and Firewall),
 * a second desktop a copy of it, both signed in to the server, the vault moved from the first and
 * pulled by the second. The sync runs as `crewvault sync` (scripted) or through syncOnce with its
 * pull cut into pages of a given size (the page-size knob). `useRotationDesktops` registers its own
 * beforeAll/afterAll (read `server` and `opsId` inside a test); `buildRotationDesktops` builds one
 * more world in a folder of the caller's (its server closed by the caller, the Secret Service
 * started by the caller). Must never put a password in a process argument (answers go on the
 * scripted stdin).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce, type SyncOutcome, type SyncProgress } from '../../electron/team/sync';
import type { Clock, VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from './keyring';
import { copyAsNewDesktop } from './replica';
import { runScripted, type CliOutcome } from './scripted-cli';
import { FAST_KDF, OWNER, PASSWORD } from './vault';

export const SERVER_PASSWORD = 'alice on the team server 1';

export interface RotationDesktop {
  readonly name: string;
  readonly file: string;
  readonly keychain: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface RotationOptions {
  /** The technicians made on the owner's vault and put in Ops, in this order. */
  readonly members: readonly string[];
  /** The second desktop's name ('a2' unless said). */
  readonly second?: string;
}

export interface RotationDesktops {
  readonly server: RunningServer;
  /** The group Ops on the owner's vault. */
  readonly opsId: number;
  /** The owner's desktop (where the vault was made and moved from) and the owner's second desktop. */
  readonly a: RotationDesktop;
  readonly a2: RotationDesktop;
  /** Signs in on a desktop's vault as the owner, runs `work`, closes. */
  readonly onDesktop: <T>(d: RotationDesktop, work: (session: VaultSession) => Promise<T>) => Promise<T>;
  /** `crewvault sync --json` on a desktop as the owner (a second later on the clock): its outcome, which may be an error. */
  readonly trySync: (d: RotationDesktop, ...flags: string[]) => Promise<CliOutcome>;
  /** As trySync; fails the test on an error. */
  readonly sync: (d: RotationDesktop, ...flags: string[]) => Promise<{ held: number; conflictCopies: number }>;
  /** A team client with the desktop's own kept session, as `crewvault sync` takes it (its server key known). */
  readonly teamClient: (d: RotationDesktop) => Promise<TeamClient>;
  /** One sync through the sync's own code (a second later on the clock), its pull cut into pages of `pullRecords`. */
  readonly syncInPages: (d: RotationDesktop, pullRecords: number, onProgress?: (p: SyncProgress) => void) => Promise<SyncOutcome>;
  /** Sets an entry's password on a desktop (a second later on the clock). */
  readonly setPassword: (d: RotationDesktop, entryPath: string, password: string) => Promise<void>;
  /** Each entry of the desktop's vault as `title=password`, sorted. */
  readonly passwords: (d: RotationDesktop) => Promise<string[]>;
  /**
   * Two rotations at once, before either desktop syncs: a2 revokes `byA2` and edits Firewall (f-a2);
   * a edits Switch (s-a) and Firewall (f-a), then revokes `byA`; a's two entries of Ops are then
   * stepped back one revision (one SQL statement), as when its rotation re-sealed no older version
   * of them: the version the give-way rule tells apart (docs/SYNC.md).
   */
  readonly rotateOnBothWinnerEditOneAhead: (byA2: string, byA: string) => Promise<void>;
}

type TestClock = Clock & { advance(ms: number): void };

/** The world with its folder read when used; `start` builds it. */
function rotationWorld(dirOf: () => string, prefix: string, clock: TestClock, options: RotationOptions): RotationDesktops & { start(): Promise<void>; stop(): Promise<void> } {
  let server: RunningServer | undefined;
  let opsId: number | undefined;
  const running = (): RunningServer => {
    if (server === undefined) throw new Error('the team server has not started');
    return server;
  };
  function desktop(name: string): RotationDesktop {
    const keychain = `${prefix}-${name}`;
    return {
      name, keychain,
      get file() { return path.join(dirOf(), `desktop-${name}.crewvault`); },
      get env() { return { CREWVAULT_CONFIG: path.join(dirOf(), `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: keychain }; },
    };
  }
  const a = desktop('a');
  const a2 = desktop(options.second ?? 'a2');

  async function onDesktop<T>(d: RotationDesktop, work: (session: VaultSession) => Promise<T>): Promise<T> {
    const session = await Vault.open(d.file, clock).signIn(OWNER, PASSWORD);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  async function trySync(d: RotationDesktop, ...flags: string[]): Promise<CliOutcome> {
    clock.advance(1_000);
    return runScripted(['sync', running().url, '--json', '--vault', d.file, '--user', OWNER, ...flags], [PASSWORD], clock, d.env);
  }

  async function sync(d: RotationDesktop, ...flags: string[]): Promise<{ held: number; conflictCopies: number }> {
    const out = await trySync(d, ...flags);
    expect(out.code, `${d.name}: sync: ${out.stderr}`).toBe('ok');
    return JSON.parse(out.stdout) as { held: number; conflictCopies: number };
  }

  async function teamClient(d: RotationDesktop): Promise<TeamClient> {
    return (await keptSession(serverPlace(d.env), new URL(running().url).origin, () => clock.now())).client;
  }

  async function syncInPages(d: RotationDesktop, pullRecords: number, onProgress?: (p: SyncProgress) => void): Promise<SyncOutcome> {
    clock.advance(1_000);
    const client = await teamClient(d);
    return onDesktop(d, (s) => syncOnce(client, s.replica, { pullRecords, ...(onProgress === undefined ? {} : { onProgress }) }));
  }

  async function setPassword(d: RotationDesktop, entryPath: string, password: string): Promise<void> {
    clock.advance(1_000);
    await onDesktop(d, async (s) => {
      const entry = await s.resolvePath(entryPath);
      await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
    });
  }

  async function passwords(d: RotationDesktop): Promise<string[]> {
    return onDesktop(d, async (s) => {
      const out: string[] = [];
      for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
      return out.sort();
    });
  }

  async function rotateOnBothWinnerEditOneAhead(byA2: string, byA: string): Promise<void> {
    const ops = opsId;
    if (ops === undefined) throw new Error('the owner\'s vault has not been made');
    await onDesktop(a2, async (s) => s.team.revoke(ops, byA2, await s.team.memberRevision(ops, byA2)));
    await setPassword(a2, 'Acme/Firewall', 'f-a2');
    await setPassword(a, 'Acme/Switch', 's-a');
    await setPassword(a, 'Acme/Firewall', 'f-a');
    await onDesktop(a, async (s) => s.team.revoke(ops, byA, await s.team.memberRevision(ops, byA)));
    const file = new Database(a.file);
    const stepBack = file.prepare('UPDATE entries SET revision = revision - 1 WHERE group_id = ?').run(ops);
    file.close();
    expect(stepBack.changes).toBe(2);
  }

  async function start(): Promise<void> {
    const dataDir = path.join(dirOf(), 'server');
    server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
    // The owner's vault: the technicians in Ops, which holds two entries.
    const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    for (const name of options.members) await session.createUser(name, 'technician', `a one-time password for ${name}`, FAST_KDF);
    const ops = await session.team.createGroup('Ops');
    opsId = ops.id;
    for (const name of options.members) await session.team.grant(ops.id, name, false, await session.team.groupRevision(ops.id));
    await session.createEntries([
      { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
      { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
    ]);
    await session.close();
    await copyAsNewDesktop(a.file, a2.file, clock);
    for (const d of [a, a2]) await onDesktop(d, (s) => s.replica.agreeAll());
    for (const [d, args] of [[a, ['--invite-file', path.join(dataDir, 'owner-invite.txt')]], [a2, []]] as const) {
      const out = await runScripted(['login', server.url, '--user', 'alice', ...args], [SERVER_PASSWORD], clock, d.env);
      expect(out.code, `${d.name}: login: ${out.stderr}`).toBe('ok');
    }
    await sync(a, '--move');
    await sync(a2);
  }

  return {
    get server() { return running(); },
    get opsId() {
      if (opsId === undefined) throw new Error('the owner\'s vault has not been made');
      return opsId;
    },
    a, a2, onDesktop, trySync, sync, teamClient, syncInPages, setPassword, passwords, rotateOnBothWinnerEditOneAhead, start,
    stop: async () => { await server?.close(); },
  };
}

/** One world in `dir` (made by the caller, who closes its `server` and runs the private Secret Service); keychains named `${prefix}-<desktop>`. */
export async function buildRotationDesktops(dir: string, prefix: string, clock: TestClock, options: RotationOptions): Promise<RotationDesktops> {
  const world = rotationWorld(() => dir, prefix, clock, options);
  try {
    await world.start();
  } catch (error) {
    await world.stop();
    throw error;
  }
  return world;
}

/** One world for the test file, built in beforeAll; `prefix` names the temporary folder and the keychain services. */
export function useRotationDesktops(prefix: string, clock: TestClock, options: RotationOptions): RotationDesktops {
  let keyring: PrivateKeyring | undefined;
  let home = '';
  const world = rotationWorld(() => home, prefix, clock, options);
  beforeAll(async () => {
    keyring = startPrivateKeyring();
    Object.assign(process.env, keyring.env);
    home = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    await world.start();
  }, 180_000);
  afterAll(async () => {
    await world.stop();
    keyring?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  return world;
}
