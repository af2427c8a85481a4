// The door's own confirmation before a certificate is pinned or a vault moved (electron/team/confirm.ts,
// SECURITY.md "From the app"). A router over a real vault file, a real team server (server/main.ts on
// PGlite) over TLS with a certificate openssl made, sessions in a private Secret Service: the page's
// "confirm" (the fingerprint it sends back, team.move's confirm: true) pins nothing and moves nothing
// unless the port says yes to that very question, which names the host and the fingerprint; without a
// port, nothing happens either. And the browser host's port: a question on its terminal (a real stream)
// answered only by the line typed after it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamStatus } from '../../shared/api/team-contract';
import { terminalConfirmations, type TrustConfirmations, type TrustQuestion } from '../../electron/team/confirm';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { startServer, type RunningServer } from '../../server/main';
import { testClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { errorCode, ok } from '../support/router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'alice on the team server 1';
let keyring: PrivateKeyring;
let home: string;
let fingerprint = '';
let server: RunningServer;
const logs: string[] = [];

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-trust-confirm-'));
  const cert = path.join(home, 'server.pem');
  const key = path.join(home, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=crewvault test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim().split('=')[1] ?? '';
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', tlsCert: cert, tlsKey: key, now: testClock().now, version: 'test', log: { write: (line) => { logs.push(line); } } });
}, 60_000);
afterAll(async () => {
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** A port whose answer the test sets, keeping every question it was asked. */
function port(answer: boolean): TrustConfirmations & { answer: boolean; readonly asked: TrustQuestion[] } {
  const asked: TrustQuestion[] = [];
  const held = { answer, asked, confirm: (q: TrustQuestion) => { asked.push(q); return Promise.resolve(held.answer); } };
  return held;
}

let desktops = 0;
async function desktop(confirm: TrustConfirmations | undefined) {
  const dir = path.join(home, `desktop-${desktops++}`);
  const router = new Router({
    vaultPath: path.join(dir, 'vault.crewvault'), clock: manualClock(), clipboard: { kind: 'page' }, kdf: FAST_KDF,
    team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: `crewvault-trust-confirm-${desktops}` }, path.join(dir, 'config')), ...(confirm ? { confirm } : {}) },
  });
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  return { router, servers: path.join(dir, 'config', 'servers.json') };
}

const apiRequests = (): number => logs.filter((line) => line.includes('"/v1/')).length;

describe('the door confirms, not the page', () => {
  it('pins a certificate only when the port says yes to its host and fingerprint, and moves a vault only then', async () => {
    const url = server.url;
    const invite = readFileSync(server.ownerInviteFile ?? '', 'utf8').trim();
    // No port: the page's comparison alone pins nothing and sends nothing.
    const bare = await desktop(undefined);
    expect((ok(await bare.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite })) as TeamStatus).certificate).toMatchObject({ fingerprint });
    expect(errorCode(await bare.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint }))).toBe('SERVER_UNTRUSTED');
    expect(existsSync(bare.servers)).toBe(false);
    expect(apiRequests()).toBe(0);

    // A port that says no: asked with the host and the very fingerprint, nothing pinned or sent.
    const asker = port(false);
    const { router, servers } = await desktop(asker);
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite }));
    const refused = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint });
    expect(errorCode(refused)).toBe('SERVER_UNTRUSTED');
    expect(asker.asked).toEqual([expect.objectContaining({ kind: 'pin-certificate', server: url, fingerprint })]);
    expect(existsSync(servers)).toBe(false);
    expect(apiRequests()).toBe(0);

    // Yes: pinned and signed in (the page compared, the door confirmed).
    asker.answer = true;
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite }));
    expect(ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint }))).toMatchObject({ connected: { server: url, user: 'alice' } });
    expect(JSON.parse(readFileSync(servers, 'utf8'))).toMatchObject({ servers: { [url]: { trust: { kind: 'pinned', pin: { fingerprint256: fingerprint } } } } });

    // The page confirms the move; the port says no: nothing of the vault reaches the server.
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));
    asker.answer = false;
    expect(errorCode(await router.call('team.move', { confirm: true }))).toBe('FORBIDDEN');
    expect(asker.asked.at(-1)).toEqual({ kind: 'move-vault', server: url, certificate: `pinned, SHA-256 ${fingerprint}` });
    expect(await server.database.query('SELECT 1 FROM sync_records')).toHaveLength(0);
    asker.answer = true;
    expect((ok(await router.call('team.move', { confirm: true })) as TeamStatus).lastSync).toMatchObject({ ok: true, moved: true });
    expect((await server.database.query('SELECT 1 FROM sync_records')).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('the browser host\'s terminal confirmation', () => {
  const question: TrustQuestion = { kind: 'pin-certificate', server: 'https://vault.example.com:8443', fingerprint: 'AB:CD', subject: 'CN=vault', validTo: Date.UTC(2027, 0, 1) };

  it('asks on the terminal with the host and fingerprint, and takes only the question\'s own word typed after it', async () => {
    const input = new PassThrough();
    const written: string[] = [];
    const terminal = terminalConfirmations(input, (text) => written.push(text));
    // Typed ahead, before any question: dropped.
    const tick = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
    input.write('yes\n');
    await tick();
    const first = terminal.confirm(question);
    await tick();
    expect(written.join('')).toContain('vault.example.com:8443');
    expect(written.join('')).toContain('AB:CD');
    input.write('y\n');
    expect(await first).toBe(false);
    // "yes" is not the answer: only the question's own random word is.
    const wordOf = (): string => /type the word ([a-z]+) and Enter/.exec(written.join('').split('anything else to refuse').at(-2) ?? '')?.[1] ?? '';
    const second = terminal.confirm({ kind: 'move-vault', server: 'https://vault.example.com', certificate: 'pinned, SHA-256 AB:CD' });
    await tick();
    input.write('yes\n');
    expect(await second).toBe(false);
    const fourth = terminal.confirm({ kind: 'move-vault', server: 'https://vault.example.com', certificate: 'pinned, SHA-256 AB:CD' });
    await tick();
    expect(wordOf()).toMatch(/^[a-z]{5}$/);
    input.write(`${wordOf()}\n`);
    expect(await fourth).toBe(true);
    // The terminal's input ends: a question then waiting, and any after, are no.
    const third = terminal.confirm(question);
    await tick();
    input.end();
    expect(await third).toBe(false);
    expect(await terminal.confirm(question)).toBe(false);
  });
});
