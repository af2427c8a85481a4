// `crewvault login / whoami / logout` against a real team server (server/main.ts on PGlite)
// over real TLS on loopback, with certificates made by openssl and a private Secret Service
// for the session's tokens. The fingerprint a person is asked to compare is checked against
// openssl's own; a certificate swapped behind a pin is refused before any request reaches the
// server (its request log is read to prove it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { SessionKeeper } from '../../electron/team/profiles';
import { parseServerUrl, presentedCertificate, send } from '../../electron/team/transport';
import { startServer, type RunningServer } from '../../server/main';
import { readLocalAdminKey } from '../../server/settings/local-only';
import { authenticatorCode, testClock } from '../server/support';
import { crewvaultStreamed } from '../support/cli-stream';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { runScripted } from '../support/scripted-cli';

const KEYCHAIN = 'crewvault-server-test';
const PASSWORD = 'a long team password 1';
const dirs: string[] = [];
let keyring: PrivateKeyring;

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crewvault-login-'));
  dirs.push(dir);
  return dir;
}

beforeAll(() => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env); // keytar finds the bus through the environment
});
afterAll(() => {
  keyring.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Certificate { readonly cert: string; readonly key: string; readonly fingerprint: string }

function opensslFingerprint(cert: string): string {
  // "sha256 Fingerprint=AB:CD:…" (the independent oracle for what the person compares)
  return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim().split('=')[1] ?? '';
}

function selfSigned(dir: string, name = 'server'): Certificate {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=crewvault test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  return { cert, key, fingerprint: opensslFingerprint(cert) };
}

/** A private authority and a certificate for 127.0.0.1 it issued. */
function issuedByAuthority(dir: string): Certificate & { readonly ca: string } {
  const ca = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=crewvault test CA'], { stdio: 'pipe' });
  const key = path.join(dir, 'leaf.key');
  const csr = path.join(dir, 'leaf.csr');
  const cert = path.join(dir, 'leaf.pem');
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
  const ext = path.join(dir, 'leaf.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`]);
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], { stdio: 'pipe' });
  return { cert, key, ca, fingerprint: opensslFingerprint(cert) };
}

interface Team {
  readonly server: RunningServer;
  readonly dataDir: string;
  readonly logs: string[];
  readonly clock: ReturnType<typeof testClock>;
  readonly env: NodeJS.ProcessEnv;
  readonly invite: string;
}

async function startTeam(tls: Certificate | undefined, reuse?: { dataDir?: string; port?: number; clock?: ReturnType<typeof testClock>; config?: string }): Promise<Team> {
  const dataDir = reuse?.dataDir ?? path.join(tempDir(), 'server');
  const logs: string[] = [];
  const clock = reuse?.clock ?? testClock();
  const server = await startServer({
    dataDir, listen: `127.0.0.1:${reuse?.port ?? 0}`, tlsCert: tls?.cert, tlsKey: tls?.key, now: clock.now, log: { write: (line) => logs.push(line) }, version: 'test',
  });
  const invite = server.ownerInviteFile === undefined ? '' : readFileSync(server.ownerInviteFile, 'utf8').trim();
  return { server, dataDir, logs, clock, invite, env: { CREWVAULT_CONFIG: reuse?.config ?? path.join(tempDir(), 'config'), CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN } };
}

/** Requests the server logged under /v1 (what reached it, beyond a health check). */
function apiRequests(logs: readonly string[]): number {
  return logs.filter((line) => line.includes('"/v1/')).length;
}

/** Whether text holds what rewrites a terminal: BEL, ESC, or a right-to-left override. */
function hasEscape(text: string): boolean {
  return [...text].some((c) => c === '\u0007' || c === '\u001b' || c === '\u202e');
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

describe('server addresses', () => {
  it('takes https:// anywhere and http:// only to this computer, origin only', () => {
    expect(parseServerUrl('https://vault.example.com').origin).toBe('https://vault.example.com');
    expect(parseServerUrl('http://127.0.0.1:8443').origin).toBe('http://127.0.0.1:8443');
    expect(parseServerUrl('http://[::1]:8443').origin).toBe('http://[::1]:8443');
    expect(parseServerUrl('http://localhost:1').origin).toBe('http://localhost:1');
    for (const [text, code] of [
      ['http://10.0.0.5:8443', 'INSECURE_SERVER'], ['http://vault.example.com', 'INSECURE_SERVER'], ['http://127.example.com', 'INSECURE_SERVER'],
      ['ftp://vault.example.com', 'INVALID_INPUT'], ['https://u:p@vault.example.com', 'INVALID_INPUT'], ['https://vault.example.com/x', 'INVALID_INPUT'],
      ['https://vault.example.com/?a=1', 'INVALID_INPUT'], ['not a url', 'INVALID_INPUT'],
    ] as const) {
      expect(() => parseServerUrl(text), text).toThrow(expect.objectContaining({ code }));
    }
  });

  it('refuses plain http to another address from the CLI before anything is read or sent', async () => {
    const config = tempDir();
    const out = await runScripted(['login', 'http://10.255.255.1:8443', '--user', 'ann'], [], testClock(), { CREWVAULT_CONFIG: config });
    expect(out.code).toBe('INSECURE_SERVER');
    expect(() => statSync(path.join(config, 'servers.json'))).toThrow();
  });
});

describe('a server whose certificate no authority vouches for', () => {
  let team: Team;
  let first: Certificate;
  /** Olive's authenticator key, once she has one. */
  let secret = '';
  beforeAll(async () => {
    first = selfSigned(tempDir());
    team = await startTeam(first);
  }, 60_000);
  afterAll(() => team.server.close());

  it('is refused with the fingerprint openssl prints, and nothing is sent or kept', async () => {
    const out = await runScripted(['login', team.server.url, '--user', 'olive', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], [PASSWORD], team.clock, team.env);
    expect(out.code).toBe('SERVER_UNTRUSTED');
    expect(out.stderr).toContain(first.fingerprint);
    expect(apiRequests(team.logs)).toBe(0);
    expect(() => statSync(path.join(team.env.CREWVAULT_CONFIG ?? '', 'servers.json'))).toThrow();
    // A fingerprint that is not the server's is refused too.
    const wrong = first.fingerprint.replace(/^../, first.fingerprint.startsWith('00') ? '11' : '00');
    const mismatch = await runScripted(['login', team.server.url, '--user', 'olive', '--trust', wrong], [PASSWORD], team.clock, team.env);
    expect(mismatch.code).toBe('SERVER_UNTRUSTED');
    expect(apiRequests(team.logs)).toBe(0);
  });

  it('is pinned with --trust: register, whoami, and the session kept in the keychain, never in the file', async () => {
    const inviteFile = path.join(team.dataDir, 'owner-invite.txt');
    const out = await runScripted(['login', team.server.url, '--user', 'olive', '--invite-file', inviteFile, '--trust', first.fingerprint.replaceAll(':', '').toLowerCase()], [PASSWORD], team.clock, team.env);
    expect(out.code, out.stderr).toBe('ok');
    expect(out.stdout).toBe(`Signed in to ${team.server.url} as olive (owner).\n`);
    const file = path.join(team.env.CREWVAULT_CONFIG ?? '', 'servers.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = readFileSync(file, 'utf8');
    expect(saved).toContain(first.fingerprint);
    const tokens = await new SessionKeeper(keychainDeviceStore(KEYCHAIN)).get(team.server.url, 'olive');
    expect(tokens?.refreshToken).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    for (const secret of [PASSWORD, team.invite, tokens?.refreshToken ?? 'x', tokens?.accessToken ?? 'x']) {
      expect(saved).not.toContain(secret);
      expect(out.stdout + out.stderr).not.toContain(secret);
      expect(team.logs.join('\n')).not.toContain(secret);
    }
    const who = await runScripted(['whoami', '--json'], [], team.clock, team.env);
    expect(who.code, who.stderr).toBe('ok');
    expect(JSON.parse(who.stdout)).toMatchObject({ server: team.server.url, user: { username: 'olive', role: 'owner' }, secondStep: 'done' });
  });

  it('a wrong password is WRONG_PASSWORD and keeps nothing', async () => {
    const keeper = new SessionKeeper(keychainDeviceStore(KEYCHAIN));
    const before = await keeper.get(team.server.url, 'olive');
    const out = await runScripted(['login', team.server.url], ['not the password'], team.clock, team.env);
    expect(out.code).toBe('WRONG_PASSWORD');
    expect(await keeper.get(team.server.url, 'olive')).toEqual(before);
  });

  it('asks for the authenticator once the person has one, and takes a recovery code instead', async () => {
    // Olive turns on an authenticator through the contract, as the desktop would.
    const profile = JSON.parse(readFileSync(path.join(team.env.CREWVAULT_CONFIG ?? '', 'servers.json'), 'utf8')) as { servers: Record<string, { trust: { kind: 'pinned'; pin: { fingerprint256: string; pem: string } } }> };
    const trust = profile.servers[team.server.url]?.trust;
    if (!trust) throw new Error('no profile');
    const client = new TeamClient(new URL(team.server.url), trust, 'test-device-0000000001');
    await client.login('olive', PASSWORD);
    ({ secret } = await client.call('mfaEnrolStart', {}));
    const { recoveryCodes } = await client.call('mfaEnrolConfirm', { code: authenticatorCode(secret, team.clock.now()) });

    team.clock.advance(60_000);
    const wrongCode = await runScripted(['login', team.server.url, '--code', '-'], [PASSWORD, '000000'], team.clock, team.env);
    expect(['WRONG_CODE', 'TOO_MANY_ATTEMPTS']).toContain(wrongCode.code);
    team.clock.advance(60_000);
    const good = await runScripted(['login', team.server.url], [PASSWORD, authenticatorCode(secret, team.clock.now())], team.clock, team.env);
    expect(good.code, good.stderr).toBe('ok');
    const recovery = await runScripted(['login', team.server.url, '--recovery-code', '-'], [PASSWORD, recoveryCodes[0] ?? ''], team.clock, team.env);
    expect(recovery.code, recovery.stderr).toBe('ok');
    expect(recovery.stdout + recovery.stderr).not.toContain(recoveryCodes[0]);
  });

  it('a certificate swapped behind the pin is refused before any request reaches the server; --trust pins the new one', async () => {
    const port = portOf(team.server.url);
    await team.server.close();
    const second = selfSigned(tempDir(), 'replaced');
    team = await startTeam(second, { dataDir: team.dataDir, port, clock: team.clock, config: team.env.CREWVAULT_CONFIG ?? '' });
    const refused = await runScripted(['whoami'], [], team.clock, team.env);
    expect(refused.code).toBe('SERVER_CERT_CHANGED');
    const again = await runScripted(['login', team.server.url], [PASSWORD], team.clock, team.env);
    expect(again.code).toBe('SERVER_CERT_CHANGED');
    expect(apiRequests(team.logs)).toBe(0);
    // The administrator says the certificate was replaced, and reads out the new fingerprint.
    team.clock.advance(60_000);
    const repinned = await runScripted(['login', team.server.url, '--trust', second.fingerprint], [PASSWORD, authenticatorCode(secret, team.clock.now())], team.clock, team.env);
    expect(repinned.code, repinned.stderr).toBe('ok');
    expect(repinned.stderr).toContain(`Pinned 127.0.0.1:${port}'s certificate ${second.fingerprint}`);
    const who = await runScripted(['whoami'], [], team.clock, team.env);
    expect(who.stdout).toMatch(/^olive \(owner\) on https:\/\/127\.0\.0\.1:\d+, signed in since /);
  });

  it('logout ends the session on the server: the kept refresh token no longer works', async () => {
    const keeper = new SessionKeeper(keychainDeviceStore(KEYCHAIN));
    const profile = JSON.parse(readFileSync(path.join(team.env.CREWVAULT_CONFIG ?? '', 'servers.json'), 'utf8')) as { servers: Record<string, { deviceId: string; trust: { kind: 'pinned'; pin: { fingerprint256: string; pem: string } } }> };
    const entry = profile.servers[team.server.url];
    if (!entry) throw new Error('no profile');
    const client = new TeamClient(new URL(team.server.url), entry.trust, entry.deviceId);
    const kept = await keeper.get(team.server.url, 'olive');
    const out = await runScripted(['logout'], [], team.clock, team.env);
    expect(out.code, out.stderr).toBe('ok');
    expect(await keeper.get(team.server.url, 'olive')).toBeUndefined();
    if (kept) await expect(client.refresh(kept)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const who = await runScripted(['whoami'], [], team.clock, team.env);
    expect(who.code).toBe('NOT_FOUND');
  });
});

describe('a server vouched for by an authority', () => {
  it('needs no pin, checks the host name, and a real CLI process trusts NODE_EXTRA_CA_CERTS', async () => {
    const dir = tempDir();
    const issued = issuedByAuthority(dir);
    const team = await startTeam(issued);
    try {
      const url = new URL(team.server.url);
      const ca = readFileSync(issued.ca, 'utf8');
      expect((await presentedCertificate(url)).vouched).toBe(false);
      expect((await presentedCertificate(url, { extraAuthorities: [ca] })).vouched).toBe(true);
      expect((await send(url, { kind: 'authority' }, 'GET', '/health', undefined, {}, { extraAuthorities: [ca] })).status).toBe(200);
      // The name checked is the one in the URL: "localhost" is not in this certificate.
      await expect(send(new URL(`https://localhost:${url.port}`), { kind: 'authority' }, 'GET', '/health', undefined, {}, { extraAuthorities: [ca] })).rejects.toMatchObject({ code: 'SERVER_UNTRUSTED' });
      await expect(send(url, { kind: 'authority' }, 'GET', '/health', undefined, {})).rejects.toMatchObject({ code: 'SERVER_UNTRUSTED' });

      const env = { ...team.env, ...keyring.env, NODE_EXTRA_CA_CERTS: issued.ca };
      const registered = await crewvaultStreamed(['login', team.server.url, '--user', 'carol', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], { input: [`${PASSWORD}\n`], env: { ...process.env, ...env } });
      // Registering also shows the fingerprint of the account's key, to read to the owner who binds it (#15, team join).
      expect(registered.stderr).toMatch(new RegExp(`^Registered carol on 127\\.0\\.0\\.1:${url.port}\\.\nYour account's key fingerprint is [0-9a-f]{4}( [0-9a-f]{4}){7}: [^\n]+\n$`));
      expect(registered.status).toBe(0);
      const saved = JSON.parse(readFileSync(path.join(team.env.CREWVAULT_CONFIG ?? '', 'servers.json'), 'utf8')) as { servers: Record<string, { trust: { kind: string } }> };
      expect(saved.servers[team.server.url]?.trust).toEqual({ kind: 'authority' });
    } finally {
      await team.server.close();
    }
  });
});

describe('one refresh at a time', () => {
  it('whoami run by several processes at once keeps the session (each refresh waits its turn)', async () => {
    // The server's clock three hours behind the processes' own (whatever today is): every
    // process finds its access token expired and refreshes, while the refresh token is good.
    const team = await startTeam(undefined, { clock: testClock(Date.now() - 3 * 3_600_000) });
    try {
      const env = { ...team.env, ...keyring.env };
      const registered = await crewvaultStreamed(['login', team.server.url, '--user', 'dave', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], { input: [`${PASSWORD}\n`], env: { ...process.env, ...env } });
      expect(registered.status, registered.stderr).toBe(0);
      // Without the lock, two would spend one refresh token and the server would end the session.
      for (let round = 0; round < 3; round++) {
        const runs = await Promise.all(Array.from({ length: 4 }, () => crewvaultStreamed(['whoami'], { env: { ...process.env, ...env } })));
        for (const run of runs) expect(run.status, run.stderr).toBe(0);
      }
    } finally {
      await team.server.close();
    }
  });
});

describe('what a hostile or changed server, or a changed config, can do', () => {
  it('a server set up anew at the same address does not get a registration record unless the person says so', async () => {
    const first = await startTeam(undefined);
    const port = portOf(first.server.url);
    const env = first.env;
    const registered = await runScripted(['login', first.server.url, '--user', 'erin', '--invite-file', path.join(first.dataDir, 'owner-invite.txt')], [PASSWORD], first.clock, env);
    expect(registered.code, registered.stderr).toBe('ok');
    await first.server.close();
    // Another server (other keys, other data) answers at the same address.
    const second = await startTeam(undefined, { port, config: env.CREWVAULT_CONFIG });
    try {
      const invite = path.join(second.dataDir, 'owner-invite.txt');
      const refused = await runScripted(['login', second.server.url, '--user', 'erin', '--invite-file', invite], [PASSWORD], second.clock, env);
      expect(refused.code).toBe('SERVER_UNTRUSTED');
      expect(second.logs.filter((line) => line.includes('/v1/auth/register/finish'))).toEqual([]);
      const accepted = await runScripted(['login', second.server.url, '--user', 'erin', '--invite-file', invite, '--new-server'], [PASSWORD], second.clock, env);
      expect(accepted.code, accepted.stderr).toBe('ok');
    } finally {
      await second.server.close();
    }
  });

  it('logout while the server cannot be reached still takes the session off this computer, and says the server was not told', async () => {
    const team = await startTeam(undefined);
    const registered = await runScripted(['login', team.server.url, '--user', 'finn', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], [PASSWORD], team.clock, team.env);
    expect(registered.code, registered.stderr).toBe('ok');
    await team.server.close();
    const out = await runScripted(['logout'], [], team.clock, team.env);
    expect(out.code).toBe('SERVER_UNREACHABLE');
    expect(out.message).toMatch(/signed out on this computer/);
    expect(await new SessionKeeper(keychainDeviceStore(KEYCHAIN)).get(team.server.url, 'finn')).toBeUndefined();
  });

  it('a second person signing in on this computer ends the first one\'s session on the server too', async () => {
    const team = await startTeam(undefined);
    try {
      const owner = await runScripted(['login', team.server.url, '--user', 'gina', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], [PASSWORD], team.clock, team.env);
      expect(owner.code, owner.stderr).toBe('ok');
      const keeper = new SessionKeeper(keychainDeviceStore(KEYCHAIN));
      const ginas = await keeper.get(team.server.url, 'gina');
      if (!ginas) throw new Error('no session kept');
      // Gina invites Hal (through her session, on this computer's device), who then signs in here.
      const { ServerProfiles } = await import('../../electron/team/profiles');
      const device = new ServerProfiles(team.env.CREWVAULT_CONFIG ?? '').get(team.server.url)?.deviceId ?? '';
      const client = new TeamClient(new URL(team.server.url), { kind: 'loopback' }, device);
      client.tokens = ginas;
      const { invite } = await client.call('inviteCreate', { username: 'hal', role: 'member' });
      const hal = await runScripted(['login', team.server.url, '--user', 'hal', '--invite', '-'], [invite, PASSWORD], team.clock, team.env);
      expect(hal.code, hal.stderr).toBe('ok');
      expect(await keeper.get(team.server.url, 'gina')).toBeUndefined();
      await expect(client.refresh(ginas)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    } finally {
      await team.server.close();
    }
  });

  it('a server\'s words reach the terminal without escape sequences', async () => {
    // A loopback server that answers like a Crewvault server, with a name built to rewrite the screen.
    const { createServer } = await import('node:http');
    const hostile = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      const user = { id: 'a'.repeat(32), username: 'olive\u001b]0;owned\u0007\u001b[2J\u202eFAKE', role: 'owner' };
      response.end(JSON.stringify(request.url === '/v1/auth/session'
        ? { ok: true, value: { user, sessionId: 's', deviceId: 'd', authenticatedAt: 0, accessExpiresAt: 0, secondStep: 'done' } }
        : { ok: false, error: { code: 'UNAUTHORIZED', message: 'no\u001b[2J more\u202e' } }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const address = hostile.address();
      if (typeof address !== 'object' || address === null) throw new Error('no address');
      const origin = `http://127.0.0.1:${address.port}`;
      const config = tempDir();
      const { ServerProfiles } = await import('../../electron/team/profiles');
      new ServerProfiles(config).save(origin, { username: 'olive', userId: 'a'.repeat(32), deviceId: 'device-000000000001', trust: { kind: 'loopback' }, serverKey: 'k', signedInAt: 0 });
      const clock = testClock();
      await new SessionKeeper(keychainDeviceStore(KEYCHAIN)).set(origin, 'olive', { accessToken: 'a'.repeat(20), accessExpiresAt: clock.now() + 600_000, refreshToken: 'r'.repeat(20), refreshExpiresAt: clock.now() + 600_000 });
      const out = await runScripted(['whoami'], [], clock, { CREWVAULT_CONFIG: config, CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN });
      expect(out.code).toBe('ok');
      expect(hasEscape(out.stdout + out.stderr)).toBe(false);
      expect(out.stdout).toMatch(/^olive \]0;owned \[2J FAKE \(owner\)/);
      const logout = await runScripted(['logout'], [], clock, { CREWVAULT_CONFIG: config, CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN });
      expect(hasEscape(logout.stdout + logout.stderr)).toBe(false);
    } finally {
      hostile.close();
    }
  });

  it('a config folder others can write, or a server list that is a link, is not trusted', async () => {
    const { chmodSync, mkdirSync, symlinkSync, writeFileSync } = await import('node:fs');
    const open = tempDir();
    chmodSync(open, 0o777);
    const out = await runScripted(['whoami'], [], testClock(), { CREWVAULT_CONFIG: open, CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN });
    expect(out.code).toBe('VAULT_TAMPERED');
    const linked = path.join(tempDir(), 'config');
    mkdirSync(linked, { mode: 0o700 });
    const elsewhere = path.join(tempDir(), 'planted.json');
    writeFileSync(elsewhere, JSON.stringify({ version: 1, current: null, servers: {} }));
    symlinkSync(elsewhere, path.join(linked, 'servers.json'));
    expect((await runScripted(['whoami'], [], testClock(), { CREWVAULT_CONFIG: linked, CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN })).code).toBe('VAULT_TAMPERED');
  });

  it('a profile changed on disk cannot send a token in clear to another machine', async () => {
    await expect(send(new URL('http://192.0.2.2:8443'), { kind: 'loopback' }, 'GET', '/v1/auth/session', undefined, { authorization: 'Bearer x' })).rejects.toMatchObject({ code: 'INSECURE_SERVER' });
  });

  it('a lock left by a process that died, or dated in the future, does not wedge sign-in', async () => {
    const { utimesSync, writeFileSync } = await import('node:fs');
    const { withServerLock } = await import('../../electron/team/profiles');
    const dir = tempDir();
    const origin = 'https://vault.example.test';
    const lock = path.join(dir, `.lock-${Buffer.from(origin).toString('base64url')}`);
    // A pid that is not running: the shell that printed it has exited.
    const dead = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
    writeFileSync(lock, `${dead} left-behind`, { mode: 0o600 });
    const waits: number[] = [];
    expect(await withServerLock(dir, origin, () => Promise.resolve('ran'), (ms) => { waits.push(ms); return Promise.resolve(); })).toBe('ran');
    expect(waits).toEqual([]);
    // A live holder's lock stands (this test's own pid), however old; it is waited on.
    writeFileSync(lock, `${process.pid} someone-else`, { mode: 0o600 });
    utimesSync(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    let rounds = 0;
    const clockNow = { t: Date.now() };
    await expect(withServerLock(dir, origin, () => Promise.resolve('ran'), () => { rounds++; clockNow.t += 60_000; return Promise.resolve(); }, () => clockNow.t)).rejects.toMatchObject({ code: 'BUSY' });
    expect(rounds).toBeGreaterThan(0);
    // Dated in the future (a clock set back): taken over.
    utimesSync(lock, new Date(Date.now() + 86_400_000), new Date(Date.now() + 86_400_000));
    expect(await withServerLock(dir, origin, () => Promise.resolve('ran again'))).toBe('ran again');
  });
});

describe('a computer new to a server that can e-mail', () => {
  it('is asked once for the code e-mailed to the person, then proves itself with the device token it was given', async () => {
    const { startMailbox } = await import('../server/mailbox');
    const mailbox = await startMailbox();
    const team = await startTeam(undefined);
    try {
      const registered = await runScripted(['login', team.server.url, '--user', 'ivy', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], [PASSWORD], team.clock, team.env);
      expect(registered.code, registered.stderr).toBe('ok');
      // Ivy, from this first computer, sets the server's SMTP and her own address (which authorises it).
      const { ServerProfiles } = await import('../../electron/team/profiles');
      const profile = new ServerProfiles(team.env.CREWVAULT_CONFIG ?? '').get(team.server.url);
      const tokens = await new SessionKeeper(keychainDeviceStore(KEYCHAIN)).get(team.server.url, 'ivy');
      if (!profile || !tokens) throw new Error('not signed in');
      const client = new TeamClient(new URL(team.server.url), profile.trust, profile.deviceId);
      client.tokens = tokens;
      // A server setting: on the server's machine, with its data folder's key (as crewvault server admin sends it).
      client.localAdminKey = readLocalAdminKey(team.dataDir);
      await client.call('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, password: mailbox.password, from: 'crewvault@example.test' });
      await client.call('contactSet', { email: 'ivy@example.test', phone: null });
      // A second computer: its own config and keychain.
      const laptop = { CREWVAULT_CONFIG: path.join(tempDir(), 'laptop'), CREWVAULT_KEYCHAIN_SERVICE: `${KEYCHAIN}-laptop` };
      const first = await runScripted(['login', team.server.url, '--user', 'ivy'], [PASSWORD, () => mailbox.codeFor('ivy@example.test')], team.clock, laptop);
      expect(first.code, first.stderr).toBe('ok');
      expect(first.stderr).toMatch(/a code was e-mailed to iv.*@example\.test/);
      expect(first.stdout + first.stderr).not.toContain(mailbox.codeFor('ivy@example.test'));
      const sent = mailbox.messages.length;
      // Next time the laptop is known: no code, no mail.
      const again = await runScripted(['login', team.server.url], [PASSWORD], team.clock, laptop);
      expect(again.code, again.stderr).toBe('ok');
      expect(mailbox.messages.length).toBe(sent);
    } finally {
      await team.server.close();
      await mailbox.close();
    }
  });
});
