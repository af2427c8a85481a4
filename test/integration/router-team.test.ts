// The router's team.* calls against a real team server (server/main.ts on PGlite) on loopback,
// over plain http and over TLS with a certificate made by openssl, the session's tokens in a
// private Secret Service: what is refused (a bad address, plain http off this computer, a wrong
// password, a wrong code, a certificate nobody compared), signing in with the server's second
// step, moving and syncing the vault, live sync stopped with the session (timers injected and
// counted), and signing out taking the session off this computer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionState } from '../../shared/api/contract';
import type { TeamStatus } from '../../shared/api/team-contract';
import { TeamClient } from '../../electron/team/client';
import type { LiveTimers } from '../../electron/team/desk';
import { serverPlace, type ServerPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { createVault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { readLocalAdminKey } from '../../server/settings/local-only';
import { authenticatorCode, testClock, type TestClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { CONFIRMED, errorCode, ok } from '../support/router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';
import { holdsSecret } from '../support/secrets';

const SERVER_PASSWORD = 'alice on the team server 1';
let keyring: PrivateKeyring;
let home: string;

beforeAll(() => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env); // keytar finds the bus through the environment
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-router-team-'));
});
afterAll(() => {
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

let folders = 0;
function folder(name: string): string {
  return path.join(home, `${name}-${folders++}`);
}

/** Timers live sync would run, held here: a test fires them and sees every one cleared. */
function countedTimers(): LiveTimers & { readonly live: Map<number, () => void> } {
  const live = new Map<number, () => void>();
  let next = 1;
  const add = (run: () => void): number => {
    live.set(next, run);
    return next++;
  };
  const drop = (handle: unknown): void => {
    live.delete(handle as number);
  };
  return { live, setInterval: add, setTimeout: add, clearInterval: drop, clearTimeout: drop };
}

/** A desktop: a vault of its own signed in through a router whose team place is its own config folder and keychain service. */
async function desktop(timers?: LiveTimers) {
  const dir = folder('desktop');
  const place: ServerPlace = serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: `crewvault-router-team-${folders}` }, path.join(dir, 'config'));
  const router = new Router({
    vaultPath: path.join(dir, 'vault.crewvault'), clock: manualClock(), clipboard: { kind: 'page' }, kdf: FAST_KDF,
    team: { place, confirm: CONFIRMED, ...(timers ? { timers } : {}) },
  });
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  const status = async (): Promise<TeamStatus> => ok(await router.call('team.status', {})) as TeamStatus;
  return { router, place, status, servers: path.join(dir, 'config', 'servers.json') };
}

interface Team {
  readonly server: RunningServer;
  /** Its data folder: the local admin key the server's settings need is there. */
  readonly dataDir: string;
  readonly clock: TestClock;
  readonly logs: string[];
  readonly invite: string;
  /** Called with each log line as the server writes it (a request's line when it arrives): a test acts at that moment. */
  tap?: (line: string) => void;
}

async function startTeam(tls?: { cert: string; key: string }): Promise<Team> {
  const dataDir = folder('server');
  const logs: string[] = [];
  const clock = testClock();
  const holder: { team?: Team } = {};
  const server = await startServer({
    dataDir, listen: '127.0.0.1:0', tlsCert: tls?.cert, tlsKey: tls?.key, now: clock.now, version: 'test',
    log: { write: (line) => { logs.push(line); holder.team?.tap?.(line); } },
  });
  const invite = server.ownerInviteFile === undefined ? '' : readFileSync(server.ownerInviteFile, 'utf8').trim();
  holder.team = { server, dataDir, clock, logs, invite };
  return holder.team;
}

/** Requests that reached the server's API (beyond a health check). */
function apiRequests(logs: readonly string[]): number {
  return logs.filter((line) => line.includes('"/v1/')).length;
}

describe('team.connect refuses, changing nothing', () => {
  it('a bad address, and plain http anywhere but this computer (as the CLI does)', async () => {
    const { router, status, servers } = await desktop();
    for (const [url, code] of [
      ['not a url', 'INVALID_INPUT'], ['ftp://vault.example.com', 'INVALID_INPUT'], ['https://vault.example.com/path', 'INVALID_INPUT'],
      ['https://user:pw@vault.example.com', 'INVALID_INPUT'], ['http://10.255.255.1:8443', 'INSECURE_SERVER'], ['http://vault.example.com', 'INSECURE_SERVER'],
    ] as const) {
      const reply = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD });
      expect(errorCode(reply), url).toBe(code);
      if (!reply.ok) expect(reply.error.message).not.toContain(SERVER_PASSWORD);
    }
    expect(errorCode(await router.call('team.connect', { url: 'https://127.0.0.1:1', username: 'alice', password: 'x', trustFingerprint: 'not hex' }))).toBe('INVALID_INPUT');
    expect(await status()).toMatchObject({ connected: null, signIn: null, certificate: null });
    expect(existsSync(servers)).toBe(false);
  });

  it('every team call while the vault is locked (LOCKED)', async () => {
    const { router } = await desktop();
    ok(await router.call('session.lock', {}));
    expect(errorCode(await router.call('team.connect', { url: 'http://127.0.0.1:1', username: 'alice', password: SERVER_PASSWORD }))).toBe('LOCKED');
    expect(errorCode(await router.call('team.status', {}))).toBe('LOCKED');
  });
});

