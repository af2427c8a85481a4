/**
 * Idle sessions (finPOWER), over real HTTP on PostgreSQL and on PGlite with the injected
 * clock: a session unused whole for longer than the idle time (30 minutes unless owners set
 * another; 0 never) does its second step again before anything is released — asked, not ended,
 * however long ago the password was — unless its device is trusted or the person has no second
 * step to do. A refresh is not a use, and does not move the session's expiry either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_TTL_MS } from '../../server/context';
import { text } from '../../server/store/db';
import { DEFAULT_IDLE_MINUTES } from '../../shared/api/server-contract';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, type Person, type TestClient, type TestServer } from './support';

const databases = useTestDatabases();
const MINUTE = 60_000;

describe.each(DATABASE_KINDS)('idle sessions on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  async function enrolled(): Promise<{ person: Person; secret: string }> {
    const person = await invitePerson(server, owner);
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    return { person, secret };
  }

  /** A new access token, as a desktop gets one when its last has expired. */
  async function refresh(client: TestClient): Promise<void> {
    const tokens = client.tokens;
    if (tokens === undefined) throw new Error('not signed in');
    client.tokens = (await client.ok('refresh', { refreshToken: tokens.refreshToken, deviceId: client.deviceId })).tokens;
  }

  /** Signs the owner in again when the clock has run past their token. */
  async function asOwner(): Promise<TestClient> {
    await owner.client.login(owner.username, owner.password);
    return owner.client;
  }

  it('asks a session idle past 30 minutes for its code again, and only asks (the password was long ago)', async () => {
    expect(DEFAULT_IDLE_MINUTES).toBe(30);
    const { person, secret } = await enrolled();
    // In use every 14 minutes: never idle, an hour on.
    for (let i = 0; i < 4; i += 1) {
      server.clock.advance(14 * MINUTE);
      await refresh(person.client);
      await person.client.ok('accountKeys', undefined);
    }
    server.clock.advance(31 * MINUTE);
    await refresh(person.client);
    expect(await person.client.fails('accountKeys', undefined)).toEqual({ code: 'MFA_REQUIRED', status: 401, message: 'Enter the code from your authenticator app first' });
    expect((await person.client.ok('session', undefined)).secondStep).toBe('code');
    await person.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    await person.client.ok('accountKeys', undefined);
  });

  it('does not ask on a trusted device, nor someone with no second step to do', async () => {
    const { person } = await enrolled();
    await person.client.ok('deviceTrust', {});
    const plain = await invitePerson(server, owner);
    server.clock.advance(45 * MINUTE);
    await refresh(person.client);
    await person.client.ok('accountKeys', undefined);
    await refresh(plain.client);
    await plain.client.ok('accountKeys', undefined);
  });

  it('counts a refresh as no use, and keeps the session\'s expiry where its last use put it', async () => {
    const { person } = await enrolled();
    await person.client.ok('accountKeys', undefined);
    const expiresAt = person.client.tokens?.refreshExpiresAt;
    for (let i = 0; i < 4; i += 1) {
      server.clock.advance(10 * MINUTE);
      await refresh(person.client);
    }
    expect(person.client.tokens?.refreshExpiresAt).toBe(expiresAt);
    expect(await person.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    // It lives 30 days from that last use, 40 minutes ago, not from the refreshes since.
    const [row] = await server.db.query('SELECT refresh_expires_at FROM sessions WHERE user_id = $1', [person.user.id]);
    expect(Number(row?.refresh_expires_at)).toBeLessThanOrEqual(server.clock.now() + REFRESH_TTL_MS - 40 * MINUTE);
  });

  it('follows the idle time owners set (0: never asks), audited', async () => {
    const { person, secret } = await enrolled();
    const owners = await asOwner();
    const admin = await invitePerson(server, owner, 'admin');
    expect(await admin.client.fails('mfaIdleSet', { minutes: 5 })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owners.ok('mfaIdleSet', { minutes: 5 })).toMatchObject({ idleMinutes: 5 });
    expect((await admin.client.ok('mfaPolicyGet', undefined)).idleMinutes).toBe(5);
    server.clock.advance(6 * MINUTE);
    expect(await person.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    await person.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    server.clock.advance(4 * MINUTE);
    await person.client.ok('accountKeys', undefined);
    expect(await (await asOwner()).ok('mfaIdleSet', { minutes: 0 })).toMatchObject({ idleMinutes: 0 });
    server.clock.advance(120 * MINUTE);
    await refresh(person.client);
    await person.client.ok('accountKeys', undefined);
    expect(await (await asOwner()).fails('mfaIdleSet', { minutes: 24 * 60 + 1 })).toMatchObject({ code: 'INVALID_INPUT' });
    await owner.client.ok('mfaIdleSet', { minutes: DEFAULT_IDLE_MINUTES });
    const rows = await server.db.query("SELECT detail FROM server_audit WHERE kind = 'mfa.idle-set' ORDER BY seq");
    expect(rows.map((r) => text(r, 'detail'))).toEqual(['{"minutes":5}', '{"minutes":0}', '{"minutes":30}']);
  });
});
