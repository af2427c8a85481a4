// `crewvault mfa begin` and `mfa confirm` follow the vault's sign-in rules (sign-in-flow.ts), the
// ones the app's router follows: a setup code read at the prompt after the password ("--code -")
// has the second step's 5 minutes wherever this sign-in has a second step, and "begin" under an
// "off" policy is refused with the router's own answer (the CLI kept a copy of that rule, worded
// apart). Both doors on one vault file, one hand-moved clock; the real CLI runs in-process
// through runCli, each secret prompt answered in turn (a function is asked at the prompt, so a
// test can move the clock while "the person types").
import { describe, expect, it } from 'vitest';
import { Router } from '../../electron/router';
import { SECOND_STEP_MS } from '../../electron/vault/sign-in-flow';
import type { SessionState } from '../../shared/api/contract';
import type { Reply } from '../../shared/api/reply';
import { ok } from '../support/router';
import { runScripted } from '../support/scripted-cli';
import { totp } from '../support/totp';
import { FAST_KDF, manualClock, tempVaultPath } from '../support/vault';
import { withBase } from '../support/base-revision';

const ALICE = 'alice pass 123';
const BOB = 'bob chose this';
const STEP_MS = 30_000;
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // a step boundary
const TOO_LATE = { code: 'LOCKED', message: 'The sign-in took too long: enter your password again.' };
const RECOVERY = /^[A-Z2-9]{5}-[A-Z2-9]{5}$/;

interface Outcome {
  readonly code: string;
  readonly message: string;
}

/** A vault with alice (owner) and bob (technician, his own password chosen), both doors onto it. */
async function doors() {
  const clock = manualClock(T0);
  const vaultPath = tempVaultPath();
  const router = new Router({ vaultPath, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF });
  ok(await router.call('vault.create', { username: 'alice', password: ALICE }));
  ok(await router.call('users.create', { username: 'bob', role: 'technician', password: 'bob one-time' }));
  ok(await router.call('session.lock', {}));
  ok(await router.call('session.signIn', { username: 'bob', password: 'bob one-time' }));
  ok(await router.call('session.changePassword', { current: 'bob one-time', next: BOB }));
  ok(await router.call('session.lock', {}));

  const viaRouter = async (method: string, input: unknown): Promise<Outcome> => {
    const reply: Reply<unknown> = await router.call(method, input);
    return reply.ok ? { code: 'ok', message: '' } : reply.error;
  };
  const signIn = async (who: string, password: string): Promise<SessionState> => ok(await router.call('session.signIn', { username: who, password })) as SessionState;

  /** `crewvault ARGS… --vault … --as bob`: the first answer is his password, the rest are prompts after it. */
  const bobCli = async (args: readonly string[], ...after: ReadonlyArray<string | (() => string)>): Promise<Outcome & { stdout: string }> => {
    const { stdout, code, message } = await runScripted([...args, '--vault', vaultPath, '--as', 'bob'], [BOB, ...after], clock);
    return { stdout, code, message };
  };

  const setPolicy = async (level: 'off' | 'optional' | 'required', role: string): Promise<void> => {
    await signIn('alice', ALICE);
    ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level, role })));
    ok(await router.call('session.lock', {}));
  };

  /** The code of the next step: each step's code is accepted once. */
  const nextCode = (secret: string): string => {
    clock.advance(STEP_MS);
    return totp(secret, clock.now());
  };

  /** A prompt answered `waitMs` after it was shown, with the code of `secret` at that moment. */
  const typedAfter = (waitMs: number, secret: () => string) => (): string => {
    clock.advance(waitMs);
    return totp(secret(), clock.now());
  };

  return { router, clock, viaRouter, signIn, bobCli, setPolicy, nextCode, typedAfter };
}

function keyOf(stdout: string): string {
  return /^Key: (.+)$/m.exec(stdout)?.[1] ?? '';
}