describe('a server whose certificate no authority vouches for', () => {
  let team: Team;
  let fingerprint: string;
  let cert = '';
  let key = '';
  beforeAll(async () => {
    const dir = folder('tls');
    execFileSync('mkdir', ['-p', dir]);
    cert = path.join(dir, 'server.pem');
    key = path.join(dir, 'server.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', '/CN=crewvault test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    // The independent oracle for what the person compares: openssl's own fingerprint.
    fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim().split('=')[1] ?? '';
    team = await startTeam({ cert, key });
  }, 60_000);
  afterAll(() => team.server.close());

  it('is shown with its fingerprint and pinned only with the one compared; nothing is sent before', async () => {
    const { router, status, servers } = await desktop();
    const url = team.server.url;
    const shown = ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite })) as TeamStatus;
    expect(shown.certificate).toMatchObject({ server: url, fingerprint });
    expect(shown.connected).toBeNull();
    expect(apiRequests(team.logs)).toBe(0);
    expect(existsSync(servers)).toBe(false);
    // Another fingerprint than the one presented: refused, still nothing sent or pinned.
    const other = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    expect(errorCode(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite, trustFingerprint: other }))).toBe('SERVER_UNTRUSTED');
    expect(apiRequests(team.logs)).toBe(0);
    expect(existsSync(servers)).toBe(false);
    // The one compared (as openssl prints it, lower case without colons works too).
    const pinned = ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite, trustFingerprint: fingerprint.replace(/:/g, '').toLowerCase() })) as TeamStatus;
    expect(pinned.connected).toMatchObject({ server: url, user: 'alice' });
    expect(pinned.certificate).toBeNull();
    const saved = JSON.parse(readFileSync(servers, 'utf8')) as { servers: Record<string, { trust: { kind: string; pin?: { fingerprint256: string } } }> };
    expect(saved.servers[url]?.trust).toMatchObject({ kind: 'pinned', pin: { fingerprint256: fingerprint } });
    expect(readFileSync(servers, 'utf8')).not.toContain(SERVER_PASSWORD);
    expect(await status()).toMatchObject({ connected: { user: 'alice' } });
  });

  it('is pinned only once this process has shown it: a fingerprint the page computed itself, never shown here, is refused and nothing sent', async () => {
    const { router, status, servers } = await desktop();
    const url = team.server.url;
    const before = apiRequests(team.logs);
    // The right fingerprint, but no certificate was shown on this desktop: the comparison was skipped.
    const skipped = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, trustFingerprint: fingerprint });
    expect(errorCode(skipped)).toBe('SERVER_UNTRUSTED');
    if (!skipped.ok) expect(skipped.error.message).not.toContain(SERVER_PASSWORD);
    expect(apiRequests(team.logs)).toBe(before);
    expect(existsSync(servers)).toBe(false);
    expect(await status()).toMatchObject({ connected: null, signIn: null, certificate: null });
    // Shown for another server (an origin the page swaps in afterwards): refused too.
    const shown = ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD })) as TeamStatus;
    expect(shown.certificate).toMatchObject({ server: url, fingerprint });
    const elsewhere = url.replace('127.0.0.1', 'localhost');
    expect(errorCode(await router.call('team.connect', { url: elsewhere, username: 'alice', password: SERVER_PASSWORD, trustFingerprint: fingerprint }))).toBe('SERVER_UNTRUSTED');
    expect(apiRequests(team.logs)).toBe(before);
    expect(existsSync(servers)).toBe(false);
    // The one shown, compared: pinned and signed in.
    expect(ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, trustFingerprint: fingerprint }))).toMatchObject({ connected: { server: url, user: 'alice' } });
  });

  it('shown, cancelled, shown again and compared: the owner registers with the invite and live sync starts (the screen\'s path)', async () => {
    const fresh = await startTeam({ cert, key });
    try {
      const { router } = await desktop();
      const url = fresh.server.url;
      const start = { url, username: 'alice', password: SERVER_PASSWORD, invite: fresh.invite };
      expect((ok(await router.call('team.connect', start)) as TeamStatus).certificate).toMatchObject({ fingerprint });
      expect((ok(await router.call('team.cancel', {})) as TeamStatus).certificate).toBeNull();
      expect((ok(await router.call('team.connect', start)) as TeamStatus).certificate).toMatchObject({ fingerprint });
      const t0 = performance.now();
      expect(ok(await router.call('team.connect', { ...start, trustFingerprint: fingerprint }))).toMatchObject({ connected: { server: url, user: 'alice' } });
      const t1 = performance.now();
      expect(ok(await router.call('team.live', { on: true }))).toMatchObject({ live: true });
      console.log(`router-team: pinned sign-in ${Math.round(t1 - t0)} ms, live on ${Math.round(performance.now() - t1)} ms`);
      ok(await router.call('team.live', { on: false }));
    } finally {
      await fresh.server.close();
    }
  });
});

