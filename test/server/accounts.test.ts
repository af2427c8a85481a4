/**
 * Accounts over real HTTP with a real OPAQUE client, on PostgreSQL and on PGlite:
 * registration only by invite (used once, for its name and role), sign-in by OPAQUE, wrong
 * passwords and unknown names answered alike, a sign-in's finish accepted once and only for
 * its own attempt, and attempts that expire by the (injected) clock.
 */
import { randomBytes } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_ATTEMPT_TTL_MS } from '../../server/context';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, openWithExportKey, registerOwner, startTestServer, TestClient, uniqueName, uniquePassword, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('accounts on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  describe('registration', () => {
    it('made the first owner from the server\'s invite, which then is used up', async () => {
      expect(owner.user.role).toBe('owner');
      const again = new TestClient(server.url);
      const { registrationRequest } = opaque.client.startRegistration({ password: uniquePassword() });
      const refused = await again.fails('registerStart', { invite: server.ownerInvite, username: uniqueName(), registrationRequest });
      expect(refused).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    });

    it('takes an invite only for the name it was made for, once', async () => {
      const username = uniqueName();
      const { invite } = await owner.client.ok('inviteCreate', { username, role: 'member' });
      const client = new TestClient(server.url);
      const { registrationRequest } = opaque.client.startRegistration({ password: uniquePassword() });
      expect(await client.fails('registerStart', { invite, username: uniqueName(), registrationRequest })).toMatchObject({ code: 'FORBIDDEN' });
      const { user } = await client.register(invite, ` ${username.toUpperCase()} `, uniquePassword());
      expect(user).toMatchObject({ username: username.toUpperCase(), role: 'member' });
      await expect(new TestClient(server.url).register(invite, username, uniquePassword())).rejects.toThrow(/FORBIDDEN/);
    });

    it('refuses a made-up invite, and an invite past its week', async () => {
      const client = new TestClient(server.url);
      await expect(client.register(`cvi_${randomBytes(32).toString('base64url')}`, uniqueName(), uniquePassword())).rejects.toThrow(/FORBIDDEN/);
      const username = uniqueName();
      const { invite, expiresAt } = await owner.client.ok('inviteCreate', { username, role: 'member' });
      const saved = server.clock.now();
      server.clock.advance(expiresAt - saved);
      try {
        await expect(client.register(invite, username, uniquePassword())).rejects.toThrow(/FORBIDDEN/);
      } finally {
        server.clock.advance(saved - server.clock.now());
      }
    });

    it('refuses a record of the wrong shape for OPAQUE, and keeps the invite for a good one', async () => {
      const username = uniqueName();
      const { invite } = await owner.client.ok('inviteCreate', { username, role: 'member' });
      const client = new TestClient(server.url);
      const bad = await client.fails('registerFinish', { invite, username, registrationRecord: randomBytes(100).toString('base64url'), sealedKeys: 'c2VhbGVk' });
      expect(bad).toMatchObject({ code: 'INVALID_INPUT', status: 400 });
      const { user } = await client.register(invite, username, uniquePassword());
      expect(user.username).toBe(username);
    });

    it('lets owners invite admins and members, admins only members, members nobody; a taken name is ALREADY_EXISTS', async () => {
      const admin = await invitePerson(server, owner, 'admin');
      const member = await invitePerson(server, admin, 'member');
      expect(admin.user.role).toBe('admin');
      expect(member.user.role).toBe('member');
      expect(await admin.client.fails('inviteCreate', { username: uniqueName(), role: 'admin' })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      expect(await member.client.fails('inviteCreate', { username: uniqueName(), role: 'member' })).toMatchObject({ code: 'FORBIDDEN' });
      expect(await owner.client.fails('inviteCreate', { username: member.username.toUpperCase(), role: 'member' })).toMatchObject({ code: 'ALREADY_EXISTS', status: 409 });
    });
  });

  describe('sign-in', () => {
    it('signs in with the right password, any case or spacing of the name, and the export key is the registration\'s', async () => {
      const username = uniqueName();
      const password = uniquePassword();
      const { invite } = await owner.client.ok('inviteCreate', { username, role: 'member' });
      const client = new TestClient(server.url);
      const { exportKey } = await client.register(invite, username, password);
      const signedIn = await client.login(`  ${username.toUpperCase()}`, password);
      expect(signedIn.user).toMatchObject({ username, role: 'member' });
      expect(signedIn.exportKey).toBe(exportKey);
      const session = await client.ok('session', undefined);
      expect(session).toMatchObject({ user: { username }, deviceId: client.deviceId, authenticatedAt: server.clock.now() });
    });

    it('hands a signed-in person the key material their client sealed, which only their export key opens', async () => {
      const person = await invitePerson(server, owner);
      const { exportKey } = await person.client.login(person.username, person.password);
      const { sealedKeys } = await person.client.ok('accountKeys', undefined);
      if (sealedKeys === null) throw new Error('no sealed keys');
      expect(openWithExportKey(exportKey, sealedKeys)).toEqual(person.privateKey);
      const other = await invitePerson(server, owner);
      const { exportKey: othersKey } = await other.client.login(other.username, other.password);
      expect(openWithExportKey(othersKey, sealedKeys)).toBeUndefined();
      expect(await new TestClient(server.url).fails('accountKeys', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('refuses a wrong password: the client cannot finish, and a finish it makes up is WRONG_PASSWORD', async () => {
      const person = await invitePerson(server, owner);
      const client = new TestClient(server.url);
      const started = await client.loginStart(person.username, uniquePassword());
      expect(started.finish).toBeUndefined();
      const madeUp = await client.fails('loginFinish', { attemptId: started.attemptId, finishLoginRequest: randomBytes(64).toString('base64url'), deviceId: client.deviceId });
      expect(madeUp).toEqual({ code: 'WRONG_PASSWORD', message: 'Wrong user name or password', status: 401 });
    });

    it('answers a name nobody has exactly as it answers a real name with a wrong password', async () => {
      const person = await invitePerson(server, owner);
      const client = new TestClient(server.url);
      const real = await client.loginStart(person.username, uniquePassword());
      const unknownName = uniqueName('nobody');
      const unknown = await client.loginStart(unknownName, uniquePassword());
      // Same shape and sizes: OPAQUE answered the unknown name from a fake record.
      expect(unknown.finish).toBeUndefined();
      expect(unknown.attemptId.length).toBe(real.attemptId.length);
      expect(unknown.loginResponse.length).toBe(real.loginResponse.length);
      expect(unknown.loginResponse).not.toBe(real.loginResponse);
      const finish = { finishLoginRequest: randomBytes(64).toString('base64url'), deviceId: client.deviceId };
      const realRefusal = await client.fails('loginFinish', { attemptId: real.attemptId, ...finish });
      const unknownRefusal = await client.fails('loginFinish', { attemptId: unknown.attemptId, ...finish });
      expect(unknownRefusal).toEqual(realRefusal);
      // Twice for the same unknown name: still an answer of the same size, never an error.
      const again = await client.loginStart(unknownName, uniquePassword());
      expect(again.loginResponse.length).toBe(real.loginResponse.length);
      expect(server.logs.join('')).not.toContain(unknownName);
    });

    it('refuses a registered person\'s password for another name, even one that exists', async () => {
      const a = await invitePerson(server, owner);
      const b = await invitePerson(server, owner);
      expect((await new TestClient(server.url).loginStart(b.username, a.password)).finish).toBeUndefined();
    });

    it('accepts a finish once: replayed, it is UNAUTHORIZED and opens no second session', async () => {
      const person = await invitePerson(server, owner);
      const client = new TestClient(server.url);
      const started = await client.loginStart(person.username, person.password);
      if (started.finish === undefined) throw new Error('the client could not finish');
      const finish = { attemptId: started.attemptId, finishLoginRequest: started.finish.finishLoginRequest, deviceId: client.deviceId };
      await client.ok('loginFinish', finish);
      expect(await client.fails('loginFinish', finish)).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
      const sessions = await server.db.query('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [person.user.id]);
      expect(Number(sessions[0]?.n)).toBe(2); // invitePerson's own sign-in, and this one
    });

    it('refuses a finish presented for another attempt, even a real one of the same person', async () => {
      const person = await invitePerson(server, owner);
      const client = new TestClient(server.url);
      const first = await client.loginStart(person.username, person.password);
      const second = await client.loginStart(person.username, person.password);
      if (first.finish === undefined) throw new Error('the client could not finish');
      const crossed = await client.fails('loginFinish', { attemptId: second.attemptId, finishLoginRequest: first.finish.finishLoginRequest, deviceId: client.deviceId });
      expect(crossed).toMatchObject({ code: 'WRONG_PASSWORD' });
      // The first attempt is untouched by the other's failure.
      await client.ok('loginFinish', { attemptId: first.attemptId, finishLoginRequest: first.finish.finishLoginRequest, deviceId: client.deviceId });
    });

    it('lets a sign-in attempt expire by the clock', async () => {
      const person = await invitePerson(server, owner);
      const client = new TestClient(server.url);
      const started = await client.loginStart(person.username, person.password);
      if (started.finish === undefined) throw new Error('the client could not finish');
      server.clock.advance(LOGIN_ATTEMPT_TTL_MS);
      const late = await client.fails('loginFinish', { attemptId: started.attemptId, finishLoginRequest: started.finish.finishLoginRequest, deviceId: client.deviceId });
      expect(late).toMatchObject({ code: 'UNAUTHORIZED' });
    });
  });
});
