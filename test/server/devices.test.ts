/**
 * A person's devices on the server, over real HTTP on PostgreSQL and on PGlite, with codes
 * read from a real SMTP server on loopback: a device never authorised gets an e-mailed code
 * once before anything is released (when the server can send e-mail and the person has an
 * address), then is authorised; people list and remove their own devices, owners anyone's,
 * admins anyone's but an owner's, and removing one ends its sessions; "trust this device"
 * right after a second step skips the second step there for the configured hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRUST_FRESH_MS } from '../../server/auth/devices';
import { text } from '../../server/store/db';
import { DEFAULT_TRUSTED_DEVICE_HOURS } from '../../shared/api/server-contract';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { startMailbox, type Mailbox } from './mailbox';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const HOUR_MS = 60 * 60_000;

describe.each(DATABASE_KINDS)('devices on %s', (kind) => {
  let server: TestServer;
  let mailbox: Mailbox;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    mailbox = await startMailbox();
    owner = await registerOwner(server);
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, password: mailbox.password, from: 'crewvault@example.test' });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await mailbox?.close();
  });

  function emailOf(person: Person): string {
    return `${person.username}@example.test`;
  }

  /** Someone with an e-mail address (set from their first device, which that authorises), and an authenticator when asked. */
  async function personWithEmail(options: { role?: 'admin' | 'member'; authenticator?: boolean } = {}): Promise<{ person: Person; secret: string | undefined }> {
    const person = await invitePerson(server, owner, options.role ?? 'member');
    await person.client.ok('contactSet', { email: emailOf(person), phone: null });
    if (options.authenticator !== true) return { person, secret: undefined };
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    return { person, secret };
  }

  /** A new device authorised with the code e-mailed to `person`. */
  async function authorisedDevice(person: Person): Promise<TestClient> {
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('device');
    await client.ok('mfaEmailSend', {});
    expect(await client.ok('mfaEmail', { code: mailbox.codeFor(emailOf(person)) })).toEqual({ secondStep: 'done' });
    return client;
  }

  it('asks a device never used for an e-mailed code once before it releases anything, then never again', async () => {
    const { person } = await personWithEmail();
    const laptop = new TestClient(server.url);
    expect((await laptop.login(person.username, person.password)).secondStep).toBe('device');
    expect(await laptop.fails('accountKeys', undefined)).toEqual({ code: 'MFA_REQUIRED', status: 401, message: 'This device is new: enter the code e-mailed to you first' });
    expect(await laptop.fails('mfaSmsSend', {})).toMatchObject({ code: 'FORBIDDEN', message: 'A new device is authorised with a code sent by e-mail' });
    await laptop.ok('mfaEmailSend', {});
    expect(mailbox.lastTo(emailOf(person))?.raw).toContain('Your Crewvault sign-in code is');
    expect(await laptop.ok('mfaEmail', { code: mailbox.codeFor(emailOf(person)) })).toEqual({ secondStep: 'done' });
    await laptop.ok('accountKeys', undefined);
    // The same device later: nothing asked. The device it set its address from was never asked.
    const sameLaptop = new TestClient(server.url, laptop.deviceId, laptop.deviceToken);
    expect((await sameLaptop.login(person.username, person.password)).secondStep).toBe('done');
    await person.client.ok('accountKeys', undefined);
    const { devices } = await person.client.ok('devicesList', undefined);
    expect(devices.map((d) => d.deviceId).sort()).toEqual([laptop.deviceId, person.client.deviceId].sort());
    expect(devices.every((d) => d.authorisedAt === server.clock.now() && d.trustedUntil === null)).toBe(true);
    expect(devices.find((d) => d.deviceId === laptop.deviceId)?.sessions).toBe(2);
  });

  it('takes a device\'s token for proof, never its id: the id alone (it is in every request and the database) is asked again', async () => {
    const { person, secret } = await personWithEmail({ authenticator: true });
    const laptop = new TestClient(server.url);
    await laptop.login(person.username, person.password);
    const first = laptop.deviceToken;
    expect(first).toMatch(/^cvd_[A-Za-z0-9_-]{43}$/);
    await laptop.ok('mfaEmailSend', {});
    await laptop.ok('mfaEmail', { code: mailbox.codeFor(emailOf(person)) });
    await laptop.ok('deviceTrust', {});
    // The device with its token: trusted and authorised, no new token.
    const again = new TestClient(server.url, laptop.deviceId, first);
    const signedIn = await again.login(person.username, person.password);
    expect(signedIn.secondStep).toBe('done');
    expect(signedIn.deviceToken).toBeUndefined();
    // Someone with the password and the id but not the token: a second step and the device's code.
    const copy = new TestClient(server.url, laptop.deviceId);
    expect((await copy.login(person.username, person.password)).secondStep).toBe('code');
    expect(copy.deviceToken).not.toBe(first);
    server.clock.advance(30_000);
    expect(await copy.ok('mfaVerify', { code: authenticatorCode(secret ?? '', server.clock.now()) })).toEqual({ secondStep: 'device' });
    // The database keeps only hashes of device tokens.
    const rows = await server.db.query('SELECT row_to_json(t)::text AS r FROM devices t UNION ALL SELECT row_to_json(s)::text FROM sessions s');
    expect(rows.map((row) => text(row, 'r')).join('\n')).not.toContain(first ?? 'no token');
  });

  it('asks nothing of a device while the person has no e-mail address on file', async () => {
    const person = await invitePerson(server, owner);
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('done');
    expect(await client.ok('mfaMethods', undefined)).toMatchObject({ email: null, contactAdministrator: true });
    // Once an address is set (here by an admin), each device not yet authorised is asked once.
    await owner.client.ok('contactSet', { userId: person.user.id, email: emailOf(person), phone: null });
    expect((await client.ok('session', undefined)).secondStep).toBe('device');
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
  });

  it('asks a new device for its e-mailed code after the authenticator\'s, and the authenticator\'s reply says so', async () => {
    const { person, secret } = await personWithEmail({ authenticator: true });
    server.clock.advance(30_000);
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('code');
    expect(await client.ok('mfaVerify', { code: authenticatorCode(secret ?? '', server.clock.now()) })).toEqual({ secondStep: 'device' });
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    await client.ok('mfaEmailSend', {});
    expect(await client.ok('mfaEmail', { code: mailbox.codeFor(emailOf(person)) })).toEqual({ secondStep: 'done' });
    await client.ok('accountKeys', undefined);
    // The e-mailed code alone does both on the next new device: second step and authorisation.
    const phone = new TestClient(server.url);
    expect((await phone.login(person.username, person.password)).secondStep).toBe('code');
    await phone.ok('mfaEmailSend', {});
    expect(await phone.ok('mfaEmail', { code: mailbox.codeFor(emailOf(person)) })).toEqual({ secondStep: 'done' });
  });

  it('lets a person remove their own device: its sessions end and it is asked again', async () => {
    const { person } = await personWithEmail();
    const laptop = await authorisedDevice(person);
    expect(await person.client.ok('deviceRemove', { deviceId: laptop.deviceId })).toEqual({ removed: true, endedSessions: 1 });
    expect(await laptop.fails('accountKeys', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await person.client.ok('devicesList', undefined)).devices.map((d) => d.deviceId)).toEqual([person.client.deviceId]);
    expect((await new TestClient(server.url, laptop.deviceId, laptop.deviceToken).login(person.username, person.password)).secondStep).toBe('device');
    expect(await person.client.ok('deviceRemove', { deviceId: 'no-such-device-0000' })).toEqual({ removed: false, endedSessions: 0 });
    const rows = await server.db.query("SELECT actor_id, detail FROM server_audit WHERE subject_id = $1 AND kind = 'device.removed'", [person.user.id]);
    expect(rows.map((row) => [row.actor_id, text(row, 'detail')])).toEqual([[person.user.id, `{"deviceId":"${laptop.deviceId}","endedSessions":1}`]]);
  });

  it('lets owners list and remove anyone\'s devices, admins anyone\'s but an owner\'s, members nobody else\'s', async () => {
    const { person: member } = await personWithEmail();
    const { person: admin } = await personWithEmail({ role: 'admin' });
    const { person: other } = await personWithEmail();
    const laptop = await authorisedDevice(member);
    expect((await admin.client.ok('adminDevicesList', { userId: member.user.id })).devices.map((d) => d.deviceId).sort())
      .toEqual([laptop.deviceId, member.client.deviceId].sort());
    expect(await admin.client.ok('adminDeviceRemove', { userId: member.user.id, deviceId: laptop.deviceId })).toEqual({ removed: true, endedSessions: 1 });
    expect(await laptop.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await admin.client.fails('adminDevicesList', { userId: owner.user.id })).toEqual({ code: 'FORBIDDEN', status: 403, message: 'Admins never act on an owner' });
    expect(await admin.client.fails('adminDeviceRemove', { userId: owner.user.id, deviceId: owner.client.deviceId })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await admin.client.fails('contactSet', { userId: owner.user.id, email: 'evil@example.test', phone: null })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await other.client.fails('adminDevicesList', { userId: member.user.id })).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners and admins act on someone else\'s account' });
    expect(await owner.client.ok('adminDeviceRemove', { userId: admin.user.id, deviceId: admin.client.deviceId })).toEqual({ removed: true, endedSessions: 1 });
    expect(await owner.client.fails('adminDevicesList', { userId: 'f'.repeat(32) })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('trusts a device right after a second step for 48 hours (the default), then asks again; removing it ends the trust', async () => {
    const { person, secret } = await personWithEmail({ authenticator: true });
    server.clock.advance(30_000);
    const desk = new TestClient(server.url, person.client.deviceId, person.client.deviceToken);
    expect((await desk.login(person.username, person.password)).secondStep).toBe('code');
    expect(await desk.fails('deviceTrust', {})).toMatchObject({ code: 'MFA_REQUIRED' });
    await desk.ok('mfaVerify', { code: authenticatorCode(secret ?? '', server.clock.now()) });
    const { trustedUntil } = await desk.ok('deviceTrust', {});
    expect(trustedUntil).toBe(server.clock.now() + DEFAULT_TRUSTED_DEVICE_HOURS * HOUR_MS);
    expect((await desk.ok('devicesList', undefined)).devices.find((d) => d.deviceId === desk.deviceId)?.trustedUntil).toBe(trustedUntil);
    // A sign-in on that device skips the second step; on another it does not.
    expect((await new TestClient(server.url, desk.deviceId, desk.deviceToken).login(person.username, person.password)).secondStep).toBe('done');
    expect((await new TestClient(server.url).login(person.username, person.password)).secondStep).toBe('code');
    // Only right after a second step.
    server.clock.advance(TRUST_FRESH_MS + 1);
    expect(await desk.fails('deviceTrust', {})).toEqual({ code: 'MFA_REQUIRED', status: 401, message: 'Trust a device right after its second step: verify again first' });
    server.clock.advance(DEFAULT_TRUSTED_DEVICE_HOURS * HOUR_MS);
    const later = new TestClient(server.url, desk.deviceId, desk.deviceToken);
    expect((await later.login(person.username, person.password)).secondStep).toBe('code');
    // Trusted again, then removed: the trust goes with it.
    await later.ok('mfaVerify', { code: authenticatorCode(secret ?? '', server.clock.now()) });
    await later.ok('deviceTrust', {});
    expect(await later.ok('deviceRemove', { deviceId: later.deviceId })).toMatchObject({ removed: true });
    const after = new TestClient(server.url, desk.deviceId, later.deviceToken);
    expect((await after.login(person.username, person.password)).secondStep).toBe('code');
  });
});
