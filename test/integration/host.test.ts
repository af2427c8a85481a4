// The browser host over real HTTP on loopback: every refusal, the static files' headers,
// 127.0.0.1 only, and a full sign-in → create → otp.code → reveal → delete round trip.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../electron/host/server';
import { CONTENT_SECURITY_POLICY } from '../../electron/host/security-headers';
import { newRouter } from '../support/router';
import { OWNER, PASSWORD, tempFolder } from '../support/vault';

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

async function start() {
  const staticRoot = path.join(tempFolder(), 'renderer');
  mkdirSync(path.join(staticRoot, 'assets'), { recursive: true });
  writeFileSync(path.join(staticRoot, 'index.html'), '<!doctype html><title>Crewvault</title>');
  writeFileSync(path.join(staticRoot, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(staticRoot), 'secret.txt'), 'outside the root');
  const { router } = newRouter();
  host = await startHost({ router, staticRoot });
  const { port, token } = host;
  const rpc = (method: string, input: unknown, headers: Record<string, string> = {}) =>
    send(port, {
      method: 'POST',
      path: `/rpc/${method}`,
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'x-crewvault-token': token, ...headers },
      body: JSON.stringify(input),
    });
  return { port, token, rpc, router };
}

describe('the browser host', () => {
  it('listens on 127.0.0.1 only and prints a URL carrying a 256-bit token in the fragment', async () => {
    const { port, token } = await start();
    const address = host?.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(host?.url).toBe(`http://127.0.0.1:${port}/#token=${token}`);
  });

  it('refuses calls without the token or with a wrong one (401)', async () => {
    const { rpc, token } = await start();
    expect((await rpc('session.state', {}, { 'x-crewvault-token': '' })).status).toBe(401);
    expect((await rpc('session.state', {}, { 'x-crewvault-token': token.replace(/.$/, token.endsWith('0') ? '1' : '0') })).status).toBe(401);
    expect((await rpc('session.state', {}, { 'x-crewvault-token': `${token}00` })).status).toBe(401);
    expect((await rpc('session.state', {})).status).toBe(200);
  });

  it('refuses a foreign Host (DNS rebinding) or Origin (403)', async () => {
    const { rpc, port } = await start();
    expect((await rpc('session.state', {}, { host: `evil.example:${port}` })).status).toBe(403);
    expect((await rpc('session.state', {}, { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await rpc('session.state', {}, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await rpc('session.state', {}, { origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await rpc('session.state', {}, { host: `localhost:${port}` })).status).toBe(200);
  });

  it('refuses big bodies (413), unknown methods (404), other verbs (405) and non-JSON (415/400)', async () => {
    const { rpc, port, token } = await start();
    const big = JSON.stringify({ customer: 'x'.repeat(1024 * 1024), title: 't' });
    expect((await rpc('entries.create', JSON.parse(big) as unknown)).status).toBe(413);
    expect((await rpc('entries.dropTable', {})).status).toBe(404);
    expect((await send(port, { path: '/rpc/session.state', headers: { host: `127.0.0.1:${port}`, 'x-crewvault-token': token } })).status).toBe(405);
    expect((await rpc('session.state', {}, { 'content-type': 'text/plain' })).status).toBe(415);
    const notJson = await send(port, { method: 'POST', path: '/rpc/session.state', headers: { host: `127.0.0.1:${port}`, 'x-crewvault-token': token, 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
  });

  it('serves static files with their type, no-store, nosniff and the CSP; nothing outside the root', async () => {
    const { port } = await start();
    const page = await send(port, { path: '/', headers: { host: `127.0.0.1:${port}` } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const script = await send(port, { path: '/assets/app.js', headers: { host: `127.0.0.1:${port}` } });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/missing.js']) {
      expect((await send(port, { path: p, headers: { host: `127.0.0.1:${port}` } })).status, p).toBe(404);
    }
  });

  it('runs a full round trip: create vault → add → otp.code → reveal → delete', async () => {
    const { rpc } = await start();
    const call = async (method: string, input: unknown) => JSON.parse((await rpc(method, input)).body) as { ok: boolean; value?: unknown; error?: { code: string } };
    expect(await call('vault.create', { username: OWNER, password: PASSWORD })).toMatchObject({ ok: true, value: { user: { name: OWNER, role: 'owner' } } });
    const created = await call('entries.create', { customer: 'Acme', title: 'VPN', password: 'p@ss', otp: { secret: 'JBSW Y3DP EHPK 3PXP' } });
    expect(created).toMatchObject({ ok: true, value: { customer: 'Acme', title: 'VPN', otp: { kind: 'totp' } } });
    const id = (created.value as { id: number }).id;
    expect(await call('otp.code', { id })).toMatchObject({ ok: true, value: { kind: 'totp', code: expect.stringMatching(/^\d{6}$/) as string, period: 30 } });
    expect(await call('secrets.reveal', { id, what: 'password' })).toEqual({ ok: true, value: { password: 'p@ss' } });
    expect(await call('entries.delete', { id })).toEqual({ ok: true, value: { deleted: id } });
    expect(await call('entries.get', { id })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await call('session.lock', {})).toMatchObject({ ok: true, value: { user: null } });
    expect(await call('entries.list', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  });
});
