/**
 * E-mailed codes on the server, over real HTTP on PostgreSQL and on PGlite, sent by nodemailer
 * to a real SMTP server on loopback (mailbox.ts) that the test reads the code from: the SMTP
 * settings (owners, from the server's own machine, the password never returned or logged),
 * six letters standing in for the second step once within five minutes, a new one replacing
 * the old, at most five per sign-in, wrong ones counted like wrong authenticator codes, an
 * expired one ending the attempt, masked destinations, and an audit without the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit';
import { EMAIL_CODE_MS, MAX_SENDS_PER_ATTEMPT } from '../../server/auth/sent-codes';
import { text } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { startMailbox, type Mailbox } from './mailbox';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';
import { holdsSecret } from '../support/secrets';

const databases = useTestDatabases();

/** A six-letter code that is not `code`. */
function otherThan(code: string): string {
  return code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
}

describe.each(DATABASE_KINDS)('e-mailed codes on %s', (kind) => {
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

  /** Someone with an authenticator and an e-mail address, signed in again on a new device: their session waits for a second step. */
  async function signedInAgain(): Promise<{ person: Person; client: TestClient }> {
    const person = await invitePerson(server, owner);
    await person.client.ok('contactSet', { email: emailOf(person), phone: null });
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('code');
    return { person, client };
  }

  it('keeps the SMTP settings for owners on this machine only, and never returns or logs the password', async () => {
    expect(await owner.client.ok('smtpGet', undefined)).toEqual({
      smtp: { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, from: 'crewvault@example.test', passwordSet: true },
    });
    const admin = await invitePerson(server, owner, 'admin');
    expect(await admin.client.fails('smtpGet', undefined)).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners manage the server\'s e-mail and SMS settings' });
    expect(await owner.client.fails('smtpSet', { host: 'mail.example.test', port: 25, security: 'none', username: null, from: 'a@example.test' })).toMatchObject({
      code: 'INVALID_INPUT', message: 'security: plain SMTP (none) is for an SMTP server on this machine only: use tls or starttls',
    });
    // From another address the same owner is refused: local-admin.test.ts, over a real socket from 127.0.0.2.
    await owner.client.ok('smtpTest', { to: 'owner@example.test' });
    expect(mailbox.lastTo('owner@example.test')?.raw).toContain('Its SMTP settings work');
    const stored = (await server.db.query('SELECT row_to_json(t)::text AS r FROM delivery_settings t')).map((row) => text(row, 'r')).join('\n');
    expect(stored).toContain(mailbox.username);
    expect(stored).not.toContain(mailbox.password);
    expect(server.logs.join('\n')).not.toContain(mailbox.password);
  });

  it('e-mails six letters that stand in for the second step once, shown masked', async () => {
    const { person, client } = await signedInAgain();
    const prefix = person.username.slice(0, 2);
    expect(await client.ok('mfaMethods', undefined)).toEqual({ authenticator: true, email: `${prefix}***@example.test`, sms: null, contactAdministrator: false });
    expect(await client.ok('mfaEmailSend', {})).toEqual({ destination: `${prefix}***@example.test`, expiresAt: server.clock.now() + EMAIL_CODE_MS });
    const mail = mailbox.lastTo(emailOf(person));
    expect(mail?.from).toBe('crewvault@example.test');
    const code = mailbox.codeFor(emailOf(person));
    expect(code).toMatch(/^[A-HJ-NP-Z]{6}$/);
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(await client.ok('mfaEmail', { code: code.toLowerCase() })).toEqual({ secondStep: 'done' });
    await client.ok('accountKeys', undefined);
    // Once, and only in the sign-in it was sent for.
    const again = new TestClient(server.url);
    await again.login(person.username, person.password);
    expect(await again.fails('mfaEmail', { code })).toMatchObject({ code: 'WRONG_CODE' });
  });

  it('says an expired code has expired and sends the person back to the password', async () => {
    const { person, client } = await signedInAgain();
    await client.ok('mfaEmailSend', {});
    server.clock.advance(EMAIL_CODE_MS);
    expect(await client.fails('mfaEmail', { code: mailbox.codeFor(emailOf(person)) })).toEqual({
      code: 'UNAUTHORIZED', status: 401, message: 'That code has expired: sign in again with your password',
    });
    expect(await client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('replaces a code with the next one, and sends at most five in one sign-in', async () => {
    const { person, client } = await signedInAgain();
    await client.ok('mfaEmailSend', {});
    const first = mailbox.codeFor(emailOf(person));
    await client.ok('mfaEmailSend', {});
    const second = mailbox.codeFor(emailOf(person));
    if (first !== second) expect(await client.fails('mfaEmail', { code: first })).toMatchObject({ code: 'WRONG_CODE' });
    for (let sent = 2; sent < MAX_SENDS_PER_ATTEMPT; sent += 1) await client.ok('mfaEmailSend', {});
    const before = mailbox.messages.length;
    expect(await client.fails('mfaEmailSend', {})).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    expect(mailbox.messages.length).toBe(before);
    await client.ok('mfaEmail', { code: mailbox.codeFor(emailOf(person)) });
  });

  it('counts a wrong code like a wrong authenticator code: the fifth ends the attempt', async () => {
    const { person, client } = await signedInAgain();
    await client.ok('mfaEmailSend', {});
    const wrong = otherThan(mailbox.codeFor(emailOf(person)));
    for (let i = 1; i < 5; i += 1) expect(await client.fails('mfaEmail', { code: wrong })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await client.fails('mfaEmail', { code: wrong })).toMatchObject({ code: 'UNAUTHORIZED', message: 'Too many wrong codes: this sign-in is over. Sign in again with your password' });
  });

  it('offers no e-mail to someone without an address: contact your administrator', async () => {
    const person = await invitePerson(server, owner);
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    const client = new TestClient(server.url);
    await client.login(person.username, person.password);
    expect(await client.ok('mfaMethods', undefined)).toEqual({ authenticator: true, email: null, sms: null, contactAdministrator: true });
    expect(await client.fails('mfaEmailSend', {})).toEqual({ code: 'FORBIDDEN', status: 403, message: 'You have no e-mail address on file: contact your administrator' });
    expect(await client.fails('mfaEmail', { code: 'ABCDEF' })).toMatchObject({ code: 'WRONG_CODE' });
  });

  it('reports a refused SMTP sign-in in one line that names no secret', async () => {
    const wrongPassword = 'smtp-wrong-password-1234';
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, password: wrongPassword, from: 'crewvault@example.test' });
    const refused = await owner.client.fails('smtpTest', { to: 'owner@example.test' });
    expect(refused).toEqual({ code: 'BUSY', status: 503, message: 'The e-mail could not be sent (EAUTH): check the server\'s SMTP settings' });
    expect(mailbox.refusedLogins).toBeGreaterThan(0);
    expect(server.logs.join('\n')).not.toContain(wrongPassword);
    // The password left out keeps the stored one.
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, password: mailbox.password, from: 'crewvault@example.test' });
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, from: 'crewvault@example.test' });
    await owner.client.ok('smtpTest', { to: 'owner@example.test' });
  });

  it('never sends the password in the clear to an SMTP server that does not offer STARTTLS when it is required', async () => {
    const refusedBefore = mailbox.refusedLogins;
    const messagesBefore = mailbox.messages.length;
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'starttls', username: mailbox.username, from: 'crewvault@example.test' });
    const refused = await owner.client.fails('smtpTest', { to: 'owner@example.test' });
    expect(refused).toMatchObject({ code: 'BUSY', status: 503 });
    expect(refused.message).toMatch(/^The e-mail could not be sent \(E[A-Z]+\): check the server's SMTP settings$/);
    expect(mailbox.refusedLogins).toBe(refusedBefore);
    expect(mailbox.messages.length).toBe(messagesBefore);
    await owner.client.ok('smtpSet', { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, from: 'crewvault@example.test' });
    await owner.client.ok('smtpTest', { to: 'owner@example.test' });
  });

  it('audits each code sent and used without the code; the database and the log hold none', async () => {
    const { person, client } = await signedInAgain();
    await client.ok('mfaEmailSend', {});
    const code = mailbox.codeFor(emailOf(person));
    expect(await client.fails('mfaEmail', { code: otherThan(code) })).toMatchObject({ code: 'WRONG_CODE' });
    await client.ok('mfaEmail', { code });
    const rows = await server.db.query("SELECT kind, detail FROM server_audit WHERE subject_id = $1 AND (kind LIKE 'mfa.email%' OR kind = 'device.authorised') ORDER BY seq", [person.user.id]);
    expect(rows.map((row) => [text(row, 'kind'), text(row, 'detail')])).toEqual([
      ['device.authorised', expect.stringContaining(person.client.deviceId)],
      ['mfa.email-sent', '{"ok":true,"sends":1}'], ['mfa.email', '{"ok":false}'],
      ['device.authorised', expect.stringContaining(client.deviceId)], ['mfa.email', '{"ok":true}'],
    ]);
    const everything = (await server.db.query('SELECT row_to_json(t)::text AS r FROM server_audit t')).map((row) => text(row, 'r')).join('\n')
      + (await server.db.query('SELECT row_to_json(t)::text AS r FROM mfa_sent_codes t')).map((row) => text(row, 'r')).join('\n');
    expect(holdsSecret(everything, code)).toBe(false);
    expect(everything).not.toContain(emailOf(person));
    expect(holdsSecret(server.logs.join('\n'), code)).toBe(false);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
  });
});
