// The second sign-in step through the router: a code after the password, five wrong codes
// back to the password, recovery codes, and enrolment forced by a "required" policy.
import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../shared/api/contract';
import { errorCode, newRouter, ok } from '../support/router';
import { totp } from '../support/totp';
import { OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';

async function withMfa() {
  const setup = newRouter();
  const { router, clock } = setup;
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
  const { recoveryCodes } = ok(await router.call('mfa.confirm', { code: totp(secret, clock.now()) })) as { recoveryCodes: string[] };
  ok(await router.call('session.lock', {}));
  clock.advance(60_000); // past the step used to enrol
  return { ...setup, secret, recoveryCodes };
}

describe('the second sign-in step', () => {
  it('asks for a code after the right password; nothing else works until then', async () => {
    const { router, clock, secret } = await withMfa();
    const state = ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD })) as SessionState;
    expect(state).toMatchObject({ user: null, pending: { step: 'code', username: OWNER } });
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
    const after = ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) })) as SessionState;
    expect(after).toMatchObject({ user: { name: OWNER }, pending: null });
    ok(await router.call('entries.list', {}));
  });

  it('five wrong codes end the attempt: back to the password', async () => {
    const { router, clock, secret } = await withMfa();
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    for (let i = 0; i < 4; i++) expect(errorCode(await router.call('session.verifyCode', { code: '000000' }))).toBe('WRONG_CODE');
    const fifth = await router.call('session.verifyCode', { code: '000000' });
    expect(fifth).toMatchObject({ ok: false, error: { code: 'WRONG_CODE', message: '5 wrong codes: sign in with your password again.' } });
    expect(errorCode(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }))).toBe('LOCKED');
    expect((ok(await router.call('session.state', {})) as SessionState).pending).toBeNull();
  });

  it('a recovery code stands in for the authenticator, once', async () => {
    const { router, recoveryCodes } = await withMfa();
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    ok(await router.call('session.verifyCode', { recoveryCode: recoveryCodes[0] ?? '' }));
    ok(await router.call('session.lock', {}));
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(errorCode(await router.call('session.verifyCode', { recoveryCode: recoveryCodes[0] ?? '' }))).toBe('WRONG_CODE');
  });

  it('an abandoned step expires after five minutes', async () => {
    const { router, clock, secret } = await withMfa();
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    clock.advance(5 * 60_000 + 1);
    expect(errorCode(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }))).toBe('LOCKED');
  });

  it('a "required" policy sends an unenrolled person to enrolment right after the password', async () => {
    const { router, clock } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('users.create', { username: 'tom', role: 'technician', password: 'tom one-time' }));
    expect(ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level: 'required', role: 'technician' })))).toMatchObject({ policy: 'optional' });
    ok(await router.call('session.lock', {}));
    const state = ok(await router.call('session.signIn', { username: 'tom', password: 'tom one-time' })) as SessionState;
    expect(state.pending).toEqual({ step: 'enrol', username: 'tom', trustDays: 0 });
    const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
    expect(errorCode(await router.call('mfa.confirm', { code: '000000' }))).toBe('WRONG_CODE');
    const done = ok(await router.call('mfa.confirm', { code: totp(secret, clock.now()) })) as { recoveryCodes: string[]; state: SessionState };
    expect(done.recoveryCodes).toHaveLength(10);
    expect(done.state).toMatchObject({ user: { name: 'tom' }, mustChangePassword: true });
    expect(errorCode(await router.call('mfa.status', {}))).toBe('PASSWORD_CHANGE_REQUIRED');
    ok(await router.call('session.changePassword', { current: 'tom one-time', next: 'tom chose this' }));
    expect(ok(await router.call('mfa.status', {}))).toEqual({ enabled: true, recoveryCodesLeft: 10, policy: 'required' });
    expect(errorCode(await router.call('mfa.disable', {}))).toBe('MFA_REQUIRED'); // a fresh proof first
    expect(errorCode(await router.call('mfa.disable', { password: 'tom chose this' }))).toBe('FORBIDDEN'); // required for his role
  });

  it('an admin resets another user\'s MFA only after proving it is them, and issues emergency codes', async () => {
    const { router, clock, secret } = await withMfa();
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }));
    ok(await router.call('users.create', { username: 'tom', role: 'technician', password: 'tom one-time' }));
    // Alice has an authenticator: her own code is what unlocks the reset, not her password.
    expect(errorCode(await router.call('mfa.reset', { username: 'tom', password: PASSWORD }))).toBe('MFA_REQUIRED');
    expect(errorCode(await router.call('mfa.reset', { username: 'tom', code: '000000' }))).toBe('WRONG_CODE');
    clock.advance(30_000);
    expect(ok(await router.call('mfa.reset', { username: 'tom', code: totp(secret, clock.now()) }))).toEqual({ reset: 'tom' });
    const emergency = ok(await router.call('mfa.emergency', { username: 'tom' })) as { code: string; expiresInSeconds: number };
    expect(emergency.code).toMatch(/^[A-Z]{6}$/);
    expect(emergency.expiresInSeconds).toBe(120);
    const actions = (ok(await router.call('audit.list', {})) as Array<{ action: string }>).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['mfa.reset', 'mfa.emergency_issued']));
  });

  it('an admin without an authenticator confirms the reset with their password', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('users.create', { username: 'tom', role: 'technician', password: 'tom one-time' }));
    expect(errorCode(await router.call('mfa.reset', { username: 'tom' }))).toBe('WRONG_PASSWORD');
    expect(errorCode(await router.call('mfa.reset', { username: 'tom', password: 'not mine' }))).toBe('WRONG_PASSWORD');
    expect(ok(await router.call('mfa.reset', { username: 'tom', password: PASSWORD }))).toEqual({ reset: 'tom' });
  });

  it('shows the key again, replaces or turns off the authenticator only after the password or a fresh code', async () => {
    const { router, clock, secret } = await withMfa();
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }));
    expect(errorCode(await router.call('mfa.showKey', {}))).toBe('MFA_REQUIRED');
    expect(errorCode(await router.call('mfa.showKey', { password: 'not mine' }))).toBe('WRONG_PASSWORD');
    // The code just used to sign in is spent (RFC 6238 §5.2).
    expect(errorCode(await router.call('mfa.showKey', { code: totp(secret, clock.now()) }))).toBe('WRONG_CODE');
    const shown = ok(await router.call('mfa.showKey', { password: PASSWORD })) as { secret: string; uri: string };
    expect(shown.secret.replace(/\s/g, '')).toBe(secret.replace(/\s/g, ''));
    expect(shown.uri).toMatch(/^otpauth:\/\/totp\/Crewvault:alice\?/);
    clock.advance(30_000);
    ok(await router.call('mfa.showKey', { code: totp(secret, clock.now()) }));
    const actions = (ok(await router.call('audit.list', {})) as Array<{ action: string }>).map((r) => r.action);
    expect(actions.filter((a) => a === 'mfa.key_shown')).toHaveLength(2);
    // Replacing the authenticator, new recovery codes and turning it off take the same proof.
    for (const method of ['mfa.begin', 'mfa.regenerate', 'mfa.disable'] as const) {
      expect(errorCode(await router.call(method, {})), method).toBe('MFA_REQUIRED');
    }
    ok(await router.call('mfa.begin', { password: PASSWORD }));
  });

  it('wrong codes in a row back off like passwords, across a restart, so codes cannot be guessed without end', async () => {
    const { router, clock, secret, vaultPath } = await withMfa();
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    for (let i = 0; i < 5; i++) expect(errorCode(await router.call('session.verifyCode', { code: '000000' }))).toBe('WRONG_CODE');
    // Back at the password, which must now wait a second: even the right one.
    expect(await router.call('session.signIn', { username: OWNER, password: PASSWORD })).toMatchObject({ ok: false, error: { code: 'TOO_MANY_ATTEMPTS', message: 'Too many failed sign-in attempts: try again in 1 s.' } });
    await router.close();

    const restarted = newRouter(vaultPath);
    restarted.clock.set(clock.now() + 1000);
    ok(await restarted.router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(errorCode(await restarted.router.call('session.verifyCode', { code: '000000' }))).toBe('WRONG_CODE'); // the sixth: 2 s
    expect(errorCode(await restarted.router.call('session.verifyCode', { code: totp(secret, restarted.clock.now()) }))).toBe('TOO_MANY_ATTEMPTS');
    restarted.clock.advance(2000);
    ok(await restarted.router.call('session.verifyCode', { code: totp(secret, restarted.clock.now()) }));
    // A right code starts the count again: four wrong ones cost no wait.
    ok(await restarted.router.call('session.lock', {}));
    restarted.clock.advance(30_000);
    ok(await restarted.router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    for (let i = 0; i < 4; i++) expect(errorCode(await restarted.router.call('session.verifyCode', { code: '000000' }))).toBe('WRONG_CODE');
    ok(await restarted.router.call('session.verifyCode', { code: totp(secret, restarted.clock.now()) }));
  });

  it('re-checking the password inside a session backs off and is audited like signing in', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
    expect(secret).toBeTruthy();
    for (let i = 0; i < 3; i++) expect(errorCode(await router.call('mfa.reset', { username: OWNER, password: 'a guess' }))).toBe('WRONG_PASSWORD');
    // The third wrong one set a wait: even the right password must wait for it.
    expect(errorCode(await router.call('mfa.reset', { username: OWNER, password: PASSWORD }))).toBe('TOO_MANY_ATTEMPTS');
    const actions = (ok(await router.call('audit.list', {})) as Array<{ action: string }>).map((r) => r.action);
    expect(actions.filter((a) => a === 'password.confirm_failed')).toHaveLength(3);
  });

  it('sets a role\'s policy only for a role that exists, under its defined name', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const before = ok(await router.call('mfa.policy', {}));
    expect(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level: 'required', role: 'techncian' }))).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: 'Unknown role "techncian": one of owner, admin, team_lead, technician, codes_only, auditor.' } });
    expect(ok(await router.call('mfa.policy', {}))).toEqual(before);
    ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level: 'required', role: 'TECHNICIAN' })));
    ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level: 'off', role: 'Technician' })));
    expect(ok(await router.call('mfa.policy', {}))).toEqual({ global: 'optional', roles: { technician: 'off' }, revision: 2 });
  });
});
