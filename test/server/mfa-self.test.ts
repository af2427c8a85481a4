/**
 * One's own second step, after it is set up (issue #14), over real HTTP on PostgreSQL and on
 * PGlite with the injected clock: turning one's authenticator off and getting ten new recovery
 * codes both need a second step from the last five minutes in this session; off is refused
 * where the policy requires an authenticator, and takes the recovery codes and the trust of
 * one's devices with it; new recovery codes replace the old at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRESH_PROOF_MS } from '../../server/auth/second-step';
import { text } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('one\'s own MFA on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  /** Someone with an authenticator, just set up in their session (a fresh second step). */
  async function enrolled(): Promise<{ person: Person; secret: string; recoveryCodes: string[] }> {
    const person = await invitePerson(server, owner);
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    const { recoveryCodes } = await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    return { person, secret, recoveryCodes };
  }

  /** A code again in the person's session, a step after the last one used. */
  async function verifyAgain(person: Person, secret: string): Promise<void> {
    server.clock.advance(30_000);
    await person.client.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) });
  }

  it('turns the authenticator off only right after a second step, with its recovery codes and the trust of devices', async () => {
    const { person, secret, recoveryCodes } = await enrolled();
    await person.client.ok('deviceTrust', {});
    server.clock.advance(FRESH_PROOF_MS + 1000);
    expect(await person.client.fails('mfaDisable', {})).toEqual({
      code: 'MFA_REQUIRED', status: 401, message: 'Enter a code from your authenticator again first: this needs a second step from the last 5 minutes',
    });
    expect((await person.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    await verifyAgain(person, secret);
    expect(await person.client.ok('mfaDisable', {})).toEqual({ removed: true, trustedDevices: 1 });
    expect(await person.client.ok('mfaStatus', undefined)).toMatchObject({ authenticator: false, recoveryCodesLeft: 0 });
    expect((await person.client.ok('devicesList', undefined)).devices.map((device) => device.trustedUntil)).toEqual([null]);
    // A new sign-in is whole after the password, and the old recovery codes are nothing now.
    const again = new TestClient(server.url);
    expect((await again.login(person.username, person.password)).secondStep).toBe('done');
    expect(await again.fails('mfaRecovery', { code: recoveryCodes[0] ?? '' })).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await person.client.fails('mfaDisable', {})).toMatchObject({ code: 'NOT_FOUND' });
    // Set up again: a new key, new codes.
    const { secret: next } = await person.client.ok('mfaEnrolStart', {});
    expect(next).not.toBe(secret);
  });

  it('keeps the authenticator on where the policy requires one', async () => {
    const { person } = await enrolled();
    await owner.client.login(owner.username, owner.password);
    await owner.client.ok('mfaPolicySet', { scope: 'member', level: 'required' });
    try {
      expect(await person.client.fails('mfaDisable', {})).toEqual({
        code: 'FORBIDDEN', status: 403, message: 'Two-step sign-in is required for you here: your authenticator stays on',
      });
      expect((await person.client.ok('mfaStatus', undefined)).authenticator).toBe(true);
    } finally {
      await owner.client.ok('mfaPolicySet', { scope: 'member', level: null });
    }
    await person.client.ok('mfaDisable', {});
  });

  it('gives ten new recovery codes only right after a second step; the old ones stop working at once', async () => {
    const { person, secret, recoveryCodes: old } = await enrolled();
    server.clock.advance(FRESH_PROOF_MS + 1000);
    expect(await person.client.fails('mfaRecoveryRenew', {})).toMatchObject({ code: 'MFA_REQUIRED', status: 401 });
    await verifyAgain(person, secret);
    const { recoveryCodes } = await person.client.ok('mfaRecoveryRenew', {});
    expect(recoveryCodes).toHaveLength(10);
    expect(recoveryCodes.filter((code) => old.includes(code))).toEqual([]);
    expect((await person.client.ok('mfaRecoveryCodes', {})).codes).toEqual(recoveryCodes.map((code) => ({ code, used: false })));
    const other = new TestClient(server.url);
    expect((await other.login(person.username, person.password)).secondStep).toBe('code');
    expect(await other.fails('mfaRecovery', { code: old[0] ?? '' })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await other.ok('mfaRecovery', { code: recoveryCodes[0] ?? '' })).toEqual({ secondStep: 'done', recoveryCodesLeft: 9 });
    // Someone without an authenticator has no codes to renew.
    const plain = await invitePerson(server, owner);
    expect(await plain.client.fails('mfaRecoveryRenew', {})).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('audits both, with no code in the audit', async () => {
    const rows = await server.db.query("SELECT kind, detail FROM server_audit WHERE kind IN ('mfa.disabled', 'mfa.recovery-codes-renewed') ORDER BY seq");
    expect(rows.map((row) => text(row, 'kind'))).toEqual(['mfa.disabled', 'mfa.disabled', 'mfa.recovery-codes-renewed']);
    for (const row of rows) expect(text(row, 'detail')).not.toMatch(/[A-Z0-9]{5}-[A-Z0-9]{5}|\d{6}/);
  });
});