describe('signing in, syncing and signing out', () => {
  let team: Team;
  let secret = '';
  beforeAll(async () => {
    team = await startTeam();
    // Alice registers with the owner's invite and turns an authenticator on, as another desktop of hers would.
    const { router } = await desktop();
    ok(await router.call('team.connect', { url: team.server.url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite }));
    const client = new TeamClient(new URL(team.server.url), { kind: 'loopback' }, 'router-team-device-01');
    await client.login('alice', SERVER_PASSWORD);
    ({ secret } = await client.call('mfaEnrolStart', {}));
    await client.call('mfaEnrolConfirm', { code: authenticatorCode(secret, team.clock.now()) });
  }, 60_000);
  afterAll(() => team.server.close());

  it('refuses a wrong password and a wrong code, then takes the right code', async () => {
    const { router, status, servers } = await desktop();
    const url = team.server.url;
    const wrong = await router.call('team.connect', { url, username: 'alice', password: 'not her password' });
    expect(errorCode(wrong)).toBe('WRONG_PASSWORD');
    expect(await status()).toMatchObject({ connected: null, signIn: null });
    expect(errorCode(await router.call('team.secondStep', { kind: 'code', code: '123456' }))).toBe('INVALID_INPUT'); // nothing waits for one

    team.clock.advance(60_000);
    const asked = ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD })) as TeamStatus;
    expect(asked.signIn).toEqual({ server: url, user: 'alice', step: 'code' });
    expect(asked.connected).toBeNull();
    const right = authenticatorCode(secret, team.clock.now());
    const wrongCode = right === '000000' ? '111111' : '000000';
    expect(errorCode(await router.call('team.secondStep', { kind: 'code', code: wrongCode }))).toBe('WRONG_CODE');
    expect((await status()).connected).toBeNull();
    expect(existsSync(servers)).toBe(false);
    const done = ok(await router.call('team.secondStep', { kind: 'code', code: right })) as TeamStatus;
    expect(done).toMatchObject({ connected: { server: url, user: 'alice' }, signIn: null });
  });

  it('moves the vault (its owner), syncs, holds live sync until the vault locks, and signs out', async () => {
    const timers = countedTimers();
    const { router, place, status } = await desktop(timers);
    const url = team.server.url;
    team.clock.advance(60_000);
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD }));
    ok(await router.call('team.secondStep', { kind: 'code', code: authenticatorCode(secret, team.clock.now()) }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));

    expect(errorCode(await router.call('team.move', {}))).toBe('INVALID_INPUT'); // confirmed first
    const moved = ok(await router.call('team.move', { confirm: true })) as TeamStatus;
    expect(moved.lastSync).toMatchObject({ ok: true, moved: true, conflictCopies: 0, setAside: 0 });
    expect(moved.lastSync?.ok === true && moved.lastSync.sent).toBeGreaterThan(1);
    expect(moved.progress).toBeNull();
    const synced = ok(await router.call('team.sync', {})) as TeamStatus;
    expect(synced.lastSync).toMatchObject({ ok: true, moved: false, taken: 0, sent: 0 });

    const live = ok(await router.call('team.live', { on: true })) as TeamStatus;
    expect(live.live).toBe(true);
    expect(timers.live.size).toBe(1); // the round for this computer's own changes
    // Locking the vault stops it: no timer left, the stream closed.
    ok(await router.call('session.lock', {}));
    expect(timers.live.size).toBe(0);
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect((await status()).live).toBe(false);

    const out = ok(await router.call('team.signOut', {})) as TeamStatus;
    expect(out.connected).toBeNull();
    expect(await place.keeper.get(url, 'alice')).toBeUndefined();
    expect(errorCode(await router.call('team.sync', {}))).toBe('NOT_FOUND');
  });
});

