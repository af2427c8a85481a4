/**
 * Server settings from this machine only (issue #14, finPOWER's "Allow local access only"):
 * every route the contract marks `local` (SMTP, SMS, the server's status) is refused with
 * FORBIDDEN, changing nothing, to a request whose socket comes from another address — here
 * 127.0.0.2, a second loopback address Linux accepts as a source, which the server must not
 * take for itself — or that a proxy relayed (a forwarding header), and answered from
 * 127.0.0.1. With --allow-remote-admin the same call from 127.0.0.2 succeeds, the start warns
 * on stderr in one line and the server's audit records it. Real HTTP on PostgreSQL and PGlite;
 * the flag is tested on the real `crewvault server` process.
 */
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_HEADER, LOCAL_ADMIN_HEADER, SERVER_ROUTES, type ServerRouteName } from '../../shared/api/server-contract';
import { verifyAudit } from '../../server/audit';
import { loadOrCreateServerKeys } from '../../server/keys';
import { isFromThisMachine, LOCAL_ADMIN_KEY_FILE } from '../../server/settings/local-only';
import { openPglite, openPostgres, text, type Database } from '../../server/store/db';
import { OWNER_INVITE_FILE } from '../../server/main';
import { DATABASE_KINDS, useTestDatabases, type DatabaseKind } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, uniqueName, uniquePassword, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const LOCAL_ROUTES = (Object.keys(SERVER_ROUTES) as ServerRouteName[]).filter((name) => SERVER_ROUTES[name].local === true);
const SMTP = { host: '127.0.0.1', port: 2525, security: 'none', username: 'crewvault', password: 'smtp-secret-9c1e', from: 'crewvault@example.test' } as const;

interface Reply { readonly status: number; readonly body: { ok: boolean; value?: unknown; error?: { code: string; message: string } } }

