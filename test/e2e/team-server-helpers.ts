/**
 * What the Team server e2e test stands on: a real team server (server/main.ts on PGlite, plain
 * http on loopback, a clock the test moves so authenticator steps are its to choose), a private
 * Secret Service for the sessions' tokens, one vault file and its copy (two desktops of one
 * vault, as test/integration/team-sync.test.ts starts them), and `crewvault serve` for the
 * desktop driven through Chromium, with that Secret Service and a keychain service of its own.
 * Must never: touch the machine's own keychain or config (everything lives in a temp folder).
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyAsNewDesktop } from '../support/replica';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { testClock, type TestClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { LAUNCH_URL } from '../support/launch-url';
import { expect, type Locator, type Page } from '@playwright/test';
import { TeamClient } from '../../electron/team/client';
import { OWNER, PASSWORD } from './fixtures';
import { signIn, signInToTeamServer } from './helpers';

/** Cheap key stretching for the test's vault files (test/support/vault.ts's, which needs vitest). */
const FAST_KDF = { memory: 1024, iterations: 1, parallelism: 1 };
/** Awaits a vault call whether it answers with a value or a promise. */
const settle = <T>(value: T): Promise<Awaited<T>> => Promise.resolve(value);

export interface TeamWorld {
  readonly home: string;
  readonly server: RunningServer;
  readonly clock: TestClock;
  readonly inviteFile: string;
  /** With TLS: the certificate's SHA-256 fingerprint as openssl prints it (what the person compares). */
  readonly fingerprint?: string;
  /** Desktop A (Chromium) and desktop B (the CLI): vault file, config folder and keychain service each. */
  readonly desktops: readonly [Desktop, Desktop];
  stop(): Promise<void>;
}

export interface Desktop {
  readonly file: string;
  readonly env: { readonly CREWVAULT_CONFIG: string; readonly CREWVAULT_KEYCHAIN_SERVICE: string };
}

/** A self-signed certificate for 127.0.0.1 made by openssl, and its fingerprint as openssl prints it. */
function selfSigned(dir: string): { cert: string; key: string; fingerprint: string } {
  const cert = path.join(dir, 'server.pem');
  const key = path.join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=crewvault e2e', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  const fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim().split('=')[1] ?? '';
  return { cert, key, fingerprint };
}

let workerKeyring: PrivateKeyring | undefined;

/**
 * One private Secret Service for this Playwright worker process, kept until it exits. Not one
 * per test: keytar's libsecret connects to the session bus once per process and keeps that
 * connection, so a second bus started for a later test in the same process was never reached
 * (its first keychain call failed on the first bus, gone with its test's keyring). Each world
 * keeps its secrets apart by keychain service names of its own instead.
 */
export function keyringOfThisWorker(): PrivateKeyring {
  if (workerKeyring === undefined) {
    const keyring = startPrivateKeyring();
    workerKeyring = keyring;
    process.once('exit', () => keyring.stop());
  }
  return workerKeyring;
}

