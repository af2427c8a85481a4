/**
 * Emergency codes on the server, over real HTTP on PostgreSQL and on PGlite, with time moved
 * by the injected clock: six letters an owner or admin issues for someone else, standing in
 * for their authenticator once within two minutes; never for an owner or oneself, an admin
 * only for members (and only with mfa_reset, as a reset); issuing and using are in the
 * server's audit, and the code is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit';
import { EMERGENCY_CODE_MS } from '../../server/auth/emergency';
import { text } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('emergency codes on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let admin: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    admin = await invitePerson(server, owner, 'admin');
    // Issuing a code needs what a reset needs: the admin holds mfa_reset (mfa-admin.test.ts
    // shows an admin without it, or without fresh proof, refused).
    await owner.client.ok('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted: true });
  }, 120_000);
  afterAll(async () => server?.close());

  /** A person with an authenticator, signed in again on a new device: their session waits for a code. */
  async function lostAuthenticator(role: 'admin' | 'member' = 'member'): Promise<{ person: Person; client: TestClient }> {
    const person = await invitePerson(server, owner, role);
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('code');
    return { person, client };
  }

  it('lets an admin issue six letters that stand in for a member\'s authenticator once', async () => {
    const { person, client } = await lostAuthenticator();
    const { code, expiresAt } = await admin.client.ok('mfaEmergencyIssue', { userId: person.user.id });
    expect(code).toMatch(/^[A-Z]{6}$/);
    expect(expiresAt).toBe(server.clock.now() + EMERGENCY_CODE_MS);
    expect(await client.ok('mfaEmergency', { code: code.toLowerCase() })).toEqual({ secondStep: 'done' });
    await client.ok('accountKeys', undefined);
    // Once: the next sign-in cannot use it again.
    const again = new TestClient(server.url);
    await again.login(person.username, person.password);
    expect(await again.fails('mfaEmergency', { code })).toMatchObject({ code: 'WRONG_CODE' });
  });

  it('is good for two minutes, not a moment longer, and a new one replaces the old', async () => {
    const { person, client } = await lostAuthenticator();
    const first = await owner.client.ok('mfaEmergencyIssue', { userId: person.user.id });
    const second = await owner.client.ok('mfaEmergencyIssue', { userId: person.user.id });
    if (first.code !== second.code) expect(await client.fails('mfaEmergency', { code: first.code })).toMatchObject({ code: 'WRONG_CODE' });
    server.clock.advance(EMERGENCY_CODE_MS);
    expect(await client.fails('mfaEmergency', { code: second.code })).toEqual({
      code: 'WRONG_CODE', status: 401, message: 'That emergency code has expired: ask your administrator for a new one',
    });
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
  });

  it('is never issued for an owner or oneself; an admin issues only for members; a member never', async () => {
    const otherAdmin = (await lostAuthenticator('admin')).person;
    const member = (await lostAuthenticator()).person;
    expect(await admin.client.fails('mfaEmergencyIssue', { userId: owner.user.id })).toEqual({ code: 'FORBIDDEN', status: 403, message: 'Emergency codes are never issued for an owner' });
    expect(await owner.client.fails('mfaEmergencyIssue', { userId: owner.user.id })).toMatchObject({ code: 'FORBIDDEN', message: 'You cannot issue an emergency code for yourself' });
    expect(await admin.client.fails('mfaEmergencyIssue', { userId: admin.user.id })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await admin.client.fails('mfaEmergencyIssue', { userId: otherAdmin.user.id })).toMatchObject({ code: 'FORBIDDEN', message: 'Only an owner issues an emergency code for an admin' });
    expect(await member.client.fails('mfaEmergencyIssue', { userId: otherAdmin.user.id })).toMatchObject({ code: 'FORBIDDEN' });
    await owner.client.ok('mfaEmergencyIssue', { userId: otherAdmin.user.id });
    expect(await owner.client.fails('mfaEmergencyIssue', { userId: 'f'.repeat(32) })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('cannot be issued from a session that has not done its own second step', async () => {
    const { person: issuer, client } = await lostAuthenticator('admin');
    const target = await invitePerson(server, owner);
    expect(await client.fails('mfaEmergencyIssue', { userId: target.user.id })).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(issuer.user.role).toBe('admin');
  });

  it('counts a wrong one like a wrong code, and audits issuing and using without the code', async () => {
    const { person, client } = await lostAuthenticator();
    const { code } = await admin.client.ok('mfaEmergencyIssue', { userId: person.user.id });
    const wrong = code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
    expect(await client.fails('mfaEmergency', { code: wrong })).toMatchObject({ code: 'WRONG_CODE' });
    await client.ok('mfaEmergency', { code });
    const rows = await server.db.query("SELECT kind, actor_id, detail FROM server_audit WHERE subject_id = $1 AND kind LIKE 'mfa.emergency%' ORDER BY seq", [person.user.id]);
    expect(rows.map((row) => [text(row, 'kind'), row.actor_id])).toEqual([
      ['mfa.emergency-issued', admin.user.id], ['mfa.emergency', person.user.id], ['mfa.emergency', person.user.id],
    ]);
    expect(rows.map((row) => text(row, 'detail'))).toEqual([expect.stringMatching(/^\{"expiresAt":\d+\}$/), '{"ok":false}', '{"ok":true}']);
    const everything = (await server.db.query('SELECT row_to_json(t)::text AS r FROM server_audit t')).map((row) => text(row, 'r')).join('\n')
      + (await server.db.query('SELECT row_to_json(t)::text AS r FROM mfa_emergency_codes t')).map((row) => text(row, 'r')).join('\n');
    expect(everything).not.toContain(`"${code}"`);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
  });
});