describe('a large vault moved by its owner', () => {
  let team: Team;
  beforeAll(async () => {
    team = await startTeam();
  }, 60_000);
  afterAll(() => team.server.close());

  it('shows the records sent of the total while it goes, part by part', async () => {
    const dir = folder('large');
    const file = path.join(dir, 'vault.crewvault');
    execFileSync('mkdir', ['-p', dir]);
    const clock = manualClock();
    // The vault's calls are turning async (another change in flight): either shape is awaited.
    const settle = <T>(value: T): Promise<Awaited<T>> => Promise.resolve(value);
    const made = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    const ENTRIES = 2_500;
    await settle(made.createEntries(Array.from({ length: ENTRIES }, (_, i) => ({ customer: `Customer ${i % 40}`, title: `Entry ${i}`, password: `pw-${i}` }))));
    await settle(made.close());
    const place = serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-router-team-large' }, path.join(dir, 'config'));
    const router = new Router({ vaultPath: file, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF, team: { place, confirm: CONFIRMED } });
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    ok(await router.call('team.connect', { url: team.server.url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite }));

    const started = performance.now();
    let done = false;
    const moving = router.call('team.move', { confirm: true }).finally(() => { done = true; });
    // What the screen polls for while the move runs.
    const seen: Array<NonNullable<TeamStatus['progress']>> = [];
    while (!done) {
      const progress = (ok(await router.call('team.status', {})) as TeamStatus).progress;
      if (progress) seen.push(progress);
    }
    const moved = ok(await moving) as TeamStatus;
    const ms = performance.now() - started;
    if (!moved.lastSync?.ok) throw new Error('the move failed');
    const { sent } = moved.lastSync;
    expect(sent).toBeGreaterThan(ENTRIES);
    // Part by part: some polls saw it part way, the count never went back, and the total was the whole vault.
    expect(seen.some((p) => p.moving && p.sent > 0 && p.sent < p.total)).toBe(true);
    expect(seen.every((p, i) => i === 0 || p.sent >= (seen[i - 1]?.sent ?? 0))).toBe(true);
    expect(seen.filter((p) => p.total > 0).every((p) => p.total === sent)).toBe(true);
    expect(moved.progress).toBeNull();
    // A figure for the report (counts and time only).
    console.log(`router-team: moved ${ENTRIES} entries (${sent} records) in ${Math.round(ms)} ms; ${new Set(seen.map((p) => p.sent)).size} distinct progress points seen`);
  }, 120_000);
});

