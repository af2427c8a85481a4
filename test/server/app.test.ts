/**
 * The server's HTTP skeleton over real HTTP on 127.0.0.1, on PostgreSQL and on PGlite:
 * /health, one error shape with stable codes for every kind of bad request, body limits,
 * the contract's schemas, no client text echoed, and a log that keeps no body or header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_HEADER, SERVER_BODY_LIMIT_BYTES, SERVER_ROUTES } from '../../shared/api/server-contract';
import { ERROR_CODES } from '../../shared/errors';
import { latestSchemaVersion } from '../../server/store/migrate';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { startTestServer, TestClient, type TestServer } from './support';

const databases = useTestDatabases();
const SECRET = 'hunter2-correct-horse-battery';

function expectError(body: unknown, code: string): void {
  expect(body).toEqual({ ok: false, error: { code, message: expect.any(String) as unknown } });
  expect(ERROR_CODES).toContain(code);
}

describe.each(DATABASE_KINDS)('the server skeleton on %s', (kind) => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    client = new TestClient(server.url);
  }, 120_000);
  afterAll(async () => server?.close());

  it('answers /health with its version and schema', async () => {
    expect(await client.ok('health', undefined)).toEqual({ status: 'ok', version: 'test', schema: latestSchemaVersion() });
  });

  it('answers an unknown route with UNKNOWN_METHOD, without echoing the path', async () => {
    const reply = await client.raw('GET', `/v1/${SECRET}`);
    expect(reply.status).toBe(404);
    expectError(reply.body, 'UNKNOWN_METHOD');
    expect(JSON.stringify(reply.body)).not.toContain(SECRET);
  });

  it('refuses a body that is not JSON without quoting it', async () => {
    const reply = await client.raw('POST', SERVER_ROUTES.loginStart.path, `{"username": "ada", "startLoginRequest": ${SECRET}`);
    expect(reply.status).toBe(400);
    expectError(reply.body, 'INVALID_INPUT');
    expect(JSON.stringify(reply.body)).not.toContain(SECRET);
  });

  it('refuses another content type, an empty body, and a body over the limit', async () => {
    const text = await client.raw('POST', SERVER_ROUTES.loginStart.path, 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    expectError(text.body, 'INVALID_INPUT');
    const empty = await client.raw('POST', SERVER_ROUTES.loginStart.path, '');
    expectError(empty.body, 'INVALID_INPUT');
    const big = await client.raw('POST', SERVER_ROUTES.loginStart.path, JSON.stringify({ username: 'a', startLoginRequest: 'A'.repeat(SERVER_BODY_LIMIT_BYTES) }));
    expect(big.status).toBe(400);
    expect(big.body).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: 'The body is too large' } });
  });

  it('checks every body against the contract: wrong types, unknown fields (not named back), prototype keys', async () => {
    const wrongType = await client.raw('POST', SERVER_ROUTES.loginStart.path, JSON.stringify({ username: 42, startLoginRequest: 'abc' }));
    expectError(wrongType.body, 'INVALID_INPUT');
    expect((wrongType.body as { error: { message: string } }).error.message).toMatch(/^username: /);
    const extra = await client.raw('POST', SERVER_ROUTES.loginStart.path, JSON.stringify({ username: 'ada', startLoginRequest: 'abc', [SECRET]: 1 }));
    expectError(extra.body, 'INVALID_INPUT');
    expect(JSON.stringify(extra.body)).not.toContain(SECRET);
    const proto = await client.raw('POST', SERVER_ROUTES.loginStart.path, '{"username":"ada","startLoginRequest":"abc","__proto__":{"admin":true}}');
    expectError(proto.body, 'INVALID_INPUT');
    const notOpaque = await client.raw('POST', SERVER_ROUTES.loginStart.path, JSON.stringify({ username: 'ada', startLoginRequest: 'not base64url!' }));
    expectError(notOpaque.body, 'INVALID_INPUT');
  });

  it('refuses an OPAQUE message that decodes but is not one, with INVALID_INPUT', async () => {
    const reply = await client.raw('POST', SERVER_ROUTES.loginStart.path, JSON.stringify({ username: 'ada', startLoginRequest: 'AAAA' }));
    expect(reply.status).toBe(400);
    expectError(reply.body, 'INVALID_INPUT');
  });

  it('answers a session route without a session, or with a made-up token, with UNAUTHORIZED', async () => {
    const none = await client.raw('GET', SERVER_ROUTES.session.path);
    expect(none.status).toBe(401);
    expectError(none.body, 'UNAUTHORIZED');
    const madeUp = await client.raw('GET', SERVER_ROUTES.session.path, undefined, { authorization: `Bearer cva_${'x'.repeat(43)}`, [DEVICE_HEADER]: 'd'.repeat(32) });
    expect(madeUp.status).toBe(401);
    expectError(madeUp.body, 'UNAUTHORIZED');
    // Who is asking is checked before the body: no session learns nothing of the schema.
    const badBody = await client.raw('POST', SERVER_ROUTES.inviteCreate.path, JSON.stringify({ nonsense: true }));
    expect(badBody.status).toBe(401);
    expectError(badBody.body, 'UNAUTHORIZED');
  });

  it('says no-store on replies, and keeps no body or header in its log', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    await client.raw('GET', SERVER_ROUTES.session.path, undefined, { authorization: `Bearer ${SECRET}-token-token`, cookie: SECRET, [DEVICE_HEADER]: 'd'.repeat(32) });
    await client.raw('POST', `${SERVER_ROUTES.loginStart.path}?token=${SECRET}`, JSON.stringify({ username: SECRET, startLoginRequest: 'AAAA' }));
    const log = server.logs.join('');
    expect(log).toContain('"route":"/v1/auth/login/start"');
    expect(log).not.toContain(SECRET);
  });
});
