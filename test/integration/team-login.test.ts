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

async function startTeam(tls: Certificate | undefined, reuse?: { dataDir: string; port: number; clock: ReturnType<typeof testClock>; config: string }): Promise<Team> {
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
  });
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
    await client.login('olive', PASSWORD, undefined);
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
      expect(registered.stderr).toBe('Registered carol on 127.0.0.1:' + url.port + '.\n');
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
    const team = await startTeam(undefined);
    try {
      const env = { ...team.env, ...keyring.env };
      const registered = await crewvaultStreamed(['login', team.server.url, '--user', 'dave', '--invite-file', path.join(team.dataDir, 'owner-invite.txt')], { input: [`${PASSWORD}\n`], env: { ...process.env, ...env } });
      expect(registered.status, registered.stderr).toBe(0);
      // The server's clock is hours behind the processes' own, so every process finds the
      // access token expired and refreshes: without the lock, two would spend one refresh
      // token and the server would end the session.
      for (let round = 0; round < 3; round++) {
        const runs = await Promise.all(Array.from({ length: 4 }, () => crewvaultStreamed(['whoami'], { env: { ...process.env, ...env } })));
        for (const run of runs) expect(run.status, run.stderr).toBe(0);
      }
    } finally {
      await team.server.close();
    }
  });
});