describe('the door\'s question before a move, and the idle lock', () => {
  let team: Team;
  beforeAll(async () => {
    team = await startTeam();
  }, 60_000);
  afterAll(() => team.server.close());

  it('time at the question is idle: unanswered past the idle minutes the vault locks and a late yes moves nothing; answered in time, the move goes on', async () => {
    const dir = folder('asked');
    const clock = manualClock();
    // The person's answer comes after `waitMs` on the vault's clock, the door's idle timer firing meanwhile.
    let waitMs = 0;
    const holder: { router?: Router } = {};
    const confirm = async (): Promise<boolean> => {
      for (let waited = 0; waited < waitMs; waited += 15_000) {
        clock.advance(15_000);
        await holder.router?.checkIdle();
      }
      return true;
    };
    const router = new Router({
      vaultPath: path.join(dir, 'vault.crewvault'), clock, clipboard: { kind: 'page' }, kdf: FAST_KDF,
      team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-router-team-asked' }, path.join(dir, 'config')), confirm: { confirm } },
    });
    holder.router = router;
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme Corp', title: 'VPN', password: 'hunter2!' }));
    ok(await router.call('team.connect', { url: team.server.url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite }));
    waitMs = 11 * 60_000;
    expect(errorCode(await router.call('team.move', { confirm: true }))).toBe('LOCKED');
    expect((ok(await router.call('session.state', {})) as SessionState).user).toBeNull();
    const records = async (): Promise<number> => (await team.server.database.query('SELECT 1 FROM sync_records')).length;
    expect(await records()).toBe(0);

    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    waitMs = 9 * 60_000;
    const moved = ok(await router.call('team.move', { confirm: true })) as TeamStatus;
    // The whole vault went in this move: the late yes had sent none of it.
    expect(moved.lastSync).toMatchObject({ ok: true, moved: true });
    expect(moved.lastSync?.ok === true ? moved.lastSync.sent : 0).toBeGreaterThan(1);
    expect(await records()).toBeGreaterThan(1);
    ok(await router.call('entries.list', {}));
    await router.close();
  }, 60_000);
});

describe('a server that requires an authenticator', () => {
  let team: Team;
  beforeAll(async () => {
    team = await startTeam();
  }, 60_000);
  afterAll(() => team.server.close());

  it('sets one up in the sign-in (key, a wrong code refused, recovery codes), and takes a recovery code next time', async () => {
    const { router, status } = await desktop();
    const url = team.server.url;
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite }));
    // The owner makes an authenticator required for everyone, from another device of hers.
    const client = new TeamClient(new URL(url), { kind: 'loopback' }, 'router-team-device-02');
    await client.login('alice', SERVER_PASSWORD);
    await client.call('mfaPolicySet', { level: 'required' });

    const asked = ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD })) as TeamStatus;
    expect(asked.signIn).toMatchObject({ step: 'enrol' });
    expect(errorCode(await router.call('team.secondStep', { kind: 'code', code: '123456' }))).toBe('MFA_REQUIRED'); // a code before there is an authenticator
    const setup = ok(await router.call('team.enrolStart', {})) as { uri: string; secret: string };
    expect(setup.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(setup.secret).toMatch(/^([A-Z2-7]{4} )*[A-Z2-7]{1,4}$/);
    const right = authenticatorCode(setup.secret, team.clock.now());
    expect(errorCode(await router.call('team.enrolConfirm', { code: right === '000000' ? '111111' : '000000' }))).toBe('WRONG_CODE');
    const done = ok(await router.call('team.enrolConfirm', { code: right })) as { recoveryCodes: string[]; status: TeamStatus };
    expect(done.recoveryCodes).toHaveLength(10);
    expect(done.status).toMatchObject({ connected: { user: 'alice' }, signIn: null });

    team.clock.advance(60_000);
    expect((ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD })) as TeamStatus).signIn).toMatchObject({ step: 'code' });
    const back = ok(await router.call('team.secondStep', { kind: 'recovery', code: done.recoveryCodes[0] ?? '' })) as TeamStatus;
    expect(back).toMatchObject({ connected: { user: 'alice' }, signIn: null });
    // Cancelled half way, a sign-in leaves nothing waiting.
    team.clock.advance(60_000);
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD }));
    expect((ok(await router.call('team.cancel', {})) as TeamStatus).signIn).toBeNull();
    expect(errorCode(await router.call('team.secondStep', { kind: 'code', code: authenticatorCode(setup.secret, team.clock.now()) }))).toBe('INVALID_INPUT');
    expect((await status()).connected).toMatchObject({ user: 'alice' });
  });
});

