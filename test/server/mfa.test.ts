/**
 * The second sign-in step on the server, over real HTTP with the real OPAQUE client, on
 * PostgreSQL and on PGlite, with time moved by the injected clock: an authenticator set up
 * with one code; after the password, a person who has one gets a password-only session that
 * is refused the sealed keys (and everything else that releases data) until a code is given;
 * ±1 step, a step never accepted twice, five wrong codes end the attempt, the account waits,
 * ten minutes to give the code, and the policy (off / optional / required) decides who must have one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRONG_CODES_PER_ATTEMPT } from '../../server/auth/second-step';
import { FIRST_WAIT_MS } from '../../server/auth/throttle';
import { SECOND_STEP_TTL_MS } from '../../server/context';
import { text } from '../../server/store/db';
import { SERVER_ROUTES } from '../../shared/api/server-contract';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, openWithExportKey, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** A code that is none of the three the server would take now. */
function wrongFor(secret: string, nowMs: number): string {
  const near = new Set([-1, 0, 1].map((s) => authenticatorCode(secret, nowMs, s)));
  for (let n = 0; ; n += 1) {
    const candidate = String(n).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

describe.each(DATABASE_KINDS)('MFA on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  /** Sets up an authenticator for `person` from their signed-in session; returns its key. */
  async function enrol(person: Person): Promise<string> {
    const { secret, uri } = await person.client.ok('mfaEnrolStart', {});
    expect(uri).toMatch(/^otpauth:\/\/totp\/Crewvault:/);
    const { secondStep, recoveryCodes } = await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    expect(secondStep).toBe('done');
    expect(recoveryCodes).toHaveLength(10);
    return secret;
  }

  /** A new sign-in of `person` on a new device: a password-only session when they have an authenticator. */
  async function signIn(person: Person): Promise<{ client: TestClient; secondStep: string; exportKey: string }> {
    const client = new TestClient(server.url);
    const { secondStep, exportKey } = await client.login(person.username, person.password);
    return { client, secondStep, exportKey };
  }

  it('gives a person without an authenticator their keys after the password alone (the policy is optional)', async () => {
    const person = await invitePerson(server, owner);
    const { client, secondStep, exportKey } = await signIn(person);
    expect(secondStep).toBe('done');
    const { sealedKeys } = await client.ok('accountKeys', undefined);
    expect(openWithExportKey(exportKey, sealedKeys ?? '')).toEqual(person.privateKey);
    expect(await client.ok('mfaStatus', undefined)).toEqual({ authenticator: false, policy: 'optional', secondStep: 'done', recoveryCodesLeft: 0 });
  });

  it('sets up an authenticator only with a right code from the new key, and only once', async () => {
    const person = await invitePerson(server, owner);
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    expect(secret).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
    expect(await person.client.fails('mfaEnrolConfirm', { code: wrongFor(secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE', status: 401 });
    expect((await person.client.ok('mfaStatus', undefined)).authenticator).toBe(false);
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    expect((await person.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    expect(await person.client.fails('mfaEnrolStart', {})).toMatchObject({ code: 'ALREADY_EXISTS' });
    // The key is kept sealed: the database holds it nowhere in the clear.
    const rows = await server.db.query('SELECT row_to_json(t)::text AS r FROM mfa_authenticators t');
    expect(rows.map((row) => text(row, 'r')).join('\n')).not.toContain(secret.replace(/ /g, ''));
  });

  it('refuses the sealed keys and every data route to a password-only session until the code, refresh or not', async () => {
    const person = await invitePerson(server, owner, 'admin');
    const secret = await enrol(person);
    server.clock.advance(30_000);
    const { client, secondStep, exportKey } = await signIn(person);
    expect(secondStep).toBe('code');
    expect(await client.fails('accountKeys', undefined)).toEqual({ code: 'MFA_REQUIRED', status: 401, message: 'Enter the code from your authenticator app first' });
    expect(await client.fails('inviteCreate', { username: 'someone-new', role: 'member' })).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(await client.fails('passwordStart', { registrationRequest: 'AAAA' })).toMatchObject({ code: 'MFA_REQUIRED' });
    expect((await client.ok('session', undefined)).secondStep).toBe('code');
    // A refreshed session is the same session: still password-only.
    const tokens = client.tokens;
    if (tokens === undefined) throw new Error('not signed in');
    client.tokens = (await client.ok('refresh', { refreshToken: tokens.refreshToken, deviceId: client.deviceId })).tokens;
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(await client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) })).toEqual({ secondStep: 'done' });
    const { sealedKeys } = await client.ok('accountKeys', undefined);
    expect(openWithExportKey(exportKey, sealedKeys ?? '')).toEqual(person.privateKey);
    await client.ok('inviteCreate', { username: `new-${person.username}`, role: 'member' });
    // The session it was set up in was not asked again.
    await person.client.ok('accountKeys', undefined);
  });

  it('refuses a password-only session on every route that is not part of signing in, before reading its body', async () => {
    const person = await invitePerson(server, owner);
    await enrol(person);
    const { client } = await signIn(person);
    const guarded = Object.values(SERVER_ROUTES).filter((spec) => spec.access === 'session');
    expect(guarded.map((spec) => spec.path)).toEqual(expect.arrayContaining(['/v1/account/keys', '/v1/auth/sign-out-everywhere', '/v1/auth/password/start']));
    for (const spec of guarded) {
      const raw = await client.raw(spec.method, spec.path, spec.method === 'GET' ? undefined : '{}', client.authHeaders());
      expect({ path: spec.path, status: raw.status, body: raw.body }).toMatchObject({ path: spec.path, status: 401, body: { ok: false, error: { code: 'MFA_REQUIRED' } } });
    }
  });

  it('takes the code of the step before or after, never two away, and never a step already used', async () => {
    const person = await invitePerson(server, owner);
    const secret = await enrol(person);
    server.clock.advance(60_000);
    const a = await signIn(person);
    expect(await a.client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now(), 2) })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await a.client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now(), -2) })).toMatchObject({ code: 'WRONG_CODE' });
    await a.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now(), -1) });
    // The same code again (another device, same step): refused, as is the step before it.
    const b = await signIn(person);
    expect(await b.client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now(), -1) })).toMatchObject({ code: 'WRONG_CODE', message: 'That code is not right (or was already used)' });
    await b.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now(), 1) });
    // The current step is now behind the last one used: refused until the clock passes it.
    const c = await signIn(person);
    expect(await c.client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE' });
    server.clock.advance(60_000);
    await c.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
  });

  it('gives a password-only session ten minutes for its second step, then sends it back to the password', async () => {
    const person = await invitePerson(server, owner);
    const secret = await enrol(person);
    const { client } = await signIn(person);
    server.clock.advance(SECOND_STEP_TTL_MS + 1);
    const over = { code: 'UNAUTHORIZED', status: 401, message: 'The time for the second step ran out: sign in again with your password' };
    expect(await client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) })).toEqual(over);
    expect(await client.fails('accountKeys', undefined)).toEqual(over);
    // A session whose second step was done is not touched by the limit.
    await person.client.ok('accountKeys', undefined);
    const again = await signIn(person);
    await again.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
  });

  it('accepts one code once when two sessions send it at the same moment', async () => {
    const person = await invitePerson(server, owner);
    const secret = await enrol(person);
    server.clock.advance(30_000);
    const sessions = await Promise.all([signIn(person), signIn(person), signIn(person)]);
    const code = authenticatorCode(secret, server.clock.now());
    const replies = await Promise.all(sessions.map(({ client }) => client.call('mfaVerify', { code })));
    expect(replies.filter((reply) => reply.ok)).toHaveLength(1);
  });

  // Codes sent together were each checked against the wait and the session as they stood before
  // any of them (review of 632f532's class): a burst was as many guesses as the pool had connections.
  it('checks no more codes from a burst sent at once than one by one: four wrong, the fifth ends it, one per wait after', async () => {
    const person = await invitePerson(server, owner);
    const secret = await enrol(person);
    for (let round = 0; round < 3; round += 1) {
      server.clock.advance(16 * 60_000); // past the longest wait; the wrong codes in a row are still counted (a right one forgets them)
      const { client } = await signIn(person);
      const wrong = wrongFor(secret, server.clock.now());
      const replies = await Promise.all(Array.from({ length: 12 }, () => client.call('mfaVerify', { code: wrong })));
      const said = replies.map((r) => (r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`));
      const checked = said.filter((s) => s.startsWith('WRONG_CODE') || s.includes('this sign-in is over'));
      // After a wait each new burst may check one code (the wait doubles), the first burst five.
      expect(checked.length, `round ${round}: ${said.join(' | ')}`).toBe(round === 0 ? WRONG_CODES_PER_ATTEMPT : 1);
      expect(said.filter((s) => s === 'ok')).toEqual([]);
    }
  });

  it('ends the attempt at the fifth wrong code (back to the password), and the account waits, doubling', async () => {
    const person = await invitePerson(server, owner);
    const secret = await enrol(person);
    server.clock.advance(30_000);
    const { client } = await signIn(person);
    const wrong = wrongFor(secret, server.clock.now());
    for (let i = 1; i < WRONG_CODES_PER_ATTEMPT; i += 1) expect(await client.fails('mfaVerify', { code: wrong })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await client.fails('mfaVerify', { code: wrong })).toEqual({
      code: 'UNAUTHORIZED', status: 401, message: 'Too many wrong codes: this sign-in is over. Sign in again with your password',
    });
    expect(await client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
    // The password again: the account waits 30 s before any code is checked, even a right one.
    const again = await signIn(person);
    expect(await again.client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) })).toEqual({ code: 'TOO_MANY_ATTEMPTS', status: 429, message: 'Too many wrong codes: try again in 30 s' });
    server.clock.advance(FIRST_WAIT_MS);
    // One more wrong code in a row doubles the wait.
    expect(await again.client.fails('mfaVerify', { code: wrongFor(secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await again.client.fails('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) })).toMatchObject({ code: 'TOO_MANY_ATTEMPTS', message: 'Too many wrong codes: try again in 60 s' });
    server.clock.advance(2 * FIRST_WAIT_MS);
    await again.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    // A right code forgets the wrong ones: the next wrong one waits for nothing.
    server.clock.advance(30_000);
    const later = await signIn(person);
    expect(await later.client.fails('mfaVerify', { code: wrongFor(secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE' });
    await later.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
  });

  it('audits set-up, right and wrong codes and the attempt ended, with no code or key in the audit', async () => {
    const rows = await server.db.query("SELECT kind, detail FROM server_audit WHERE kind LIKE 'mfa.%' ORDER BY seq");
    const kinds = new Set(rows.map((row) => text(row, 'kind')));
    expect([...kinds].sort()).toEqual(['mfa.attempt-ended', 'mfa.code', 'mfa.enrolled', 'mfa.enrolment-started']);
    for (const row of rows) expect(text(row, 'detail')).not.toMatch(/\d{6}|[A-Z2-7]{16}/);
  });

  describe('the policy', () => {
    it('is set by owners only', async () => {
      const admin = await invitePerson(server, owner, 'admin');
      expect(await admin.client.fails('mfaPolicySet', { level: 'required' })).toMatchObject({ code: 'FORBIDDEN' });
    });

    it('required: someone without an authenticator sets one up before anything is released', async () => {
      const person = await invitePerson(server, owner);
      await owner.client.ok('mfaPolicySet', { level: 'required' });
      try {
        // Sessions that never did a second step are asked now, the owner's own included.
        expect(await person.client.fails('accountKeys', undefined)).toMatchObject({
          code: 'MFA_REQUIRED', message: 'This server requires two-step sign-in: set up an authenticator app first',
        });
        const { client, secondStep } = await signIn(person);
        expect(secondStep).toBe('enrol');
        const { secret } = await client.ok('mfaEnrolStart', {});
        await client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
        await client.ok('accountKeys', undefined);
      } finally {
        await enrolIfAsked(owner);
        await owner.client.ok('mfaPolicySet', { level: 'optional' });
      }
    });

    it('off: nobody is asked, and everyone keeps their authenticator; on again asks again', async () => {
      const person = await invitePerson(server, owner);
      const secret = await enrol(person);
      await owner.client.ok('mfaPolicySet', { level: 'off' });
      const off = await signIn(person);
      expect(off.secondStep).toBe('done');
      await off.client.ok('accountKeys', undefined);
      expect(await off.client.fails('mfaEnrolStart', {})).toMatchObject({ code: 'FORBIDDEN' });
      await owner.client.ok('mfaPolicySet', { level: 'optional' });
      expect(await off.client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
      server.clock.advance(30_000);
      await off.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
      await off.client.ok('accountKeys', undefined);
    });
  });

  /** The owner set up an authenticator when the policy asked: their session stays whole. */
  async function enrolIfAsked(person: Person): Promise<void> {
    if ((await person.client.ok('session', undefined)).secondStep !== 'enrol') return;
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
  }
});

describe.each(DATABASE_KINDS)('wrong second steps from one address on %s', (kind) => {
  const LIMITS = { perAccount: 10, perAddress: 6 };
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind), { throttle: LIMITS });
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  /** Someone with an authenticator, signed in again: a password-only session and their key. */
  async function waitingForCode(): Promise<{ client: TestClient; secret: string }> {
    const person = await invitePerson(server, owner);
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    const client = new TestClient(server.url);
    await client.login(person.username, person.password);
    return { client, secret };
  }

  it('makes an address that tries codes for several accounts wait, each account under its own limit', async () => {
    const a = await waitingForCode();
    const b = await waitingForCode();
    const c = await waitingForCode();
    server.clock.advance(30_000);
    for (let i = 0; i < 4; i += 1) expect(await a.client.fails('mfaVerify', { code: wrongFor(a.secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await b.client.fails('mfaVerify', { code: wrongFor(b.secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await b.client.fails('mfaVerify', { code: wrongFor(b.secret, server.clock.now()) })).toMatchObject({ code: 'WRONG_CODE' });
    // The sixth wrong code from this address: everyone here waits, even with a right code.
    expect(await c.client.fails('mfaVerify', { code: authenticatorCode(c.secret, server.clock.now()) })).toEqual({
      code: 'TOO_MANY_ATTEMPTS', status: 429, message: 'Too many wrong codes from this address: try again in 30 s',
    });
    server.clock.advance(FIRST_WAIT_MS);
    await c.client.ok('mfaVerify', { code: authenticatorCode(c.secret, server.clock.now()) });
  });
});
