/**
 * Text-message codes on the server, over real HTTP on PostgreSQL and on PGlite, through the
 * ClickSend and TextMagic adapters talking to a loopback server that answers as each
 * provider's documented send endpoint does (sms-provider.ts: it checks the credentials and the
 * body's shape and records the message): Q360's settings (code expiry not below 5 minutes,
 * trusted-device expiry 48 hours by default, the API key never returned or logged), "Test
 * service", six digits standing in for the second step once within the configured minutes,
 * and a provider's refusal reported in one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../server/store/db';
import { SMS_SERVICES, type ServerRouteInput } from '../../shared/api/server-contract';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { startSmsProvider, type SmsProvider } from './sms-provider';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('text-message codes on %s', (kind) => {
  let server: TestServer;
  let provider: SmsProvider;
  let owner: Person;
  let phoneSeq = 0;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    provider = await startSmsProvider();
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });

  function settings(service: (typeof SMS_SERVICES)[number], more: Partial<ServerRouteInput<'smsSet'>> = {}): ServerRouteInput<'smsSet'> {
    return {
      service, username: provider.username, apiKey: provider.apiKey, senderNumber: '+447700900001', codeExpiryMinutes: 5,
      trustedDeviceHours: 48, baseUrl: provider.baseUrl, ...more,
    };
  }

  /** Someone with an authenticator and a phone number (no e-mail: no device step), signed in again on a new device. */
  async function signedInAgain(): Promise<{ person: Person; client: TestClient; phone: string }> {
    const person = await invitePerson(server, owner);
    phoneSeq += 1;
    const phone = `+4477009${String(phoneSeq).padStart(5, '0')}`;
    await person.client.ok('contactSet', { email: null, phone });
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('code');
    return { person, client, phone };
  }

  it('keeps Q360\'s fields: a code lives at least 5 minutes, trust 48 hours unless set, the API key never returned or logged', async () => {
    expect(await owner.client.ok('smsGet', undefined)).toEqual({ sms: null });
    const { client } = await signedInAgain();
    expect(await client.ok('mfaMethods', undefined)).toMatchObject({ sms: null, contactAdministrator: true });
    expect(await client.fails('mfaSmsSend', {})).toMatchObject({ code: 'FORBIDDEN', message: 'This server cannot send text messages: contact your administrator' });
    expect(await owner.client.fails('smsSet', { ...settings('clicksend'), codeExpiryMinutes: 4 })).toEqual({
      code: 'INVALID_INPUT', status: 400, message: 'codeExpiryMinutes: a code lives at least 5 minutes',
    });
    expect(await owner.client.fails('smsSet', { ...settings('clicksend'), baseUrl: 'http://sms.example.test' })).toMatchObject({
      code: 'INVALID_INPUT', message: 'baseUrl: use https (plain http only to this machine)',
    });
    expect(await owner.client.fails('smsSet', { ...settings('clicksend'), apiKey: undefined })).toMatchObject({ code: 'INVALID_INPUT', message: 'apiKey: the provider\'s API key is needed the first time' });
    expect(await owner.client.ok('smsGet', undefined)).toEqual({ sms: null });
    // The trusted-device hours left out take the default.
    const withoutHours: Partial<ServerRouteInput<'smsSet'>> = settings('clicksend');
    delete withoutHours.trustedDeviceHours;
    const raw = await owner.client.raw('POST', '/v1/admin/sms', JSON.stringify(withoutHours), owner.client.authHeaders());
    expect(raw.body).toEqual({ ok: true, value: { sms: {
      service: 'clicksend', username: provider.username, senderNumber: '+447700900001', codeExpiryMinutes: 5, trustedDeviceHours: 48, baseUrl: provider.baseUrl, apiKeySet: true,
    } } });
    const admin = await invitePerson(server, owner, 'admin');
    expect(await admin.client.fails('smsSet', settings('clicksend'))).toMatchObject({ code: 'FORBIDDEN' });
    const stored = (await server.db.query('SELECT row_to_json(t)::text AS r FROM delivery_settings t')).map((row) => text(row, 'r')).join('\n');
    expect(stored).toContain(provider.username);
    expect(stored).not.toContain(provider.apiKey);
    expect(server.logs.join('\n')).not.toContain(provider.apiKey);
  });

  it.each(SMS_SERVICES)('sends "Test service" through %s as the provider documents it', async (service) => {
    await owner.client.ok('smsSet', settings(service));
    expect(await owner.client.ok('smsTest', { phone: '+447700900999' })).toEqual({ sent: true });
    expect(provider.sent.at(-1)).toEqual({
      service, from: service === 'clicksend' ? '+447700900001' : '447700900001', to: service === 'clicksend' ? '+447700900999' : '447700900999',
      text: 'Crewvault server: this is a test message. Your SMS settings work.',
    });
  });

  it.each(SMS_SERVICES)('texts six digits through %s that stand in for the second step once, shown masked', async (service) => {
    await owner.client.login(owner.username, owner.password);
    await owner.client.ok('smsSet', settings(service, { codeExpiryMinutes: 7 }));
    const { person, client, phone } = await signedInAgain();
    expect(await client.ok('mfaMethods', undefined)).toEqual({ authenticator: true, email: null, sms: `+4***${phone.slice(-4)}`, contactAdministrator: false });
    expect(await client.ok('mfaSmsSend', {})).toEqual({ destination: `+4***${phone.slice(-4)}`, expiresAt: server.clock.now() + 7 * 60_000 });
    const code = provider.codeFor(phone);
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    // Within the configured 7 minutes (past the e-mail's 5), once.
    server.clock.advance(6 * 60_000);
    expect(await client.ok('mfaSms', { code })).toEqual({ secondStep: 'done' });
    await client.ok('accountKeys', undefined);
    const again = new TestClient(server.url);
    await again.login(person.username, person.password);
    expect(await again.fails('mfaSms', { code })).toMatchObject({ code: 'WRONG_CODE' });
  });

  it('ends the attempt when the code has expired, and counts a wrong one', async () => {
    await owner.client.login(owner.username, owner.password);
    await owner.client.ok('smsSet', settings('textmagic'));
    const { client, phone } = await signedInAgain();
    await client.ok('mfaSmsSend', {});
    const code = provider.codeFor(phone);
    expect(await client.fails('mfaSms', { code: code === '000000' ? '111111' : '000000' })).toMatchObject({ code: 'WRONG_CODE' });
    server.clock.advance(5 * 60_000);
    expect(await client.fails('mfaSms', { code })).toEqual({ code: 'UNAUTHORIZED', status: 401, message: 'That code has expired: sign in again with your password' });
  });

  it.each(SMS_SERVICES)('reports %s refusing a wrong API key in one line that names no key', async (service) => {
    const wrongKey = 'key-wrong-0123456789abcdef';
    // The tests before moved the clock past the owner's access token.
    await owner.client.login(owner.username, owner.password);
    await owner.client.ok('smsSet', settings(service, { apiKey: wrongKey }));
    const refusedBefore = provider.refused.length;
    expect(await owner.client.fails('smsTest', { phone: '+447700900999' })).toEqual({
      code: 'BUSY', status: 503, message: 'The text message could not be sent: the SMS provider answered HTTP 401: check the user name and API key',
    });
    expect(provider.refused.slice(refusedBefore)).toEqual([401]);
    expect(server.logs.join('\n')).not.toContain(wrongKey);
    const rows = await server.db.query("SELECT detail FROM server_audit WHERE kind = 'settings.sms-tested' ORDER BY seq DESC LIMIT 1");
    expect(rows.map((row) => text(row, 'detail'))).toEqual(['{"ok":false}']);
    await owner.client.ok('smsSet', settings(service));
  });
});
