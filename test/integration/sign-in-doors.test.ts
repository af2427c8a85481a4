// The two doors give the same answer for the same sign-in situation (issue #13: the second step,
// the one-time-password gate and the fresh proof live in electron/vault/sign-in-flow.ts, and
// the router and the CLI only adapt). Each case below is one point where the two copies used to
// disagree; it drives the router through `call` and the CLI through runCli, on one vault file,
// with one hand-moved clock (codes need later steps, the second step its time limit).
import { describe, expect, it } from 'vitest';
import { Router } from '../../electron/router';
import type { SessionState } from '../../shared/api/contract';
import type { Reply } from '../../shared/api/reply';
import { errorCode, ok } from '../support/router';
import { runScripted } from '../support/scripted-cli';
import { totp } from '../support/totp';
import { FAST_KDF, manualClock, tempVaultPath } from '../support/vault';
import { withBase } from '../support/base-revision';

const ALICE = 'alice pass 123';
const BOB_ONE_TIME = 'bob one-time 1';
const BOB = 'bob chose this';
const STEP_MS = 30_000;
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // a step boundary

interface Outcome {
  readonly code: string;
  readonly message: string;
}

/** A vault with alice (owner) and bob (technician, still on his one-time password), both doors onto it. */
async function doors() {
  const clock = manualClock(T0);
  const vaultPath = tempVaultPath();
  const router = new Router({ vaultPath, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF });
  ok(await router.call('vault.create', { username: 'alice', password: ALICE }));
  ok(await router.call('users.create', { username: 'bob', role: 'technician', password: BOB_ONE_TIME }));
  ok(await router.call('session.lock', {}));

  /** The router's answer as { code, message }, 'ok' for a good reply. */
  const viaRouter = async (method: string, input: unknown): Promise<Outcome> => {
    const reply: Reply<unknown> = await router.call(method, input);
    return reply.ok ? { code: 'ok', message: '' } : reply.error;
  };
  const signIn = async (who: string, password: string): Promise<SessionState> => ok(await router.call('session.signIn', { username: who, password })) as SessionState;

  /**
   * One CLI command in-process as `who`: each answer is one secret prompt's line, in order (a
   * function is asked at the prompt, so a test can move the clock while "the person types").
   */
  const viaCli = (who: string, args: readonly string[], answers: ReadonlyArray<string | (() => string)>): Promise<Outcome & { status: number; stdout: string }> =>
    runScripted([args[0] ?? '', '--vault', vaultPath, '--as', who, ...args.slice(1)], answers, clock);

  /** Bob replaces his one-time password (through the router, then locks). */
  const bobChoosesPassword = async (): Promise<void> => {
    await signIn('bob', BOB_ONE_TIME);
    ok(await router.call('session.changePassword', { current: BOB_ONE_TIME, next: BOB }));
    ok(await router.call('session.lock', {}));
  };

  /** Sets up an authenticator for `who` through the router (signed in in full); returns its key. */
  const enrol = async (who: string, password: string): Promise<string> => {
    await signIn(who, password);
    const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
    ok(await router.call('mfa.confirm', { code: totp(secret, clock.now()) }));
    ok(await router.call('session.lock', {}));
    clock.advance(STEP_MS); // past the step used to confirm
    return secret;
  };

  /** The code of the next step: each step's code is accepted once. */
  const nextCode = (secret: string): string => {
    clock.advance(STEP_MS);
    return totp(secret, clock.now());
  };

  const setPolicy = async (level: 'off' | 'optional' | 'required', role?: string): Promise<void> => {
    await signIn('alice', ALICE);
    ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', role === undefined ? { level } : { level, role })));
    ok(await router.call('session.lock', {}));
  };

  return { router, clock, viaRouter, viaCli, signIn, bobChoosesPassword, enrol, nextCode, setPolicy };
}

