/**
 * What someone who copies the server's database learns, on PostgreSQL and on PGlite: after
 * registrations, sign-ins, refreshes, a password change and MFA (an authenticator set up,
 * its recovery codes viewed, an emergency code issued, codes e-mailed and texted, SMTP and SMS
 * settings stored), a dump of every table (and, on the private cluster, `pg_dump`'s own) holds
 * no password in any common encoding, no token, TOTP key, recovery, emergency, e-mailed or
 * texted code, SMTP password or SMS API key in the clear, no key of the client's, and nothing of
 * the server's key file; the records
 * it does hold cannot be tested against a guess without that key file, as shown by trying
 * with the right password against a server that has the records but another key. The log of
 * the same run holds none of these either.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerKeys } from '../../server/keys';
import { text, type Database } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { startMailbox, type Mailbox } from './mailbox';
import { startSmsProvider, type SmsProvider } from './sms-provider';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, uniquePassword, type TestServer } from './support';
import { secretsHeld } from '../support/secrets';

const databases = useTestDatabases();

/** Every row of every table, as JSON text. */
async function sqlDump(db: Database): Promise<string> {
  const tables = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
  const parts: string[] = [];
  for (const table of tables) {
    const name = text(table, 'table_name');
    const rows = await db.query(`SELECT row_to_json(t)::text AS r FROM "${name}" t`);
    parts.push(`${name}\n${rows.map((row) => text(row, 'r')).join('\n')}`);
  }
  return parts.join('\n');
}