/** One request from a chosen source address (the socket's), with the person's session. */
function callFrom(localAddress: string, url: string, client: TestClient | undefined, name: ServerRouteName, input: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> {
  const spec = SERVER_ROUTES[name];
  const body = spec.method === 'GET' ? undefined : JSON.stringify(input ?? {});
  const target = new URL(url);
  const headers: Record<string, string> = { ...(client?.tokens === undefined ? {} : { authorization: `Bearer ${client.tokens.accessToken}`, [DEVICE_HEADER]: client.deviceId }), ...extraHeaders };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: spec.path, method: spec.method, localAddress, headers, timeout: 20_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Reply['body'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A valid input for each local route, so a refusal is about where it came from, not its body. */
const VALID_INPUT: { readonly [N in ServerRouteName]?: unknown } = {
  smtpGet: undefined, smtpSet: SMTP, smtpTest: { to: 'owner@example.test' },
  smsGet: undefined, smsSet: { service: 'clicksend', username: 'crewvault', apiKey: 'sms-key-4d2a', senderNumber: '+15550100', codeExpiryMinutes: 5, trustedDeviceHours: 48 },
  smsTest: { phone: '+447700900123' }, serverStatus: undefined,
};

async function settingsEvents(db: Database): Promise<string[]> {
  return (await db.query("SELECT kind FROM server_audit WHERE kind LIKE 'settings.%' OR kind LIKE 'server.%' ORDER BY seq")).map((row) => text(row, 'kind'));
}

describe('which routes are server settings', () => {
  it('marks every route under /v1/admin/smtp, /v1/admin/sms and /v1/admin/server local, and no other', () => {
    const settingsPaths = (Object.keys(SERVER_ROUTES) as ServerRouteName[]).filter((name) => /^\/v1\/admin\/(smtp|sms|server)(\/|$)/.test(SERVER_ROUTES[name].path));
    expect(LOCAL_ROUTES.sort()).toEqual(settingsPaths.sort());
    expect(LOCAL_ROUTES.sort()).toEqual(['serverStatus', 'smsGet', 'smsSet', 'smsTest', 'smtpGet', 'smtpSet', 'smtpTest']);
    for (const name of LOCAL_ROUTES) expect(name in VALID_INPUT, name).toBe(true);
  });

  it('takes 127.0.0.1 and ::1 from the socket as this machine; another address or a forwarding header is not', () => {
    for (const peer of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(isFromThisMachine(peer, {}), peer).toBe(true);
    for (const peer of ['127.0.0.2', '127.1.0.1', '::ffff:127.0.0.2', '10.0.0.1', '::2', '0.0.0.0', undefined]) expect(isFromThisMachine(peer, {}), String(peer)).toBe(false);
    for (const header of ['forwarded', 'x-forwarded-for', 'x-real-ip']) expect(isFromThisMachine('127.0.0.1', { [header]: '127.0.0.1' }), header).toBe(false);
  });
});

describe.each(DATABASE_KINDS)('server settings from this machine only on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  it('refuses every settings route from 127.0.0.2 with FORBIDDEN, to an owner with a fresh session, and nothing changes', async () => {
    for (const name of LOCAL_ROUTES) {
      const reply = await callFrom('127.0.0.2', server.url, owner.client, name, VALID_INPUT[name]);
      expect([name, reply.status, reply.body.error]).toEqual([name, 403, {
        code: 'FORBIDDEN', message: 'Server settings are managed from the server\'s own machine only (crewvault server admin on it)',
      }]);
    }
    // Without a session too: from elsewhere the route is not even signed in to.
    expect((await callFrom('127.0.0.2', server.url, undefined, 'smtpGet', undefined)).body.error?.code).toBe('FORBIDDEN');
    expect(await server.db.query('SELECT count(*)::int AS n FROM delivery_settings')).toEqual([{ n: 0 }]);
    expect(await settingsEvents(server.db)).toEqual([]);
    // The rest of the server answers 127.0.0.2 as before.
    expect((await callFrom('127.0.0.2', server.url, owner.client, 'session', undefined)).status).toBe(200);
  });

  it('refuses a request a proxy relayed, whatever address its header names', async () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const reply = await callFrom('127.0.0.1', server.url, owner.client, 'smtpSet', SMTP, { [header]: header === 'forwarded' ? 'for=127.0.0.1' : '127.0.0.1' });
      expect([header, reply.status, reply.body.error?.code]).toEqual([header, 403, 'FORBIDDEN']);
    }
    expect(await server.db.query('SELECT count(*)::int AS n FROM delivery_settings')).toEqual([{ n: 0 }]);
  });

  it('judges each request on a kept-alive, pipelined connection by its own headers, in any casing, repeated or empty', async () => {
    const target = new URL(server.url);
    const auth = `authorization: Bearer ${owner.client.tokens?.accessToken ?? ''}\r\n${DEVICE_HEADER}: ${owner.client.deviceId}\r\n`;
    const get = (extra: string): string => `GET ${SERVER_ROUTES.smtpGet.path} HTTP/1.1\r\nhost: ${target.host}\r\n${auth}${extra}\r\n`;
    // Four requests written at once on one connection from 127.0.0.1: relayed (upper case), plain, relayed twice, relayed empty.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(target.port), localAddress: '127.0.0.1' }, () => {
        socket.write(get('X-FORWARDED-FOR: 203.0.113.9\r\n') + get('') + get('X-Real-IP: 1.1.1.1\r\nx-real-ip: 127.0.0.1\r\n') + get('Forwarded:\r\nConnection: close\r\n'));
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => { text += chunk; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect([...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1])).toEqual(['403', '200', '403', '403']);
  });

  it('answers the same call from 127.0.0.1, audited with that source, and says how the server runs', async () => {
    const reply = await callFrom('127.0.0.1', server.url, owner.client, 'smtpSet', SMTP);
    expect(reply).toMatchObject({ status: 200, body: { ok: true, value: { smtp: { host: '127.0.0.1', passwordSet: true } } } });
    const [row] = await server.db.query("SELECT source FROM server_audit WHERE kind = 'settings.smtp-set'");
    expect(row === undefined ? undefined : text(row, 'source')).toBe('127.0.0.1');
    const port = Number(new URL(server.url).port);
    expect(await owner.client.ok('serverStatus', undefined)).toEqual({
      database: kind === 'postgres' ? 'postgresql' : 'pglite', listen: `127.0.0.1:${port}`, tls: false, localAdminOnly: true, schema: expect.any(Number) as number, version: 'test',
    });
    const admin = await invitePerson(server, owner, 'admin');
    expect(await admin.client.fails('serverStatus', undefined)).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners see how the server runs' });
  });

  it('with remote administration allowed, answers 127.0.0.2 and says so in its status', async () => {
    const open = await startTestServer(await databases.open(kind), { allowRemoteAdmin: true });
    try {
      const ownerThere = await registerOwner(open);
      const reply = await callFrom('127.0.0.2', open.url, ownerThere.client, 'smtpSet', SMTP);
      expect(reply).toMatchObject({ status: 200, body: { ok: true } });
      const [row] = await open.db.query("SELECT source FROM server_audit WHERE kind = 'settings.smtp-set'");
      expect(row === undefined ? undefined : text(row, 'source')).toBe('127.0.0.2');
      expect((await callFrom('127.0.0.2', open.url, ownerThere.client, 'serverStatus', undefined)).body.value).toMatchObject({ localAdminOnly: false });
      // The role is still checked from anywhere.
      const admin = await invitePerson(open, ownerThere, 'admin');
      expect((await callFrom('127.0.0.2', open.url, admin.client, 'smtpGet', undefined)).body.error).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners manage the server\'s e-mail and SMS settings' });
    } finally {
      await open.close();
    }
  });
});