/** The server (https with a self-signed certificate when `tls`), the keyring, and a vault on two desktops (entries agreed on both, each its own device). */
export async function startTeamWorld(options: { readonly tls?: boolean } = {}): Promise<TeamWorld> {
  const keyring = keyringOfThisWorker();
  const before = Object.fromEntries(Object.keys(keyring.env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, keyring.env); // keytar (this process and the serve child) finds the bus here
  const home = mkdtempSync(path.join(tmpdir(), 'crewvault-e2e-team-'));
  const clock = testClock(Date.now());
  const dataDir = path.join(home, 'server');
  const tls = options.tls === true ? selfSigned(home) : undefined;
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', tlsCert: tls?.cert, tlsKey: tls?.key, now: clock.now, log: { write: () => undefined }, version: 'test' });
  const vaultClock = { now: () => Date.now() };
  const a = path.join(home, 'desktop-a.crewvault');
  const session = await createVault(a, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock: vaultClock });
  await settle(session.createEntries([{ customer: 'Acme', title: 'Firewall', username: 'root', password: 'fw-1' }]));
  await settle(session.close());
  const b = path.join(home, 'desktop-b.crewvault');
  await copyAsNewDesktop(a, b, vaultClock);
  for (const file of [a, b]) {
    const signedIn = await settle((await settle(Vault.open(file, vaultClock))).signIn(OWNER, PASSWORD));
    await settle(signedIn.replica.agreeAll());
    await settle(signedIn.close());
  }
  // Keychain services of this world alone (the keyring is the worker's, shared by its tests).
  const desktop = (name: string, file: string): Desktop => ({ file, env: { CREWVAULT_CONFIG: path.join(home, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: `${path.basename(home)}-${name}` } });
  return {
    home, server, clock, inviteFile: path.join(dataDir, 'owner-invite.txt'), ...(tls ? { fingerprint: tls.fingerprint } : {}),
    desktops: [desktop('a', a), desktop('b', b)],
    stop: async () => {
      await server.close();
      // Other tests' `crewvault serve` children start from this process's own environment.
      for (const [name, value] of Object.entries(before)) {
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** `crewvault serve` on desktop A's vault, its config in a folder of its own and its own keychain service; the launch URL it printed. */
export interface Serve {
  readonly url: string;
  /**
   * Waits for the next question serve asks on its terminal before pinning a certificate or moving
   * the vault (electron/team/confirm.ts), answers it there as the person would, and returns it.
   */
  answerOnTerminal(answer: 'yes' | 'no'): Promise<string>;
  stop(): Promise<void>;
}

const QUESTION_END = 'anything else to refuse: ';

export async function startServe(world: TeamWorld): Promise<Serve> {
  const [a] = world.desktops;
  const folder = path.join(world.home, 'serve');
  const env = { ...process.env, CREWVAULT_CONFIG: path.join(folder, 'config.json'), CREWVAULT_KEYCHAIN_SERVICE: a.env.CREWVAULT_KEYCHAIN_SERVICE };
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [path.resolve('bin/crewvault.mjs'), 'serve', '--vault', a.file, '--no-open'], { env });
  let stderr = '';
  let answered = 0;
  const watchers = new Set<() => void>();
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const watcher of [...watchers]) watcher();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = LAUNCH_URL.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`crewvault serve exited with ${code}`)));
  });
  return {
    url,
    answerOnTerminal: (answer) => new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { watchers.delete(check); reject(new Error('serve asked nothing on its terminal within 20 s')); }, 20_000);
      function check(): void {
        const questions = stderr.split(QUESTION_END);
        if (questions.length - 1 <= answered) return;
        const question = questions[answered] ?? '';
        answered += 1;
        watchers.delete(check);
        clearTimeout(timer);
        // Yes is the question's own random word (electron/team/confirm.ts), read off the question.
        const word = /type the word ([a-z]+) and Enter/.exec(question)?.[1];
        if (answer === 'yes' && word === undefined) {
          reject(new Error('the question named no word to type'));
          return;
        }
        child.stdin.write(`${answer === 'yes' ? word ?? '' : 'no'}\n`);
        resolve(question);
      }
      watchers.add(check);
      check();
    }),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Where serve keeps the app's config (and so servers.json, beside it). */
export function serveConfigDir(world: TeamWorld): string {
  return path.join(world.home, 'serve');
}

/** The owner's password on the world's team server (their account made from the world's invite). */
export const OWNER_SERVER_PASSWORD = 'alice on the team server 1';

/** The owner's account made on the world's server from its invite, signed in from a desktop called `deviceId` (desktop B's client). */
export async function ownerSignedIn(world: TeamWorld, deviceId: string): Promise<TeamClient> {
  const client = new TeamClient(new URL(world.server.url), { kind: 'loopback' }, deviceId);
  await client.register(readFileSync(world.inviteFile, 'utf8').trim(), OWNER, OWNER_SERVER_PASSWORD, undefined);
  await client.login(OWNER, OWNER_SERVER_PASSWORD);
  return client;
}

/**
 * `crewvault serve` on desktop A, the page signed in to the vault and then to the team server as the owner, once its first
 * round is in: the serve (to stop), and the list of what that round also told.
 */
export async function servedAndSynced(page: Page, world: TeamWorld): Promise<{ readonly serve: Serve; readonly told: Locator }> {
  const serve = await startServe(world);
  await page.goto(serve.url);
  await signIn(page, OWNER, PASSWORD);
  await signInToTeamServer(page, world.server.url, OWNER, OWNER_SERVER_PASSWORD);
  await expect(page.getByLabel('Last sync')).toContainText('Synced at', { timeout: 60_000 });
  return { serve, told: page.getByRole('list', { name: 'Also told by that round' }) };
}
