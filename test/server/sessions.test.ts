/**
 * Sessions over real HTTP, on PostgreSQL and on PGlite, with time moved by an injected
 * clock: access tokens that expire and are bound to their device, refresh that rotates (a
 * replaced token presented again ends the session), sign-out, sign-out everywhere, and a
 * password change that needs a fresh sign-in and ends every other session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TTL_MS, PASSWORD_FRESH_MS, REFRESH_TTL_MS } from '../../server/context';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, openWithExportKey, registerOwner, startTestServer, TestClient, uniquePassword, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('sessions on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  /** A second device of the same person, signed in. */
  async function secondDevice(person: Person): Promise<TestClient> {
    const client = new TestClient(server.url);
    await client.login(person.username, person.password);
    return client;
  }

  it('lets an access token work for 15 minutes, then asks for a refresh, which gives tokens that work', async () => {
    const person = await invitePerson(server, owner);
    const { client } = person;
    server.clock.advance(ACCESS_TTL_MS - 1);
    await client.ok('session', undefined);
    server.clock.advance(1);
    expect(await client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED', status: 401, message: 'Your access token has expired: refresh it' });
    const old = client.tokens;
    if (old === undefined) throw new Error('not signed in');
    const { tokens } = await client.ok('refresh', { refreshToken: old.refreshToken, deviceId: client.deviceId });
    expect(tokens.accessToken).not.toBe(old.accessToken);
    expect(tokens.refreshToken).not.toBe(old.refreshToken);
    expect(tokens.accessExpiresAt).toBe(server.clock.now() + ACCESS_TTL_MS);
    client.tokens = tokens;
    expect((await client.ok('session', undefined)).user.id).toBe(person.user.id);
  });

  it('takes an access token only from the device it was issued to', async () => {
    const person = await invitePerson(server, owner);
    const thief = new TestClient(server.url);
    thief.tokens = person.client.tokens;
    expect(await thief.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    await person.client.ok('session', undefined);
  });

  it('rotates refresh tokens: the replaced one presented again ends the session for everyone holding it', async () => {
    const { client } = await invitePerson(server, owner);
    const first = client.tokens;
    if (first === undefined) throw new Error('not signed in');
    const { tokens: second } = await client.ok('refresh', { refreshToken: first.refreshToken, deviceId: client.deviceId });
    client.tokens = second;
    // The old access token died with the rotation.
    const stale = new TestClient(server.url, client.deviceId);
    stale.tokens = first;
    expect(await stale.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    // Someone replays the first refresh token: refused, and the session is over.
    expect(await stale.fails('refresh', { refreshToken: first.refreshToken, deviceId: client.deviceId })).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(await client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await client.fails('refresh', { refreshToken: second.refreshToken, deviceId: client.deviceId })).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('ends a session whose refresh token comes from another device', async () => {
    const { client } = await invitePerson(server, owner);
    const tokens = client.tokens;
    if (tokens === undefined) throw new Error('not signed in');
    const elsewhere = new TestClient(server.url);
    expect(await elsewhere.fails('refresh', { refreshToken: tokens.refreshToken, deviceId: elsewhere.deviceId })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await client.fails('refresh', { refreshToken: tokens.refreshToken, deviceId: client.deviceId })).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('lets a refresh token lapse after 30 days unused', async () => {
    const { client } = await invitePerson(server, owner);
    const tokens = client.tokens;
    if (tokens === undefined) throw new Error('not signed in');
    server.clock.advance(REFRESH_TTL_MS);
    expect(await client.fails('refresh', { refreshToken: tokens.refreshToken, deviceId: client.deviceId })).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('signs out one device, leaving the others', async () => {
    const person = await invitePerson(server, owner);
    const other = await secondDevice(person);
    expect(await person.client.ok('signOut', {})).toEqual({ endedSessions: 1 });
    expect(await person.client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    const refreshToken = person.client.tokens?.refreshToken ?? '';
    expect(await person.client.fails('refresh', { refreshToken, deviceId: person.client.deviceId })).toMatchObject({ code: 'UNAUTHORIZED' });
    await other.ok('session', undefined);
  });

  it('signs out everywhere: every device of the person, nobody else', async () => {
    const person = await invitePerson(server, owner);
    const other = await secondDevice(person);
    const bystander = await invitePerson(server, owner);
    expect(await other.ok('signOutEverywhere', {})).toEqual({ endedSessions: 2 });
    expect(await other.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await person.client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    await bystander.client.ok('session', undefined);
  });

  it('changes a password only from a fresh sign-in (a refreshed session is not one)', async () => {
    const person = await invitePerson(server, owner);
    server.clock.advance(PASSWORD_FRESH_MS + 1);
    const tokens = person.client.tokens;
    if (tokens === undefined) throw new Error('not signed in');
    person.client.tokens = (await person.client.ok('refresh', { refreshToken: tokens.refreshToken, deviceId: person.client.deviceId })).tokens;
    await expect(person.client.changePassword(uniquePassword())).rejects.toThrow(/UNAUTHORIZED: Sign in again to change your password/);
    // The old password still works: nothing changed.
    await new TestClient(server.url).login(person.username, person.password);
  });

  it('a password change ends every other session and any half-done sign-in; the old password is refused, the new one works', async () => {
    const person = await invitePerson(server, owner);
    const other = await secondDevice(person);
    const otherTokens = other.tokens;
    if (otherTokens === undefined) throw new Error('not signed in');
    const pending = await new TestClient(server.url).loginStart(person.username, person.password);
    const newPassword = uniquePassword();
    const changed = await person.client.changePassword(newPassword, person.privateKey);
    expect(changed.endedSessions).toBe(1);
    await person.client.ok('session', undefined);
    expect(await other.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await other.fails('refresh', { refreshToken: otherTokens.refreshToken, deviceId: other.deviceId })).toMatchObject({ code: 'UNAUTHORIZED' });
    if (pending.finish === undefined) throw new Error('the client could not finish');
    const late = await other.fails('loginFinish', { attemptId: pending.attemptId, finishLoginRequest: pending.finish.finishLoginRequest, deviceId: other.deviceId });
    expect(late).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await new TestClient(server.url).loginStart(person.username, person.password)).finish).toBeUndefined();
    // The key material, sealed again by the client, opens with the new password's export key.
    const again = new TestClient(server.url);
    const { exportKey } = await again.login(person.username, newPassword);
    expect(exportKey).toBe(changed.exportKey);
    const { sealedKeys } = await again.ok('accountKeys', undefined);
    expect(openWithExportKey(exportKey, sealedKeys ?? '')).toEqual(person.privateKey);
  });
});