describe('both doors answer a sign-in situation alike', () => {
  it('a one-time password comes first: no authenticator setup before it is replaced (router let mfa.begin/confirm through)', async () => {
    const { viaRouter, viaCli, signIn, router } = await doors();
    const cliBegin = await viaCli('bob', ['mfa', 'begin'], [BOB_ONE_TIME]);
    const cliConfirm = await viaCli('bob', ['mfa', 'confirm', '--code', '123456'], [BOB_ONE_TIME]);
    expect((await signIn('bob', BOB_ONE_TIME)).mustChangePassword).toBe(true);
    const routerBegin = await viaRouter('mfa.begin', {});
    const routerConfirm = await viaRouter('mfa.confirm', { code: '123456' });
    for (const outcome of [cliBegin, cliConfirm, routerBegin, routerConfirm]) expect(outcome.code).toBe('PASSWORD_CHANGE_REQUIRED');
    // Nothing was started: no setup waits for a code.
    ok(await router.call('session.changePassword', { current: BOB_ONE_TIME, next: BOB }));
    expect(errorCode(await router.call('mfa.confirm', { code: '123456' }))).toBe('INVALID_INPUT');
  });

  it('a one-time password is named before the role\'s permission (router said FORBIDDEN first)', async () => {
    const { viaRouter, viaCli, signIn } = await doors();
    const cli = await viaCli('bob', ['user', 'add', 'carol', '--role', 'technician'], [BOB_ONE_TIME, 'carol one-time']);
    await signIn('bob', BOB_ONE_TIME);
    const router = await viaRouter('users.create', { username: 'carol', role: 'technician', password: 'carol one-time' });
    expect(cli.code).toBe('PASSWORD_CHANGE_REQUIRED');
    expect(router.code).toBe('PASSWORD_CHANGE_REQUIRED');
    // Once replaced, the role is what refuses, at both doors.
    await viaRouter('session.changePassword', { current: BOB_ONE_TIME, next: BOB });
    expect((await viaRouter('users.create', { username: 'carol', role: 'technician', password: 'carol one-time' })).code).toBe('FORBIDDEN');
    expect((await viaCli('bob', ['user', 'add', 'carol', '--role', 'technician'], [BOB, 'carol one-time'])).code).toBe('FORBIDDEN');
  });

  it('no second factor given is MFA_REQUIRED (router said INVALID_INPUT)', async () => {
    const { viaRouter, viaCli, signIn, bobChoosesPassword, enrol, nextCode, router } = await doors();
    await bobChoosesPassword();
    const key = await enrol('bob', BOB);
    const cli = await viaCli('bob', ['list'], [BOB]);
    expect(await signIn('bob', BOB)).toMatchObject({ pending: { step: 'code' } });
    const routed = await viaRouter('session.verifyCode', {});
    expect(cli.code).toBe('MFA_REQUIRED');
    expect(routed.code).toBe('MFA_REQUIRED');
    expect(cli.message).toMatch(/^This user signs in with an authentication code: /);
    expect(routed.message).toMatch(/^This user signs in with an authentication code: /);
    // Not a wrong code: the attempt goes on.
    ok(await router.call('session.verifyCode', { code: nextCode(key) }));
  });

  it('more than one second factor at once is refused, and none of them is spent (router used the code)', async () => {
    const { viaRouter, viaCli, signIn, bobChoosesPassword, enrol, nextCode, router } = await doors();
    await bobChoosesPassword();
    const key = await enrol('bob', BOB);
    const cliCode = nextCode(key);
    const cli = await viaCli('bob', ['list', '--code', cliCode, '--emergency-code', 'ABCDEF'], []); // refused before the password
    expect(cli).toMatchObject({ code: 'USAGE', status: 2 });
    expect((await viaCli('bob', ['list', '--code', cliCode], [BOB])).code).toBe('ok');

    await signIn('bob', BOB);
    const routerCode = nextCode(key);
    const routed = await viaRouter('session.verifyCode', { code: routerCode, emergencyCode: 'ABCDEF' });
    expect(routed.code).toBe('INVALID_INPUT');
    expect((ok(await router.call('session.state', {})) as SessionState).user).toBeNull();
    ok(await router.call('session.verifyCode', { code: routerCode }));
  });

  it('the second step has five minutes after the password (the CLI had no limit on a code read after it)', async () => {
    const { viaRouter, viaCli, signIn, bobChoosesPassword, enrol, clock } = await doors();
    await bobChoosesPassword();
    const key = await enrol('bob', BOB);
    const cli = await viaCli('bob', ['list', '--code', '-'], [BOB, () => {
      clock.advance(5 * 60_000 + 1); // the person comes back to the prompt too late
      return totp(key, clock.now());
    }]);
    clock.advance(STEP_MS);
    await signIn('bob', BOB);
    clock.advance(5 * 60_000 + 1);
    const routed = await viaRouter('session.verifyCode', { code: totp(key, clock.now()) });
    expect(cli).toMatchObject({ code: 'LOCKED', message: 'The sign-in took too long: enter your password again.' });
    expect(routed).toEqual({ code: 'LOCKED', message: 'The sign-in took too long: enter your password again.' });
    // In time, the same person gets in at both doors.
    clock.advance(STEP_MS);
    expect((await viaCli('bob', ['list', '--code', '-'], [BOB, () => totp(key, clock.now())])).code).toBe('ok');
  });

  it('a started setup\'s code stands in for the current one (the router refused it while a code was due)', async () => {
    const { viaRouter, viaCli, signIn, bobChoosesPassword, enrol, nextCode, router } = await doors();
    await bobChoosesPassword();
    const first = await enrol('bob', BOB);
    // CLI: begin with the current code, confirm with the new key's code alone.
    const begun = await viaCli('bob', ['mfa', 'begin', '--code', nextCode(first)], [BOB]);
    const second = /^Key: (.+)$/m.exec(begun.stdout)?.[1] ?? '';
    expect((await viaCli('bob', ['mfa', 'confirm', '--code', nextCode(second)], [BOB])).code).toBe('ok');
    // Router: begun in full, then confirmed in place of the code step.
    await signIn('bob', BOB);
    ok(await router.call('session.verifyCode', { code: nextCode(second) }));
    const { secret: third } = ok(await router.call('mfa.begin', { code: nextCode(second) })) as { secret: string };
    ok(await router.call('session.lock', {}));
    await signIn('bob', BOB);
    const done = ok(await router.call('mfa.confirm', { code: nextCode(third) })) as { recoveryCodes: string[]; state: SessionState };
    expect(done.recoveryCodes).toHaveLength(10);
    expect(done.state).toMatchObject({ user: { name: 'bob' }, pending: null });
    ok(await router.call('entries.list', {}));
    ok(await router.call('session.lock', {}));
    // Without a started setup, a code proves nothing at either door.
    const cli = await viaCli('bob', ['mfa', 'confirm', '--code', nextCode(third)], [BOB]);
    await signIn('bob', BOB);
    const routed = await viaRouter('mfa.confirm', { code: nextCode(third) });
    expect(cli.code).toBe('INVALID_INPUT');
    expect(routed.code).toBe('INVALID_INPUT');
    expect((ok(await router.call('session.state', {})) as SessionState).pending).toMatchObject({ step: 'code' });
  });

  it('a code step asks for the code, a setup step for the setup (the router answered LOCKED to both)', async () => {
    const { viaRouter, viaCli, signIn, bobChoosesPassword, enrol, setPolicy, router } = await doors();
    await bobChoosesPassword();
    await enrol('bob', BOB);
    const cliBegin = await viaCli('bob', ['mfa', 'begin'], [BOB]);
    await signIn('bob', BOB);
    const routerBegin = await viaRouter('mfa.begin', {});
    expect(cliBegin.code).toBe('MFA_REQUIRED');
    expect(routerBegin.code).toBe('MFA_REQUIRED');
    ok(await router.call('session.lock', {}));

    await setPolicy('required', 'auditor');
    await signIn('alice', ALICE);
    ok(await router.call('users.create', { username: 'carol', role: 'auditor', password: 'carol one-time' }));
    ok(await router.call('session.lock', {}));
    const cliCode = await viaCli('carol', ['list', '--code', '123456'], ['carol one-time']);
    expect(await signIn('carol', 'carol one-time')).toMatchObject({ pending: { step: 'enrol' } });
    const routerCode = await viaRouter('session.verifyCode', { code: '123456' });
    expect(cliCode.code).toBe('MFA_REQUIRED');
    expect(routerCode.code).toBe('MFA_REQUIRED');
    expect(cliCode.message).toMatch(/^Two-step sign-in is required for this user: /);
    expect(routerCode.message).toMatch(/^Two-step sign-in is required for this user: /);
  });

  it('a policy that comes to require an authenticator applies at once (the router let a signed-in session go on)', async () => {
    const { viaRouter, viaCli, signIn, router, clock } = await doors();
    await signIn('alice', ALICE);
    ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level: 'required' }))); // everyone, alice included
    const routed = await viaRouter('entries.list', {});
    const cli = await viaCli('alice', ['list'], [ALICE]);
    expect(routed.code).toBe('MFA_REQUIRED');
    expect(cli.code).toBe('MFA_REQUIRED');
    // The app's session goes back to the setup step, as the next sign-in would.
    expect((ok(await router.call('session.state', {})) as SessionState).pending).toMatchObject({ step: 'enrol', username: 'alice' });
    const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
    ok(await router.call('mfa.confirm', { code: totp(secret, clock.now()) }));
    ok(await router.call('entries.list', {}));
  });

  it('where the policy turns two-step sign-in off, no new authenticator is set up, a replacement included (the router allowed one)', async () => {
    const { viaRouter, viaCli, signIn, bobChoosesPassword, enrol, setPolicy, nextCode, router } = await doors();
    await bobChoosesPassword();
    const key = await enrol('bob', BOB);
    await setPolicy('off', 'technician');
    const cli = await viaCli('bob', ['mfa', 'begin', '--code', nextCode(key)], [BOB]);
    await signIn('bob', BOB);
    ok(await router.call('session.verifyCode', { code: nextCode(key) }));
    const routed = await viaRouter('mfa.begin', { password: BOB });
    expect(cli.code).toBe('FORBIDDEN');
    expect(routed.code).toBe('FORBIDDEN');
  });
});

describe('the router\'s setup step', () => {
  // Not a door disagreement (a CLI command takes one code), but the same rule: five wrong codes
  // end an attempt, whether the code is for the authenticator or for a setup.
  it('ends after five wrong setup codes, as after five wrong sign-in codes', async () => {
    const { router, signIn, setPolicy } = await doors();
    await setPolicy('required', 'technician');
    await signIn('bob', BOB_ONE_TIME);
    ok(await router.call('mfa.begin', {}));
    for (let i = 0; i < 4; i++) expect(errorCode(await router.call('mfa.confirm', { code: '000000' }))).toBe('WRONG_CODE');
    expect(await router.call('mfa.confirm', { code: '000000' })).toMatchObject({ ok: false, error: { code: 'WRONG_CODE', message: '5 wrong codes: sign in with your password again.' } });
    expect((ok(await router.call('session.state', {})) as SessionState).pending).toBeNull();
  });
});