/** The forms a password (or key) could be stored in, were someone careless. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, secret.toLowerCase(), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), Buffer.from(secret, 'utf16le').toString('hex')];
}

describe.each(DATABASE_KINDS)('a dump of the server database on %s', (kind) => {
  let server: TestServer;
  let ownerName = '';
  const secrets: string[] = [];
  const passwords: string[] = [];
  let dump = '';
  let mailbox: Mailbox | undefined;
  let provider: SmsProvider | undefined;

  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    mailbox = await startMailbox();
    provider = await startSmsProvider();
    const owner = await registerOwner(server);
    ownerName = owner.username;
    passwords.push(owner.password);
    const people = [await invitePerson(server, owner, 'admin'), await invitePerson(server, owner)];
    secrets.push(owner.privateKey.toString('base64url'), owner.privateKey.toString('hex'), owner.privateKey.toString('base64'));
    for (const person of people) {
      passwords.push(person.password);
      secrets.push(person.privateKey.toString('base64url'), person.privateKey.toString('hex'), person.privateKey.toString('base64'));
      const tokens = person.client.tokens;
      if (tokens === undefined) throw new Error('not signed in');
      secrets.push(tokens.accessToken, tokens.refreshToken);
      const { tokens: next } = await person.client.ok('refresh', { refreshToken: tokens.refreshToken, deviceId: person.client.deviceId });
      person.client.tokens = next;
      secrets.push(next.accessToken, next.refreshToken);
      const { finish } = await person.client.loginStart(person.username, person.password);
      if (finish === undefined) throw new Error('the client could not finish');
      secrets.push(finish.exportKey, finish.sessionKey);
    }
    const changer = people[1];
    if (changer === undefined) throw new Error('no second person');
    changer.password = uniquePassword();
    await changer.client.changePassword(changer.password);
    passwords.push(changer.password);
    // MFA: the admin's authenticator key and recovery codes, an emergency code for the member.
    const [admin, member] = people;
    if (admin === undefined || member === undefined) throw new Error('no people');
    const { secret } = await admin.client.ok('mfaEnrolStart', {});
    const { recoveryCodes } = await admin.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    await admin.client.ok('mfaRecoveryCodes', {});
    secrets.push(secret, secret.replace(/ /g, ''), ...recoveryCodes, ...recoveryCodes.map((code) => code.replace('-', '')));
    const { code: emergency } = await owner.client.ok('mfaEmergencyIssue', { userId: member.user.id });
    secrets.push(emergency);
    // Codes sent: the member's new device gets an e-mailed one, the admin's new sign-in a texted one (both left live).
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, password: mailbox.password, from: 'crewvault@example.test' });
    await owner.client.ok('smsSet', {
      service: 'clicksend', username: provider.username, apiKey: provider.apiKey, senderNumber: '+447700900001', codeExpiryMinutes: 5, trustedDeviceHours: 48, baseUrl: provider.baseUrl,
    });
    passwords.push(mailbox.password);
    secrets.push(provider.apiKey);
    await member.client.ok('contactSet', { email: `${member.username}@example.test`, phone: null });
    const memberDevice = new TestClient(server.url);
    await memberDevice.login(member.username, member.password);
    await memberDevice.ok('mfaEmailSend', {});
    secrets.push(memberDevice.deviceToken ?? 'no device token', member.client.deviceToken ?? 'no device token');
    secrets.push(mailbox.codeFor(`${member.username}@example.test`));
    await admin.client.ok('contactSet', { email: null, phone: '+447700900123' });
    const adminDevice = new TestClient(server.url);
    await adminDevice.login(admin.username, admin.password);
    await adminDevice.ok('mfaSmsSend', {});
    secrets.push(provider.codeFor('+447700900123'));
    const { invite } = await owner.client.ok('inviteCreate', { username: 'not-yet-registered', role: 'member' });
    secrets.push(invite, server.ownerInvite, server.keys.opaqueSetup, server.keys.stateKey.toString('base64url'), server.keys.stateKey.toString('hex'));
    dump = await sqlDump(server.db);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await mailbox?.close();
    await provider?.close();
  });

  it('holds the records and hashes it needs (the dump is not empty)', () => {
    expect(dump).toContain('registration_record');
    expect(dump).toContain('refresh_hash');
    expect(dump).toContain('sealed_keys');
    expect(dump).toContain('sealed_secret');
    expect(dump).toContain('sealed_recovery_codes');
    expect(dump).toMatch(/mfa_emergency_codes\n\{/);
    expect(dump).toMatch(/mfa_sent_codes\n\{.*\n\{/);
    expect(dump).toMatch(/delivery_settings\n\{.*"sealed_secret":"[A-Za-z0-9_-]+"/);
  });

  it('holds no password, in any common encoding', () => {
    for (const password of passwords) for (const form of encodings(password)) expect(dump).not.toContain(form);
  });

  it('holds no token, invite, client key or server key in the clear', () => {
    expect(secretsHeld(dump, secrets)).toEqual([]);
  });

  it('holds nothing pg_dump finds either (the private cluster only)', async () => {
    const binDir = databases.binDir();
    if (kind !== 'postgres' || binDir === undefined || process.env.CREWVAULT_TEST_DATABASE_URL) return;
    const url = await databases.postgresUrl();
    // Dump the very database the server used: find its name from the pool's connection.
    const [row] = await server.db.query('SELECT current_database() AS name');
    const target = new URL(url);
    target.pathname = `/${text(row ?? {}, 'name')}`;
    const pgDump = execFileSync(`${binDir}/pg_dump`, ['--no-owner', target.toString()], { encoding: 'utf8', timeout: 60_000 });
    expect(pgDump).toContain('registration_record');
    for (const password of passwords) for (const form of encodings(password)) expect(pgDump).not.toContain(form);
    expect(secretsHeld(pgDump, secrets)).toEqual([]);
  });

  it('holds records that no guess can be tested against without the server\'s key file', async () => {
    // A server holding a copy of these records but another OPAQUE key: the one thing the
    // dump lacks. Even the right password does not sign in there.
    const copy = await startTestServer(await databases.open(kind), { keys: await createServerKeys() });
    try {
      await copy.db.query('DELETE FROM invites');
      const users = await server.db.query('SELECT id, username, username_key, role, registration_record, created_at, password_changed_at FROM users');
      for (const user of users) {
        await copy.db.query(
          'INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [user.id, user.username, user.username_key, user.role, user.registration_record, user.created_at, user.password_changed_at],
        );
      }
      const ownerPassword = passwords[0] ?? '';
      expect((await new TestClient(copy.url).loginStart(ownerName, ownerPassword)).finish).toBeUndefined();
      // With the real key file, the same record and password do sign in (the control).
      expect((await new TestClient(server.url).loginStart(ownerName, ownerPassword)).finish).toBeDefined();
    } finally {
      await copy.close();
    }
  });

  it('kept none of it in the log', () => {
    const log = server.logs.join('');
    for (const password of passwords) expect(log).not.toContain(password);
    expect(secretsHeld(log, secrets)).toEqual([]);
  });
});
