/**
 * Recovery codes on the server, over real HTTP on PostgreSQL and on PGlite: ten made when an
 * authenticator is set up and shown then; each stands in for the authenticator once (in any
 * case, with or without its hyphen); a wrong one counts like a wrong code; "View recovery
 * codes" shows them again, used ones marked, only within five minutes of a second step in
 * that session; and the database holds them only hashed and sealed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECOVERY_VIEW_FRESH_MS } from '../../server/auth/recovery';
import { text } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';
import { secretsHeld } from '../support/secrets';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('recovery codes on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  async function enrol(person: Person): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    const { recoveryCodes } = await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    return { secret, recoveryCodes };
  }

  async function signIn(person: Person): Promise<TestClient> {
    const client = new TestClient(server.url);
    expect((await client.login(person.username, person.password)).secondStep).toBe('code');
    return client;
  }

  it('makes ten distinct codes at set-up, each good once in place of the authenticator', async () => {
    const person = await invitePerson(server, owner);
    const { recoveryCodes } = await enrol(person);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$/);
    const [first = '', second = ''] = recoveryCodes;
    const client = await signIn(person);
    expect(await client.fails('accountKeys', undefined)).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(await client.ok('mfaRecovery', { code: first })).toEqual({ secondStep: 'done', recoveryCodesLeft: 9 });
    await client.ok('accountKeys', undefined);
    // Used: refused on the next sign-in; another, typed carelessly, works.
    const again = await signIn(person);
    expect(await again.fails('mfaRecovery', { code: first })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await again.ok('mfaRecovery', { code: ` ${second.replace('-', '').toLowerCase()} ` })).toEqual({ secondStep: 'done', recoveryCodesLeft: 8 });
    expect((await again.ok('mfaStatus', undefined)).recoveryCodesLeft).toBe(8);
  });

  it('counts a wrong recovery code like a wrong authenticator code: the fifth ends the attempt', async () => {
    const person = await invitePerson(server, owner);
    await enrol(person);
    const client = await signIn(person);
    for (let i = 0; i < 4; i += 1) expect(await client.fails('mfaRecovery', { code: 'AAAAA-AAAAA' })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await client.fails('mfaRecovery', { code: 'AAAAA-AAAAA' })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await client.fails('session', undefined)).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('shows the codes again, used ones marked, only within five minutes of a second step in that session', async () => {
    const person = await invitePerson(server, owner);
    const { secret, recoveryCodes } = await enrol(person);
    // The set-up itself was a second step: the codes may be viewed at once.
    const shown = await person.client.ok('mfaRecoveryCodes', {});
    expect(shown.codes).toEqual(recoveryCodes.map((code) => ({ code, used: false })));
    const client = await signIn(person);
    expect(await client.fails('mfaRecoveryCodes', {})).toMatchObject({ code: 'MFA_REQUIRED' });
    await client.ok('mfaRecovery', { code: recoveryCodes[3] ?? '' });
    expect((await client.ok('mfaRecoveryCodes', {})).codes.map((c) => c.used)).toEqual(recoveryCodes.map((_, i) => i === 3));
    server.clock.advance(RECOVERY_VIEW_FRESH_MS + 1);
    expect(await client.fails('mfaRecoveryCodes', {})).toEqual({
      code: 'MFA_REQUIRED', status: 401, message: 'Enter a code from your authenticator again to see your recovery codes',
    });
    // Re-authentication: a code again, in the same session.
    await client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
    expect((await client.ok('mfaRecoveryCodes', {})).codes).toHaveLength(10);
    // A session that never needed a second step (nobody without an authenticator has codes).
    const plain = await invitePerson(server, owner);
    expect(await plain.client.fails('mfaRecoveryCodes', {})).toMatchObject({ code: 'MFA_REQUIRED' });
  });

  it('keeps the codes in the database only hashed and sealed, and audits each use and view without the code', async () => {
    const person = await invitePerson(server, owner);
    const { recoveryCodes } = await enrol(person);
    await person.client.ok('mfaRecoveryCodes', {});
    const client = await signIn(person);
    await client.ok('mfaRecovery', { code: recoveryCodes[0] ?? '' });
    const tables = ['mfa_recovery_codes', 'mfa_authenticators', 'server_audit'];
    const dump = (await Promise.all(tables.map((t) => server.db.query(`SELECT row_to_json(t)::text AS r FROM ${t} t`))))
      .flat().map((row) => text(row, 'r')).join('\n');
    expect(secretsHeld(dump, [...recoveryCodes, ...recoveryCodes.map((code) => code.replace('-', ''))])).toEqual([]);
    const kinds = (await server.db.query("SELECT kind FROM server_audit WHERE subject_id = $1 AND kind LIKE 'mfa.recovery%' ORDER BY seq", [person.user.id])).map((row) => text(row, 'kind'));
    expect(kinds).toEqual(['mfa.recovery-codes-viewed', 'mfa.recovery']);
  });
});