describe('mfa confirm --code - is held to the second step\'s time limit, as the app is', () => {
  it('replacing an authenticator (a code step is due): refused after the limit at both doors, accepted within it', async () => {
    const { router, viaRouter, signIn, bobCli, nextCode, typedAfter } = await doors();
    const first = keyOf((await bobCli(['mfa', 'begin'])).stdout);
    expect((await bobCli(['mfa', 'confirm', '--code', nextCode(first)])).code).toBe('ok');
    const begun = await bobCli(['mfa', 'begin', '--code', nextCode(first)]);
    expect(begun.code).toBe('ok');
    const second = keyOf(begun.stdout);

    const late = await bobCli(['mfa', 'confirm', '--code', '-'], typedAfter(SECOND_STEP_MS + 1, () => second));
    expect(late).toMatchObject(TOO_LATE);
    expect(late.stdout).toBe('');
    await signIn('bob', BOB);
    const routedLate = await viaRouter('mfa.confirm', { code: typedAfter(SECOND_STEP_MS + 1, () => second)() });
    expect(routedLate).toEqual(TOO_LATE);
    // Nothing was confirmed: the first authenticator is still the one that signs in.
    expect((await bobCli(['mfa', 'status', '--code', nextCode(first)])).code).toBe('ok');

    const inTime = await bobCli(['mfa', 'confirm', '--code', '-'], typedAfter(SECOND_STEP_MS - STEP_MS, () => second));
    expect(inTime.code).toBe('ok');
    expect(inTime.stdout).toMatch(/^Two-step sign-in is on for bob with the new authenticator;/);
    expect(inTime.stdout.split('\n').filter((line) => RECOVERY.test(line))).toHaveLength(10);
    // And the new key is the one that signs in now.
    await signIn('bob', BOB);
    ok(await router.call('session.verifyCode', { code: nextCode(second) }));
  });

  it('a setup the policy requires (the setup step is due): refused after the limit at both doors, accepted within it', async () => {
    const { router, viaRouter, signIn, bobCli, setPolicy, clock, typedAfter } = await doors();
    await setPolicy('required', 'technician');
    const begun = await bobCli(['mfa', 'begin']);
    expect(begun.code).toBe('ok');
    const cliKey = keyOf(begun.stdout);

    expect(await bobCli(['mfa', 'confirm', '--code', '-'], typedAfter(SECOND_STEP_MS + 1, () => cliKey))).toMatchObject(TOO_LATE);
    expect(await signIn('bob', BOB)).toMatchObject({ pending: { step: 'enrol' } });
    const { secret: routerKey } = ok(await router.call('mfa.begin', {})) as { secret: string };
    expect(await viaRouter('mfa.confirm', { code: typedAfter(SECOND_STEP_MS + 1, () => routerKey)() })).toEqual(TOO_LATE);

    // The router's begin replaced the CLI's setup; a fresh sign-in confirms it within the limit.
    clock.advance(STEP_MS);
    const inTime = await bobCli(['mfa', 'confirm', '--code', '-'], typedAfter(SECOND_STEP_MS, () => routerKey));
    expect(inTime.code).toBe('ok');
    expect(inTime.stdout).toMatch(/^Two-step sign-in is on for bob\.\n/);
  });

  it('with no second step due (a first, optional setup), neither door has the 5-minute limit: the setup\'s 30 minutes apply', async () => {
    const { router, viaRouter, signIn, bobCli, typedAfter } = await doors();
    const cliKey = keyOf((await bobCli(['mfa', 'begin'])).stdout);
    expect((await bobCli(['mfa', 'confirm', '--code', '-'], typedAfter(SECOND_STEP_MS + 1, () => cliKey))).code).toBe('ok');

    await signIn('alice', ALICE);
    const { secret: aliceKey } = ok(await router.call('mfa.begin', {})) as { secret: string };
    expect((await viaRouter('mfa.confirm', { code: typedAfter(SECOND_STEP_MS + 1, () => aliceKey)() })).code).toBe('ok');
  });
});

describe('mfa begin under an "off" policy', () => {
  it('is refused with the router\'s code and words, without an authenticator and when replacing one', async () => {
    const { router, viaRouter, signIn, bobCli, setPolicy, nextCode } = await doors();
    const key = keyOf((await bobCli(['mfa', 'begin'])).stdout);
    expect((await bobCli(['mfa', 'confirm', '--code', nextCode(key)])).code).toBe('ok');
    await setPolicy('off', 'technician');

    // Replacing bob's authenticator.
    const cliReplace = await bobCli(['mfa', 'begin', '--code', nextCode(key)]);
    await signIn('bob', BOB);
    ok(await router.call('session.verifyCode', { code: nextCode(key) }));
    const routedReplace = await viaRouter('mfa.begin', { password: BOB });
    expect(routedReplace.code).toBe('FORBIDDEN');
    expect({ code: cliReplace.code, message: cliReplace.message }).toEqual(routedReplace);
    ok(await router.call('session.lock', {}));

    // A first authenticator, for someone who has none (bob's is turned off first).
    expect((await bobCli(['mfa', 'off', '--code', nextCode(key)])).code).toBe('ok');
    const cliFirst = await bobCli(['mfa', 'begin']);
    await signIn('bob', BOB);
    const routedFirst = await viaRouter('mfa.begin', {});
    expect(routedFirst.code).toBe('FORBIDDEN');
    expect({ code: cliFirst.code, message: cliFirst.message }).toEqual(routedFirst);
    // Nothing was started at either door: there is no setup to confirm.
    expect((await viaRouter('mfa.confirm', { code: '123456' })).code).toBe('INVALID_INPUT');
    expect((await bobCli(['mfa', 'confirm', '--code', '123456'])).code).toBe('INVALID_INPUT');
  });
});
