/**
 * MFA administration (issue #14, ClientTrack), over real HTTP on PostgreSQL and on PGlite with
 * the injected clock: owners and admins see who has which second steps (admins not owners),
 * and reset someone's — authenticator, recovery codes and trusted devices gone, sessions ended,
 * audited — after their own second step (or password, without an authenticator) in the last five
 * minutes; owners reset admins and members, admins members only and only while an owner grants
 * them the separate `mfa_reset` permission (ClientTrack's "Remove 2-Step Verification Admin
 * Access"); nobody an owner or themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRESH_PROOF_MS } from '../../server/auth/second-step';
import { text } from '../../server/store/db';
import type { MfaUserView } from '../../shared/api/server-contract';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('MFA administration on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  /** Sets up an authenticator in the person's session; returns its key and recovery codes. */
  async function enrol(person: Person): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    const { recoveryCodes } = await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    return { secret, recoveryCodes };
  }

  /** The owner (who has no authenticator) signs in again: a password from the last five minutes. */
  async function ownerFresh(): Promise<void> {
    await owner.client.login(owner.username, owner.password);
  }

  function rowOf(users: readonly MfaUserView[], person: Person): MfaUserView | undefined {
    return users.find((user) => user.userId === person.user.id);
  }

  it('lists who has which second steps: owners see everyone, admins everyone but owners, members nothing', async () => {
    await ownerFresh();
    const member = await invitePerson(server, owner);
    const admin = await invitePerson(server, owner, 'admin');
    const { secret } = await enrol(member);
    await member.client.ok('deviceTrust', {});
    await member.client.ok('contactSet', { email: null, phone: '+447700900123' });
    const other = new TestClient(server.url);
    await other.login(member.username, member.password);
    server.clock.advance(30_000);
    await other.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    const { users } = await owner.client.ok('adminMfaList', undefined);
    expect(rowOf(users, member)).toEqual({
      userId: member.user.id, username: member.username, role: 'member', external: false, policy: 'optional',
      authenticator: true, email: false, sms: false, recoveryCodesLeft: 10, trustedDevices: 1, mfaReset: false,
    });
    expect(rowOf(users, owner)).toMatchObject({ role: 'owner', authenticator: false, recoveryCodesLeft: 0, trustedDevices: 0, mfaReset: true });
    expect(rowOf(users, admin)).toMatchObject({ role: 'admin', mfaReset: false });
    // A phone counts as a way in once the server can send text messages.
    await owner.client.ok('smsSet', { service: 'clicksend', username: 'crewvault', apiKey: 'key-for-the-list-test', senderNumber: '+15550100', codeExpiryMinutes: 5, trustedDeviceHours: 48 });
    expect(rowOf((await owner.client.ok('adminMfaList', undefined)).users, member)).toMatchObject({ sms: true, email: false });
    const seenByAdmin = (await admin.client.ok('adminMfaList', undefined)).users;
    expect(rowOf(seenByAdmin, owner)).toBeUndefined();
    expect(rowOf(seenByAdmin, member)).toMatchObject({ authenticator: true });
    expect(seenByAdmin.every((user) => user.role !== 'owner')).toBe(true);
    expect(await member.client.fails('adminMfaList', undefined)).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('resets a member\'s MFA after the owner\'s fresh password: authenticator, codes and trusted devices go, sessions end', async () => {
    await ownerFresh();
    const member = await invitePerson(server, owner);
    const { recoveryCodes } = await enrol(member);
    await member.client.ok('deviceTrust', {});
    server.clock.advance(FRESH_PROOF_MS + 1000);
    expect(await owner.client.fails('adminMfaReset', { userId: member.user.id })).toEqual({
      code: 'UNAUTHORIZED', status: 401, message: 'Sign in again with your password first (or enter a code): this needs a sign-in from the last 5 minutes',
    });
    expect((await member.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    await ownerFresh();
    expect(await owner.client.ok('adminMfaReset', { userId: member.user.id })).toEqual({ authenticator: true, trustedDevices: 1, endedSessions: 1 });
    expect(await member.client.fails('accountKeys', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    const again = new TestClient(server.url, member.client.deviceId, member.client.deviceToken);
    expect((await again.login(member.username, member.password)).secondStep).toBe('done');
    expect(await again.ok('mfaStatus', undefined)).toMatchObject({ authenticator: false, recoveryCodesLeft: 0 });
    expect((await again.ok('devicesList', undefined)).devices.map((device) => device.trustedUntil)).toEqual([null]);
    expect(await again.fails('mfaRecovery', { code: recoveryCodes[0] ?? '' })).toMatchObject({ code: 'INVALID_INPUT' });
    const [row] = await server.db.query("SELECT actor_id, subject_id, detail FROM server_audit WHERE kind = 'mfa.reset' ORDER BY seq DESC LIMIT 1");
    expect(row === undefined ? undefined : [text(row, 'actor_id'), text(row, 'subject_id'), JSON.parse(text(row, 'detail')) as unknown])
      .toEqual([owner.user.id, member.user.id, { authenticator: true, endedSessions: 1, trustedDevices: 1 }]);
  });

  /** The owner grants (or takes back) an admin's permission to reset second steps, from a fresh sign-in. */
  async function grantReset(admin: Person, granted = true): Promise<void> {
    await ownerFresh();
    await owner.client.ok('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted });
  }

  it('asks an admin who has an authenticator for a fresh code, not only a password', async () => {
    await ownerFresh();
    const admin = await invitePerson(server, owner, 'admin');
    const { secret } = await enrol(admin);
    await grantReset(admin);
    const member = await invitePerson(server, admin);
    await enrol(member);
    server.clock.advance(FRESH_PROOF_MS + 1000);
    expect(await admin.client.fails('adminMfaReset', { userId: member.user.id })).toMatchObject({ code: 'MFA_REQUIRED', status: 401 });
    // A fresh password sign-in alone is a session still waiting for its code.
    const fresh = new TestClient(server.url);
    await fresh.login(admin.username, admin.password);
    expect(await fresh.fails('adminMfaReset', { userId: member.user.id })).toMatchObject({ code: 'MFA_REQUIRED' });
    await fresh.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    expect(await fresh.ok('adminMfaReset', { userId: member.user.id })).toMatchObject({ authenticator: true, endedSessions: 1 });
  });

  it('never resets an owner\'s or one\'s own; only owners reset an admin\'s; members nobody\'s', async () => {
    await ownerFresh();
    const admin = await invitePerson(server, owner, 'admin');
    const otherAdmin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    await enrol(otherAdmin);
    await grantReset(admin);
    expect(await admin.client.fails('adminMfaReset', { userId: owner.user.id })).toEqual({
      code: 'FORBIDDEN', status: 403, message: 'An owner\'s two-step sign-in is never reset by someone else',
    });
    expect(await admin.client.fails('adminMfaReset', { userId: otherAdmin.user.id })).toMatchObject({ code: 'FORBIDDEN', message: 'Only an owner resets an admin\'s two-step sign-in' });
    expect(await owner.client.fails('adminMfaReset', { userId: owner.user.id })).toMatchObject({ code: 'FORBIDDEN', message: 'Turn your own authenticator off instead of resetting it' });
    expect(await member.client.fails('adminMfaReset', { userId: otherAdmin.user.id })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.fails('adminMfaReset', { userId: 'f'.repeat(32) })).toMatchObject({ code: 'NOT_FOUND' });
    expect((await otherAdmin.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    await ownerFresh();
    expect(await owner.client.ok('adminMfaReset', { userId: otherAdmin.user.id })).toMatchObject({ authenticator: true });
    // A reset of someone without an authenticator still ends their sessions, and says there was none.
    expect(await admin.client.ok('adminMfaReset', { userId: member.user.id })).toEqual({ authenticator: false, trustedDevices: 0, endedSessions: 1 });
    expect(await admin.client.fails('adminMfaReset', { userId: admin.user.id })).toMatchObject({ code: 'FORBIDDEN', message: 'Turn your own authenticator off instead of resetting it' });
  });

  it('lets an admin reset a member only while an owner grants mfa_reset, audited both ways', async () => {
    await ownerFresh();
    const admin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    await enrol(member);
    const refused = { code: 'FORBIDDEN', status: 403, message: 'Resetting someone\'s two-step sign-in needs its own permission: an owner grants it (crewvault team mfa grant)' };
    expect(await admin.client.fails('adminMfaReset', { userId: member.user.id })).toEqual(refused);
    expect((await member.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    // Granting is an owner's act after fresh proof, as a reset is.
    server.clock.advance(FRESH_PROOF_MS + 1000);
    await owner.client.login(owner.username, owner.password);
    server.clock.advance(FRESH_PROOF_MS + 1000);
    expect(await owner.client.fails('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted: true })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await admin.client.fails('adminMfaReset', { userId: member.user.id })).toMatchObject({ code: 'FORBIDDEN' });
    await ownerFresh();
    expect(await owner.client.ok('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted: true })).toEqual({ userId: admin.user.id, permission: 'mfa_reset', granted: true, changed: true });
    expect(await owner.client.ok('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted: true })).toMatchObject({ changed: false });
    expect(rowOf((await owner.client.ok('adminMfaList', undefined)).users, admin)).toMatchObject({ mfaReset: true });
    await admin.client.login(admin.username, admin.password);
    expect(await admin.client.ok('adminMfaReset', { userId: member.user.id })).toMatchObject({ authenticator: true, endedSessions: 1 });
    // Taken back: refused again, whatever the admin's session.
    await grantReset(admin, false);
    expect(await admin.client.fails('adminMfaReset', { userId: member.user.id })).toEqual(refused);
    expect(rowOf((await owner.client.ok('adminMfaList', undefined)).users, admin)).toMatchObject({ mfaReset: false });
    const rows = await server.db.query("SELECT kind, actor_id, subject_id, detail FROM server_audit WHERE kind LIKE 'grant.%' AND subject_id = $1 ORDER BY seq", [admin.user.id]);
    expect(rows.map((row) => [text(row, 'kind'), text(row, 'actor_id'), JSON.parse(text(row, 'detail')) as unknown])).toEqual([
      ['grant.given', owner.user.id, { permission: 'mfa_reset' }],
      ['grant.revoked', owner.user.id, { permission: 'mfa_reset' }],
    ]);
  });

  it('lets nobody past a member\'s second step another way without mfa_reset and fresh proof: no emergency code, no e-mail or phone of theirs set', async () => {
    await ownerFresh();
    const admin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    await enrol(member);
    // Either would get whoever knows the member's password past their authenticator, as a reset would.
    expect(await admin.client.fails('mfaEmergencyIssue', { userId: member.user.id })).toEqual({
      code: 'FORBIDDEN', status: 403, message: 'Issuing someone an emergency code needs its own permission: an owner grants it (crewvault team mfa grant)',
    });
    expect(await admin.client.fails('contactSet', { userId: member.user.id, email: 'admins-own-inbox@example.test', phone: null })).toEqual({
      code: 'FORBIDDEN', status: 403, message: 'Setting where someone\'s codes are sent needs its own permission: an owner grants it (crewvault team mfa grant)',
    });
    expect(await admin.client.fails('contactSet', { userId: member.user.id, email: null, phone: '+447700900999' })).toMatchObject({ code: 'FORBIDDEN' });
    const acted = async (): Promise<string[]> => (await server.db.query(
      "SELECT kind FROM server_audit WHERE subject_id = $1 AND kind IN ('mfa.emergency-issued', 'contact.set') ORDER BY seq", [member.user.id],
    )).map((row) => text(row, 'kind'));
    expect(await acted()).toEqual([]);
    // Granted, the admin still needs a sign-in from the last five minutes, as for a reset; so does an owner.
    await grantReset(admin);
    server.clock.advance(FRESH_PROOF_MS + 1000);
    expect(await admin.client.fails('mfaEmergencyIssue', { userId: member.user.id })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await admin.client.fails('contactSet', { userId: member.user.id, email: 'admins-own-inbox@example.test', phone: null })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await owner.client.fails('mfaEmergencyIssue', { userId: member.user.id })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await owner.client.fails('contactSet', { userId: member.user.id, email: 'owners-inbox@example.test', phone: null })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await acted()).toEqual([]);
    // One's own contact is one's own: no permission and no fresh proof.
    expect(await owner.client.ok('contactSet', { email: null, phone: '+447700900111' })).toEqual({ email: null, phone: '+447700900111' });
    await admin.client.login(admin.username, admin.password);
    expect((await admin.client.ok('mfaEmergencyIssue', { userId: member.user.id })).code).toMatch(/^[A-Z]{6}$/);
    expect(await admin.client.ok('contactSet', { userId: member.user.id, email: 'member@example.test', phone: null })).toEqual({ email: 'member@example.test', phone: null });
    expect(await acted()).toEqual(['mfa.emergency-issued', 'contact.set']);
  });

  it('lets an admin mark a member external (stricter) but take the mark off only as a reset would: with mfa_reset and fresh proof', async () => {
    await ownerFresh();
    const admin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    const { secret } = await enrol(member);
    // Where only external people are asked, taking the mark off lets the member's password in alone.
    await owner.client.ok('mfaPolicySet', { level: 'off' });
    await owner.client.ok('mfaPolicySet', { scope: 'external', level: 'required' });
    try {
      expect(await admin.client.ok('adminUserExternal', { userId: member.user.id, external: true })).toEqual({ userId: member.user.id, external: true });
      const asked = async (): Promise<string> => (await new TestClient(server.url).login(member.username, member.password)).secondStep;
      expect(await asked()).toBe('code');
      expect(await admin.client.fails('adminUserExternal', { userId: member.user.id, external: false })).toEqual({
        code: 'FORBIDDEN', status: 403, message: 'Taking someone\'s external mark off needs its own permission: an owner grants it (crewvault team mfa grant)',
      });
      expect(await asked()).toBe('code');
      await grantReset(admin);
      server.clock.advance(FRESH_PROOF_MS + 1000);
      expect(await admin.client.fails('adminUserExternal', { userId: member.user.id, external: false })).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await asked()).toBe('code');
      await admin.client.login(admin.username, admin.password);
      expect(await admin.client.ok('adminUserExternal', { userId: member.user.id, external: false })).toEqual({ userId: member.user.id, external: false });
      expect(await asked()).toBe('done');
      expect(secret).not.toBe('');
    } finally {
      // Taking levels away is loosening: from a fresh sign-in.
      await ownerFresh();
      await owner.client.ok('mfaPolicySet', { scope: 'external', level: null });
      await owner.client.ok('mfaPolicySet', { level: 'optional' });
    }
  });

  it('asks an owner for fresh proof to loosen the policy or the idle time (a stolen session would turn MFA off for everyone), not to tighten it', async () => {
    await ownerFresh();
    const before = await owner.client.ok('mfaPolicyGet', undefined);
    server.clock.advance(FRESH_PROOF_MS + 1000);
    try {
      const stale = { code: 'UNAUTHORIZED', status: 401, message: 'Sign in again with your password first (or enter a code): this needs a sign-in from the last 5 minutes' };
      expect(await owner.client.fails('mfaPolicySet', { level: 'off' })).toEqual(stale);
      // Tightening needs nothing more; taking a scope's own level away is loosening.
      await owner.client.ok('mfaPolicySet', { scope: 'external', level: 'required' });
      expect(await owner.client.fails('mfaPolicySet', { scope: 'external', level: 'optional' })).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await owner.client.fails('mfaPolicySet', { scope: 'external', level: null })).toMatchObject({ code: 'UNAUTHORIZED' });
      expect((await owner.client.ok('mfaIdleSet', { minutes: 15 })).idleMinutes).toBe(15);
      expect(await owner.client.fails('mfaIdleSet', { minutes: 0 })).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await owner.client.fails('mfaIdleSet', { minutes: 16 })).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await owner.client.ok('mfaPolicyGet', undefined)).toEqual({ ...before, external: 'required', idleMinutes: 15 });
      await ownerFresh();
      expect((await owner.client.ok('mfaPolicySet', { scope: 'external', level: null })).external).toBeNull();
      expect((await owner.client.ok('mfaIdleSet', { minutes: before.idleMinutes })).idleMinutes).toBe(before.idleMinutes);
      expect(await owner.client.ok('mfaPolicyGet', undefined)).toEqual(before);
    } finally {
      await ownerFresh();
      await owner.client.ok('mfaPolicySet', { level: before.policy });
      await owner.client.ok('mfaPolicySet', { scope: 'external', level: before.external });
      await owner.client.ok('mfaIdleSet', { minutes: before.idleMinutes });
    }
  });

  it('grants only to admins, only by owners', async () => {
    await ownerFresh();
    const admin = await invitePerson(server, owner, 'admin');
    const otherAdmin = await invitePerson(server, owner, 'admin');
    const member = await invitePerson(server, owner);
    expect(await owner.client.fails('adminGrantSet', { userId: member.user.id, permission: 'mfa_reset', granted: true })).toMatchObject({ code: 'FORBIDDEN', message: 'Only an admin takes a permission: make them an admin first' });
    expect(await owner.client.fails('adminGrantSet', { userId: owner.user.id, permission: 'mfa_reset', granted: true })).toMatchObject({ code: 'FORBIDDEN', message: 'An owner holds every permission by being an owner' });
    await grantReset(admin);
    // A granted admin does not pass the grant on.
    expect(await admin.client.fails('adminGrantSet', { userId: otherAdmin.user.id, permission: 'mfa_reset', granted: true })).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners grant or take back an admin\'s permissions' });
    expect(await member.client.fails('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted: false })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.fails('adminGrantSet', { userId: 'f'.repeat(32), permission: 'mfa_reset', granted: true })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await server.db.query('SELECT user_id FROM admin_grants WHERE user_id IN ($1, $2, $3)', [otherAdmin.user.id, member.user.id, owner.user.id])).toEqual([]);
  });
});