describe('a computer new to a server that can e-mail', () => {
  it('is asked for the code e-mailed to the person (a wrong one refused), then knows itself next time', async () => {
    const { startMailbox } = await import('../server/mailbox');
    const mailbox = await startMailbox();
    const team = await startTeam();
    try {
      const url = team.server.url;
      // From her first computer, Alice sets the server's SMTP and her own address (which authorises that computer).
      const first = await desktop();
      ok(await first.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite }));
      const profile = first.place.profiles.get(url);
      const tokens = await first.place.keeper.get(url, 'alice');
      if (!profile || !tokens) throw new Error('not signed in');
      const client = new TeamClient(new URL(url), profile.trust, profile.deviceId);
      client.tokens = tokens;
      // A server setting: on the server's machine, with its data folder's key (as crewvault server admin sends it).
      client.localAdminKey = readLocalAdminKey(team.dataDir);
      await client.call('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, password: mailbox.password, from: 'crewvault@example.test' });
      await client.call('contactSet', { email: 'alice@example.test', phone: null });

      // A second computer: its own config and keychain.
      const laptop = await desktop();
      const asked = ok(await laptop.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD })) as TeamStatus;
      expect(asked.signIn).toMatchObject({ step: 'device' });
      expect(asked.signIn?.destination).toMatch(/^al.*@example\.test$/);
      expect(asked.signIn?.destination).not.toBe('alice@example.test'); // masked by the server
      const code = mailbox.codeFor('alice@example.test');
      expect(errorCode(await laptop.router.call('team.secondStep', { kind: 'code', code }))).toBe('MFA_REQUIRED'); // the e-mailed kind is asked for
      expect(errorCode(await laptop.router.call('team.secondStep', { kind: 'email', code: code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA' }))).toBe('WRONG_CODE');
      const done = ok(await laptop.router.call('team.secondStep', { kind: 'email', code })) as TeamStatus;
      expect(done).toMatchObject({ connected: { user: 'alice' }, signIn: null });
      expect(holdsSecret(JSON.stringify(done), code)).toBe(false);
      const sent = mailbox.messages.length;
      // Next time the laptop proves itself with the device token it was given: no code, no mail.
      expect(ok(await laptop.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD }))).toMatchObject({ connected: { user: 'alice' }, signIn: null });
      expect(mailbox.messages.length).toBe(sent);
    } finally {
      await team.server.close();
      await mailbox.close();
    }
  });
});