const CLI = path.resolve('bin/crewvault.mjs');

/** `crewvault server` as a process on 127.0.0.1: its URL once it listens, its stderr so far, and a stop. */
async function serverProcess(kind: DatabaseKind, extra: string[]): Promise<{ url: string; dataDir: string; database: string | undefined; stderr: () => string; stop: () => Promise<number | null> }> {
  const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'crewvault-local-admin-')), 'data');
  folders.push(path.dirname(dataDir));
  const database = kind === 'postgres' ? await databases.postgresUrl() : undefined;
  const args = ['server', '--data', dataDir, '--listen', '127.0.0.1:0', ...extra, ...(database === undefined ? [] : ['--database', database])];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no invite line in 60 s: ${stderr}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*invite in [^\n]*\n/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  return {
    url, dataDir, database, stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function ownerOf(url: string, dataDir: string): Promise<TestClient> {
  const client = new TestClient(url);
  const username = uniqueName('owner');
  const password = uniquePassword();
  await client.register(readFileSync(path.join(dataDir, OWNER_INVITE_FILE), 'utf8').trim(), username, password);
  await client.login(username, password);
  return client;
}

/**
 * A reverse proxy on this machine as nginx's `proxy_pass` is by default: it listens on
 * 127.0.0.1 and relays each request to the server from 127.0.0.1 with the client's own
 * headers and no forwarding header of its own. Its address and a stop.
 */
async function plainProxy(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const upstream = new URL(target);
  const proxy = createServer((incoming, outgoing) => {
    const relayed = request({ host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, host: upstream.host }, localAddress: '127.0.0.1' }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    relayed.on('error', () => outgoing.destroy());
    incoming.pipe(relayed);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => proxy.close(() => resolve())) };
}

describe.each(DATABASE_KINDS)('the crewvault server process on %s', (kind) => {
  it('with --allow-remote-admin: one warning line on stderr, the start in the audit, a settings call from 127.0.0.2 answered', async () => {
    const running = await serverProcess(kind, ['--allow-remote-admin']);
    let exit: number | null;
    try {
      const owner = await ownerOf(running.url, running.dataDir);
      expect(await callFrom('127.0.0.2', running.url, owner, 'smtpSet', SMTP)).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      exit = await running.stop();
    }
    expect(exit).toBe(0);
    const warnings = running.stderr().split('\n').filter((line) => line.includes('WARNING'));
    expect(warnings).toEqual([
      'crewvault server: WARNING: --allow-remote-admin: SMTP and SMS credentials and the server\'s status can be managed from any address that reaches it, not only this machine (recorded in the server\'s audit)',
    ]);
    expect(running.stderr()).not.toContain(SMTP.password);
    const db = running.database === undefined ? await openPglite(path.join(running.dataDir, 'pglite')) : openPostgres(running.database);
    try {
      const rows = await db.query("SELECT kind, source, detail FROM server_audit WHERE kind IN ('server.remote-admin-allowed', 'settings.smtp-set') ORDER BY seq");
      expect(rows.map((row) => [text(row, 'kind'), row.source, JSON.parse(text(row, 'detail')) as unknown])).toEqual([
        ['server.remote-admin-allowed', null, { listen: `127.0.0.1:${new URL(running.url).port}`, tls: false }],
        ['settings.smtp-set', '127.0.0.2', { passwordChanged: true, security: 'none' }],
      ]);
      // The start's event is in the signed chain like any other.
      const { keys } = await loadOrCreateServerKeys(running.dataDir);
      expect(await verifyAudit(db, keys.auditPublicKey)).toMatchObject({ ok: true });
    } finally {
      await db.close();
    }
  }, 120_000);

  it('without it: no warning, and the same call from 127.0.0.2 is refused while 127.0.0.1 with the data folder\'s key is answered', async () => {
    const running = await serverProcess(kind, []);
    try {
      const owner = await ownerOf(running.url, running.dataDir);
      const key = { [LOCAL_ADMIN_HEADER]: readFileSync(path.join(running.dataDir, LOCAL_ADMIN_KEY_FILE), 'utf8').trim() };
      expect(await callFrom('127.0.0.2', running.url, owner, 'smtpSet', SMTP, key)).toMatchObject({ status: 403, body: { ok: false, error: { code: 'FORBIDDEN' } } });
      expect(await callFrom('127.0.0.2', running.url, owner, 'smtpGet', undefined, key)).toMatchObject({ status: 403 });
      expect(await callFrom('127.0.0.1', running.url, owner, 'smtpGet', undefined, key)).toMatchObject({ status: 200, body: { ok: true, value: { smtp: null } } });
    } finally {
      expect(await running.stop()).toBe(0);
    }
    expect(running.stderr()).not.toContain('WARNING');
  }, 120_000);

  it('refuses a settings call a reverse proxy on this machine relayed without any forwarding header: 127.0.0.1 alone is not this machine, the data folder\'s key is', async () => {
    const running = await serverProcess(kind, []);
    const proxy = await plainProxy(running.url);
    try {
      const owner = await ownerOf(running.url, running.dataDir);
      // Another machine, through the proxy: the server sees 127.0.0.1 and no header saying otherwise.
      expect(await callFrom('127.0.0.2', proxy.url, owner, 'smtpSet', SMTP)).toMatchObject({ status: 403, body: { ok: false, error: { code: 'FORBIDDEN' } } });
      expect(await callFrom('127.0.0.2', proxy.url, owner, 'serverStatus', undefined)).toMatchObject({ status: 403 });
      expect(await callFrom('127.0.0.1', running.url, owner, 'smtpGet', undefined)).toMatchObject({ status: 403 });
      // A wrong key, or the key twice, is no key.
      const file = path.join(running.dataDir, LOCAL_ADMIN_KEY_FILE);
      const key = readFileSync(file, 'utf8').trim();
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await callFrom('127.0.0.1', running.url, owner, 'smtpGet', undefined, { [LOCAL_ADMIN_HEADER]: `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}` })).toMatchObject({ status: 403 });
      expect(await callFrom('127.0.0.1', running.url, owner, 'smtpGet', undefined, { [LOCAL_ADMIN_HEADER]: `${key}, ${key}` })).toMatchObject({ status: 403 });
      // Whoever reads the server's data folder is on its machine: the key there is what crewvault server admin sends.
      expect(await callFrom('127.0.0.1', running.url, owner, 'smtpSet', SMTP, { [LOCAL_ADMIN_HEADER]: key })).toMatchObject({ status: 200, body: { ok: true } });
      // The key alone is never enough from another address.
      expect(await callFrom('127.0.0.2', running.url, owner, 'smtpGet', undefined, { [LOCAL_ADMIN_HEADER]: key })).toMatchObject({ status: 403 });
    } finally {
      await proxy.close();
      expect(await running.stop()).toBe(0);
    }
  }, 120_000);
});
