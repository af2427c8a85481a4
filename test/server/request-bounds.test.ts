/**
 * What a caller who is not signed in can make the server hold, over real HTTP on loopback: a
 * route that needs a session is refused on its headers, before its body is read (a push's body
 * may be 16 MiB: without this anyone could have the server buffer and parse that much, and trickle
 * it in for as long as they liked), and a request that is slow to arrive is ended after a bound.
 * Each wait is on a reply the server sends at once; the test's own time limit bounds it.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_HEADER, SERVER_ROUTES, SYNC_BODY_LIMIT_BYTES } from '../../shared/api/server-contract';
import { TOUCH_EVERY_MS } from '../../server/auth/sessions';
import { useTestDatabases } from './databases';
import { registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** A request written over a raw socket in two goes: its headers with the first bytes of its body, then (maybe) the rest. */
class SlowRequest {
  private text = '';
  private ended = false;
  private timedOut = false;
  private readonly waiting: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Writes the headers, announcing `announced` bytes of body, and the body's `first` bytes. */
  static async start(url: string, path: string, headers: Record<string, string>, announced: number, first: string): Promise<SlowRequest> {
    const target = new URL(url);
    const socket = connect({ host: '127.0.0.1', port: Number(target.port) });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const lines = Object.entries({ host: target.host, 'content-type': 'application/json', 'content-length': String(announced), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${lines}\r\n${first}`);
    return new SlowRequest(socket);
  }

  send(rest: string): void {
    this.socket.write(rest);
  }

  /** The reply, once it is whole (its JSON body read) or the connection closed, or what came within `withinMs`. */
  async reply(withinMs = 5_000): Promise<string> {
    const whole = (): boolean => this.ended || /\r\n\r\n\{.*\}$/s.test(this.text);
    const timer = setTimeout(() => this.wake(true), withinMs);
    while (!whole() && !this.timedOut) await new Promise<void>((resolve) => this.waiting.push(resolve));
    clearTimeout(timer);
    this.socket.destroy();
    return this.text;
  }

  private wake(timedOut = false): void {
    if (timedOut) this.timedOut = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

async function partialRequest(url: string, path: string, headers: Record<string, string>, announced: number, first: string): Promise<string> {
  return (await SlowRequest.start(url, path, headers, announced, first)).reply();
}

describe('bounds on what a request may make the server hold', () => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open('pglite'));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(() => server?.close());

  it('refuses a push without a session on its headers, while its 15 MiB body is still to come', async () => {
    const anonymous = await partialRequest(server.url, SERVER_ROUTES.syncPush.path, {}, SYNC_BODY_LIMIT_BYTES - 1_000_000, '{"batch":');
    expect(anonymous).toMatch(/^HTTP\/1\.1 401 /);
    expect(anonymous).toContain('"code":"UNAUTHORIZED"');
    const forged = await partialRequest(server.url, SERVER_ROUTES.syncPush.path, { authorization: `Bearer ${'x'.repeat(40)}`, [DEVICE_HEADER]: owner.client.deviceId }, SYNC_BODY_LIMIT_BYTES - 1_000_000, '{"batch":');
    expect(forged).toMatch(/^HTTP\/1\.1 401 /);
    const token = await partialRequest(server.url, SERVER_ROUTES.syncPush.path, { authorization: `Bearer cvt_${'x'.repeat(40)}` }, SYNC_BODY_LIMIT_BYTES - 1_000_000, '{"batch":');
    expect(token).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('answers a client still uploading a refused body with the refusal, not a reset (a desktop refreshes on it)', async () => {
    const body = JSON.stringify({ batch: { format: 1, vault: 'v', records: [] }, pad: 'x'.repeat(12 * 1024 * 1024) });
    const reply = await owner.client.raw('POST', SERVER_ROUTES.syncPush.path, body, { authorization: `Bearer ${'x'.repeat(40)}`, [DEVICE_HEADER]: owner.client.deviceId });
    expect(reply).toMatchObject({ status: 401, body: { ok: false, error: { code: 'UNAUTHORIZED' } } });
  });

  it('still reads the body of a signed-in push, and refuses its shape after', async () => {
    const body = JSON.stringify({ batch: { format: 1, vault: 'v', records: [{ kind: 'nothing' }] } });
    const reply = await partialRequest(server.url, SERVER_ROUTES.syncPush.path, owner.client.authHeaders(), Buffer.byteLength(body), body);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('"code":"INVALID_INPUT"');
  });

  it('judges a caller again when the body came slowly: a session signed out meanwhile is refused', async () => {
    const elsewhere = new TestClient(server.url);
    await elsewhere.login(owner.username, owner.password);
    const refreshEnds = async (): Promise<string> => JSON.stringify(await server.db.query('SELECT refresh_expires_at FROM sessions WHERE device_id = $1', [elsewhere.deviceId]));
    const before = await refreshEnds();
    // A minute on: judging the headers writes the session's use (sessions.ts touchSession), which tells the test it was judged.
    server.clock.advance(TOUCH_EVERY_MS);
    const body = JSON.stringify({ batch: { format: 1, vault: 'v', records: [{ kind: 'nothing' }] } });
    const request = await SlowRequest.start(server.url, SERVER_ROUTES.syncPush.path, elsewhere.authHeaders(), Buffer.byteLength(body), body.slice(0, 10));
    // Polled, never slept on (each turn lets the server's I/O run first); bounded by the test's time limit.
    while (await refreshEnds() === before) await new Promise((resolve) => setImmediate(resolve));
    await elsewhere.ok('signOut', {});
    server.clock.advance(2_000);
    request.send(body.slice(10));
    const reply = await request.reply();
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(reply).toContain('"code":"UNAUTHORIZED"');
  });

  it('bounds how long a request may take to arrive (Fastify turns Node\'s own bound off)', () => {
    const raw = server.app.server;
    expect(raw.requestTimeout).toBeGreaterThan(0);
    expect(raw.requestTimeout).toBeLessThanOrEqual(300_000);
    expect(raw.headersTimeout).toBeGreaterThan(0);
    expect(raw.headersTimeout).toBeLessThanOrEqual(raw.requestTimeout);
  });
});