describe('a server session is the vault user\'s who signed in, and a lock gives up a sign-in under way', () => {
  let team: Team;
  beforeAll(async () => {
    team = await startTeam();
    // Alice registers with the owner's invite from a desktop of hers.
    const { router } = await desktop();
    ok(await router.call('team.connect', { url: team.server.url, username: 'alice', password: SERVER_PASSWORD, invite: team.invite }));
  }, 60_000);
  afterAll(() => team.server.close());

  it('another vault user on the same desktop neither sees, syncs through, watches, moves over nor signs out the owner\'s session', async () => {
    const { router, place, status } = await desktop();
    const url = team.server.url;
    ok(await router.call('users.create', { username: 'bob', role: 'technician', password: 'bob one-time' }));
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));
    expect((ok(await router.call('team.move', { confirm: true })) as TeamStatus).lastSync).toMatchObject({ ok: true, moved: true });
    ok(await router.call('session.lock', {}));

    ok(await router.call('session.signIn', { username: 'bob', password: 'bob one-time' }));
    ok(await router.call('session.changePassword', { current: 'bob one-time', next: 'bob chose this one himself' }));
    const before = team.logs.length;
    // Not his: not shown (nor what the owner's last round did), and nothing reaches the server in his name.
    expect(await status()).toMatchObject({ connected: null, signIn: null, certificate: null, lastSync: null, live: false });
    expect(errorCode(await router.call('team.sync', {}))).toBe('NOT_FOUND');
    expect(errorCode(await router.call('team.live', { on: true }))).toBe('NOT_FOUND');
    expect(errorCode(await router.call('team.move', { confirm: true }))).toBe('FORBIDDEN');
    expect(errorCode(await router.call('team.signOut', {}))).toBe('NOT_FOUND');
    expect(apiRequests(team.logs.slice(before))).toBe(0);
    expect(await place.keeper.get(url, 'alice')).toBeDefined();
    ok(await router.call('session.lock', {}));

    // The owner's session is still hers.
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect((await status()).connected).toMatchObject({ server: url, user: 'alice' });
    expect((ok(await router.call('team.sync', {})) as TeamStatus).lastSync).toMatchObject({ ok: true, moved: false });
  });

  it('a sign-in the vault locked under while the server answered is given up: nothing kept, nothing waiting', async () => {
    const { router, place, status, servers } = await desktop();
    const url = team.server.url;
    let locked = false;
    team.tap = (line) => {
      if (!locked && line.includes('/v1/auth/login/finish')) {
        locked = true;
        router.lock(); // the idle timer, the OS lock screen: while the password's sign-in is on the server
      }
    };
    try {
      const reply = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD });
      expect(locked).toBe(true);
      expect(errorCode(reply)).toBe('LOCKED');
      if (!reply.ok) expect(reply.error.message).not.toContain(SERVER_PASSWORD);
    } finally {
      team.tap = undefined;
    }
    expect(await place.keeper.get(url, 'alice')).toBeUndefined();
    expect(existsSync(servers)).toBe(false);
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(await status()).toMatchObject({ connected: null, signIn: null });
    expect(errorCode(await router.call('team.sync', {}))).toBe('NOT_FOUND');
  });
});

describe('a hostile server on loopback (real HTTP, its answers chosen by the test)', () => {
  let server: Server;
  let answer: (path: string) => string = () => '';
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer(req.url ?? ''));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('cannot send the page to the vault\'s sign-in or change-password screen with words of its own, nor print control characters', async () => {
    const { router, status } = await desktop();
    for (const code of ['LOCKED', 'PASSWORD_CHANGE_REQUIRED'] as const) {
      const said = 'Your vault was locked by IT.\u001b[2J Type your vault password at https://evil.example';
      answer = () => JSON.stringify({ ok: false, error: { code, message: said } });
      const reply = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD });
      // The Team server screen's own error: the app does not lock or ask for a new vault password.
      expect(errorCode(reply), code).toBe('SERVER_UNREACHABLE');
      if (!reply.ok) {
        expect(reply.error.message).not.toMatch(/\p{C}/u);
        expect(reply.error.message).not.toContain(SERVER_PASSWORD);
      }
      expect((ok(await router.call('session.state', {})) as { user: unknown }).user).not.toBeNull();
    }
    expect(await status()).toMatchObject({ connected: null, signIn: null });
  });

  it('a reply larger than the client takes is refused, not held', async () => {
    const { router } = await desktop();
    const huge = `{"ok":false,"error":{"code":"INTERNAL","message":"${'x'.repeat(17 * 1024 * 1024)}"}}`;
    answer = () => huge;
    const reply = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD });
    expect(errorCode(reply)).toBe('SERVER_UNREACHABLE');
    if (!reply.ok) expect(reply.error.message.length).toBeLessThan(400);
  });
});
