// The browser host over real HTTP on loopback: the one-time launch code traded for a session
// cookie, every refusal, the static files' headers, 127.0.0.1 only, and a full sign-in →
// create → otp.code → reveal → delete round trip.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAUNCH_CODE_TTL_MS } from '../../electron/host/launch';
import { startHost, type LaunchEvent, type RunningHost } from '../../electron/host/server';
import { CONTENT_SECURITY_POLICY } from '../../electron/host/security-headers';
import { newRouter } from '../support/router';
import { manualClock, OWNER, PASSWORD, tempFolder } from '../support/vault';

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw HTTP request, so Host and Origin can be set to anything. */
function send(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

let host: RunningHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

/** A host over a stand-in renderer, its clock held by the test, its launch events recorded. */
async function start(options: { launchTtlMs?: number } = {}) {
  const staticRoot = path.join(tempFolder(), 'renderer');
  mkdirSync(path.join(staticRoot, 'assets'), { recursive: true });
  writeFileSync(path.join(staticRoot, 'index.html'), '<!doctype html><title>Crewvault</title>');
  writeFileSync(path.join(staticRoot, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(staticRoot), 'secret.txt'), 'outside the root');
  const { router } = newRouter();
  const clock = manualClock();
  const events: LaunchEvent['outcome'][] = [];
  host = await startHost({ router, staticRoot, clock, onLaunch: (event) => events.push(event.outcome), ...options });
  const { port, launchUrl, cookieName } = host;
  const code = new URL(launchUrl).searchParams.get('launch') ?? '';
  /** Opens a launch link as a browser would: a GET of `/?launch=…` with our Host. */
  const open = (launch: string, headers: Record<string, string> = {}) =>
    send(port, { path: `/?launch=${encodeURIComponent(launch)}`, headers: { host: `127.0.0.1:${port}`, ...headers } });
  return { port, code, cookieName, clock, events, open, router };
}

/** A started host whose launch code has been traded: `rpc` calls with the session cookie. */
async function startSignedOn() {
  const started = await start();
  const { port, cookieName } = started;
  const secret = sessionSecret(await started.open(started.code), cookieName);
  const cookie = `${cookieName}=${secret}`;
  const rpc = (method: string, input: unknown, headers: Record<string, string> = {}) =>
    send(port, {
      method: 'POST',
      path: `/rpc/${method}`,
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', cookie, ...headers },
      body: JSON.stringify(input),
    });
  return { ...started, secret, cookie, rpc };
}

function setCookies(response: Response): string[] {
  const header = response.headers['set-cookie'];
  return Array.isArray(header) ? header : [];
}

/** The session secret a launch response set, checked to be the only cookie it set. */
function sessionSecret(response: Response, cookieName: string): string {
  const cookies = setCookies(response);
  expect(cookies).toHaveLength(1);
  const match = new RegExp(`^${cookieName}=([A-Za-z0-9_-]{43});`).exec(cookies[0] ?? '');
  expect(match, cookies[0]).not.toBeNull();
  return match?.[1] ?? '';
}

describe('the browser host', () => {
  it('listens on 127.0.0.1 only and prints a launch URL holding a 256-bit one-time code and nothing else', async () => {
    const { port, code } = await start();
    const address = host?.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(host?.launchUrl).toBe(`http://127.0.0.1:${port}/?launch=${code}`);
  });
});

describe('the launch code', () => {
  it('is traded once for an HttpOnly, SameSite=Strict, Path=/ cookie, with a redirect to / and no referrer', async () => {
    const { port, code, cookieName, open, events } = await start();
    const launched = await open(code);
    expect(launched.status).toBe(303);
    expect(launched.headers.location).toBe('/');
    expect(launched.headers['referrer-policy']).toBe('no-referrer');
    expect(launched.headers['cache-control']).toBe('no-store');
    expect(cookieName).toBe(`crewvault-${port}`);
    const secret = sessionSecret(launched, cookieName);
    const attributes = (setCookies(launched)[0] ?? '').split(';').slice(1).map((a) => a.trim());
    // Exactly these: no Secure (plain http on loopback), no Domain, no Max-Age or Expires.
    expect(attributes).toEqual(['HttpOnly', 'SameSite=Strict', 'Path=/']);
    // The session secret is new: not the code, not in the URL anyone could have read.
    expect(secret).not.toBe(code);
    expect(host?.launchUrl).not.toContain(secret);
    expect(events).toEqual(['exchanged']);
  });

  it('is dead after its first use: a second use is refused (401) with a page saying so', async () => {
    const { code, cookieName, open, events } = await start();
    expect((await open(code)).status).toBe(303);
    const again = await open(code);
    expect(again.status).toBe(401);
    expect(again.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(again.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(again.body).toContain('already used');
    expect(setCookies(again)).toEqual([]);
    expect(events).toEqual(['exchanged', 'used']);
    // Still dead on a third try, and a cookie of another name does not revive it.
    expect((await open(code, { cookie: `${cookieName}x=1` })).status).toBe(401);
  });

  it('lets the browser that holds the session open the link again without an alarm', async () => {
    const { code, cookieName, open, events } = await start();
    const secret = sessionSecret(await open(code), cookieName);
    const again = await open(code, { cookie: `${cookieName}=${secret}` });
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe('/');
    expect(setCookies(again)).toEqual([]);
    expect(events).toEqual(['exchanged']);
  });

  it('expires unused after LAUNCH_CODE_TTL_MS (401), and is dead from then on', async () => {
    const { code, clock, open, events } = await start();
    clock.advance(LAUNCH_CODE_TTL_MS);
    const late = await open(code);
    expect(late.status).toBe(401);
    expect(late.body).toContain('expired');
    expect(setCookies(late)).toEqual([]);
    expect((await open(code)).status).toBe(401);
    expect(events).toEqual(['expired', 'used']);
  });

  it('works up to the last millisecond of its lifetime', async () => {
    const { code, clock, open, cookieName } = await start();
    clock.advance(LAUNCH_CODE_TTL_MS - 1);
    expect(sessionSecret(await open(code), cookieName)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a wrong code (401) without spending the real one', async () => {
    const { code, open, events } = await start();
    for (const wrong of ['', 'x', code.slice(0, -1), `${code}A`, code.replace(/^./, code.startsWith('A') ? 'B' : 'A')]) {
      expect((await open(wrong)).status, wrong).toBe(401);
    }
    expect((await open(code)).status).toBe(303);
    expect(events).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong', 'exchanged']);
  });

  it('is traded only by a GET with our Host and Origin; refusals before that spend nothing', async () => {
    const { port, code, open } = await start();
    expect((await send(port, { method: 'POST', path: `/?launch=${code}`, headers: { host: `127.0.0.1:${port}` } })).status).toBe(405);
    expect((await send(port, { method: 'HEAD', path: `/?launch=${code}`, headers: { host: `127.0.0.1:${port}` } })).status).toBe(405);
    expect((await open(code, { host: `evil.example:${port}` })).status).toBe(403);
    expect((await open(code, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await open(code)).status).toBe(303);
  });
});

describe('the session cookie', () => {
  it('is the only way in: no cookie, a wrong one, the code, or the old token header are refused (401)', async () => {
    const { rpc, port, code, cookieName, secret } = await startSignedOn();
    expect((await rpc('session.state', {})).status).toBe(200);
    const flipped = secret.replace(/.$/, secret.endsWith('A') ? 'B' : 'A');
    const refused: Record<string, Record<string, string>> = {
      'no cookie': { cookie: '' },
      'a wrong secret': { cookie: `${cookieName}=${flipped}` },
      'a longer secret': { cookie: `${cookieName}=${secret}A` },
      'the secret under another port’s name': { cookie: `crewvault-${port + 1}=${secret}` },
      'the launch code as the cookie': { cookie: `${cookieName}=${code}` },
      'the secret in the old token header': { cookie: '', 'x-crewvault-token': secret },
      'the code in the old token header': { cookie: '', 'x-crewvault-token': code },
    };
    for (const [what, headers] of Object.entries(refused)) {
      const reply = await rpc('session.state', {}, headers);
      expect(reply.status, what).toBe(401);
      expect(JSON.parse(reply.body), what).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    }
    // Among other cookies, or beside a planted one of the same name, the right one still works.
    expect((await rpc('session.state', {}, { cookie: `theme=dark; ${cookieName}=${flipped}; ${cookieName}=${secret}` })).status).toBe(200);
  });

  it('refuses every call before the launch code is traded', async () => {
    const { port } = await start();
    const reply = await send(port, { method: 'POST', path: '/rpc/session.state', headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, body: '{}' });
    expect(reply.status).toBe(401);
  });
});

describe('the browser host’s other refusals', () => {
  it('refuses a foreign Host (DNS rebinding) or Origin (403)', async () => {
    const { rpc, port } = await startSignedOn();
    expect((await rpc('session.state', {}, { host: `evil.example:${port}` })).status).toBe(403);
    expect((await rpc('session.state', {}, { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await rpc('session.state', {}, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await rpc('session.state', {}, { origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await rpc('session.state', {}, { host: `localhost:${port}` })).status).toBe(200);
  });

  it('refuses big bodies (413), unknown methods (404), other verbs (405) and non-JSON (415/400)', async () => {
    const { rpc, port, cookie } = await startSignedOn();
    const big = JSON.stringify({ customer: 'x'.repeat(1024 * 1024), title: 't' });
    expect((await rpc('entries.create', JSON.parse(big) as unknown)).status).toBe(413);
    expect((await rpc('entries.dropTable', {})).status).toBe(404);
    expect((await send(port, { path: '/rpc/session.state', headers: { host: `127.0.0.1:${port}`, cookie } })).status).toBe(405);
    expect((await rpc('session.state', {}, { 'content-type': 'text/plain' })).status).toBe(415);
    const notJson = await send(port, { method: 'POST', path: '/rpc/session.state', headers: { host: `127.0.0.1:${port}`, cookie, 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
  });

  it('serves static files with their type, no-store, nosniff, no referrer and the CSP; nothing outside the root', async () => {
    const { port } = await start();
    const page = await send(port, { path: '/', headers: { host: `127.0.0.1:${port}` } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const script = await send(port, { path: '/assets/app.js', headers: { host: `127.0.0.1:${port}` } });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/missing.js']) {
      expect((await send(port, { path: p, headers: { host: `127.0.0.1:${port}` } })).status, p).toBe(404);
    }
  });
});

describe('a session through the host', () => {
  it('runs a full round trip: create vault → add → otp.code → reveal → delete', async () => {
    const { rpc } = await startSignedOn();
    const call = async (method: string, input: unknown) => JSON.parse((await rpc(method, input)).body) as { ok: boolean; value?: unknown; error?: { code: string } };
    expect(await call('vault.create', { username: OWNER, password: PASSWORD })).toMatchObject({ ok: true, value: { user: { name: OWNER, role: 'owner' } } });
    const created = await call('entries.create', { customer: 'Acme', title: 'VPN', password: 'p@ss', otp: { secret: 'JBSW Y3DP EHPK 3PXP' } });
    expect(created).toMatchObject({ ok: true, value: { customer: 'Acme', title: 'VPN', otp: { kind: 'totp' } } });
    const id = (created.value as { id: number }).id;
    expect(await call('otp.code', { id })).toMatchObject({ ok: true, value: { kind: 'totp', code: expect.stringMatching(/^\d{6}$/) as string, period: 30 } });
    expect(await call('secrets.reveal', { id, what: 'password' })).toEqual({ ok: true, value: { password: 'p@ss' } });
    expect(await call('entries.delete', { id, baseRevision: (created.value as { revision: number }).revision })).toEqual({ ok: true, value: { deleted: id } });
    expect(await call('entries.get', { id })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await call('session.lock', {})).toMatchObject({ ok: true, value: { user: null } });
    expect(await call('entries.list', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  });
});
