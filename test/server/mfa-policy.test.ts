/**
 * The second-step policy per role and for external people (Q360, ClientTrack), over real HTTP
 * on PostgreSQL and on PGlite, a new server for each test: off / optional / required globally,
 * per role and for people marked external, the strictest that applies winning; only owners set
 * levels, owners and admins mark people external (admins never an owner); turning a level off
 * keeps everyone's authenticator and turning it on again asks every session again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { text } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('the MFA policy on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeEach(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterEach(async () => server?.close());

  async function secondStepOf(person: Person): Promise<string> {
    const client = new TestClient(server.url);
    return (await client.login(person.username, person.password)).secondStep;
  }

  it('is set by owners per scope and read by owners and admins; the global level is never taken away', async () => {
    const admin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    expect(await owner.client.ok('mfaPolicyGet', undefined)).toEqual({ policy: 'optional', roles: { owner: null, admin: null, member: null }, external: null, idleMinutes: 30 });
    expect(await member.client.fails('mfaPolicyGet', undefined)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.ok('mfaPolicySet', { scope: 'member', level: 'required' })).toEqual({
      policy: 'optional', roles: { owner: null, admin: null, member: 'required' }, external: null, idleMinutes: 30,
    });
    await owner.client.ok('mfaPolicySet', { scope: 'external', level: 'off' });
    expect(await admin.client.ok('mfaPolicyGet', undefined)).toEqual({ policy: 'optional', roles: { owner: null, admin: null, member: 'required' }, external: 'off', idleMinutes: 30 });
    expect(await admin.client.fails('mfaPolicySet', { scope: 'member', level: 'off' })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.fails('mfaPolicySet', { level: null })).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await owner.client.ok('mfaPolicySet', { scope: 'member', level: null })).toMatchObject({ roles: { member: null } });
  });

  it('per role: the strictest of the global level and the role\'s applies', async () => {
    const admin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    await owner.client.ok('mfaPolicySet', { scope: 'admin', level: 'required' });
    expect(await secondStepOf(admin)).toBe('enrol');
    expect(await secondStepOf(member)).toBe('done');
    expect((await admin.client.ok('mfaStatus', undefined)).policy).toBe('required');
    expect(await admin.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    // A role's off does not loosen a stricter global level.
    await owner.client.ok('mfaPolicySet', { scope: 'member', level: 'off' });
    await owner.client.ok('mfaPolicySet', { level: 'required' });
    expect(await secondStepOf(member)).toBe('enrol');
    expect((await member.client.ok('mfaStatus', undefined)).policy).toBe('required');
    // And global off asks nobody but the roles that require it.
    const { secret } = await owner.client.ok('mfaEnrolStart', {});
    await owner.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    await owner.client.ok('mfaPolicySet', { level: 'off' });
    expect(await secondStepOf(member)).toBe('done');
    expect(await secondStepOf(admin)).toBe('enrol');
    expect(await secondStepOf(owner)).toBe('done');
  });

  it('external people: marked by owners or admins (never an owner by an admin), with their own level', async () => {
    const admin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    expect(await member.client.fails('adminUserExternal', { userId: admin.user.id, external: true })).toMatchObject({ code: 'FORBIDDEN' });
    await owner.client.ok('mfaPolicySet', { scope: 'external', level: 'required' });
    expect(await secondStepOf(member)).toBe('done');
    expect(await admin.client.ok('adminUserExternal', { userId: member.user.id, external: true })).toEqual({ userId: member.user.id, external: true });
    // Decided at every request: the session already open is asked now.
    expect(await member.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED', message: 'This server requires two-step sign-in: set up an authenticator app first' });
    expect(await secondStepOf(member)).toBe('enrol');
    expect((await owner.client.ok('adminMfaList', undefined)).users.find((user) => user.userId === member.user.id)).toMatchObject({ external: true, policy: 'required' });
    expect(await admin.client.fails('adminUserExternal', { userId: owner.user.id, external: true })).toMatchObject({ code: 'FORBIDDEN', message: 'Admins never act on an owner' });
    expect(await owner.client.fails('adminUserExternal', { userId: owner.user.id, external: false })).toMatchObject({ code: 'FORBIDDEN', message: 'Nobody marks themselves external or internal' });
    await owner.client.ok('adminUserExternal', { userId: member.user.id, external: false });
    expect(await secondStepOf(member)).toBe('done');
    const rows = await server.db.query("SELECT actor_id, subject_id, detail FROM server_audit WHERE kind = 'user.external-set' ORDER BY seq");
    expect(rows.map((row) => [text(row, 'actor_id'), text(row, 'subject_id'), text(row, 'detail')])).toEqual([
      [admin.user.id, member.user.id, '{"external":true}'], [owner.user.id, member.user.id, '{"external":false}'],
    ]);
  });

  it('off keeps everyone\'s authenticator; on again asks every session for its code again, even one that gave it', async () => {
    const member = await invitePerson(server, owner);
    const { secret } = await member.client.ok('mfaEnrolStart', {});
    await member.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    await member.client.ok('accountKeys', undefined);
    await owner.client.ok('mfaPolicySet', { level: 'off' });
    expect(await secondStepOf(member)).toBe('done');
    expect((await member.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    server.clock.advance(1000);
    await owner.client.ok('mfaPolicySet', { level: 'optional' });
    // The session that gave its code before the policy was off is asked again.
    expect(await member.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED', message: 'Enter the code from your authenticator app first' });
    expect(await secondStepOf(member)).toBe('code');
    server.clock.advance(30_000);
    await member.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    await member.client.ok('accountKeys', undefined);
    // The same for a role's own level turned on from off.
    await owner.client.ok('mfaPolicySet', { scope: 'member', level: 'off' });
    server.clock.advance(1000);
    await owner.client.ok('mfaPolicySet', { scope: 'member', level: 'required' });
    expect(await member.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    const rows = await server.db.query("SELECT detail FROM server_audit WHERE kind = 'mfa.policy-set' ORDER BY seq");
    expect(rows.map((row) => JSON.parse(text(row, 'detail')) as unknown)).toEqual([
      { askedAgain: false, level: 'off', scope: 'global' },
      { askedAgain: true, level: 'optional', scope: 'global' },
      { askedAgain: false, level: 'off', scope: 'member' },
      { askedAgain: true, level: 'required', scope: 'member' },
    ]);
  });
});
