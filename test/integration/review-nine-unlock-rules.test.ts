// Review round nine, hole 2 (#11/#13): an unlocked CLI session (crewvault unlock) follows the
// vault's sign-in rules at every command, as the app's router does at every call — one rule,
// sign-in-flow.ts admitSession, which asks VaultSession.recheck first. An MFA reset ends the
// person's open sessions at both doors (as a password reset does); a policy that comes to
// require an authenticator they lack sends the desktop back to setup and ends the CLI's agent
// (MFA_REQUIRED: setting one up is a sign-in of its own). The person's own change of their
// authenticator ends nothing. Real vault files, sockets and routers; the injected clock.
// Must never print a secret (the values below are test values, compared, not logged).
import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../shared/api/contract';
import { mustSetUpAuthenticator } from '../../electron/vault/sign-in-flow';
import { totp } from '../support/totp';
import { ENTRY_PASSWORD, T0, code, errorCode, holdInAgent, newRouter, ok, runUnlocked, SignInAttempt, Vault, FAST_KDF, manualClock, newVault, OWNER, PASSWORD } from '../support/unlocked-agent';
import { withBase } from '../support/base-revision';

const NO_WORDS = { giveCode: '', setUpAuthenticator: '', choosePassword: '' };

/** A vault with tom (technician, his own password, an authenticator) and the owner's session. */
async function withTom(policy?: 'required') {
  const clock = manualClock(T0);
  const { file, session: owner } = await newVault(clock);
  if (policy) await owner.mfa.setPolicy(policy, 'technician', (await owner.mfa.policy()).revision);
  await owner.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
  await owner.createUser('tom', 'technician', 'tom one-time password', FAST_KDF);
  const vault = Vault.open(file, clock);
  const first = await vault.signIn('tom', 'tom one-time password');
  const enrolment = await first.mfa.beginEnrolment();
  await first.mfa.confirmEnrolment(code(enrolment.secret, T0), T0);
  await first.changePassword('tom one-time password', 'tom own password', FAST_KDF);
  first.lock();
  clock.advance(60_000);
  return { clock, file, owner, vault, secret: enrolment.secret };
}

/** Tom unlocked in an agent after password + code. */
async function tomUnlocked(policy?: 'required') {
  const setup = await withTom(policy);
  const { vault, clock, secret, file } = setup;
  const session = await vault.signIn('tom', 'tom own password');
  const attempt = await SignInAttempt.afterPassword(session, clock);
  await attempt.answer({ code: code(secret, clock.now()) }, NO_WORDS);
  const held = await holdInAgent(vault, file, session, clock);
  expect(await runUnlocked('list', ['--vault', file], held.io)).toBe(0);
  held.output();
  return { ...setup, ...held, session };
}

const stillRunning = 'still running';

describe('the unlocked CLI session asks the vault\'s sign-in rules at every command (hole 2)', () => {
  it('the owner resets tom\'s MFA (lost phone): the next command is LOCKED and the agent ends', async () => {
    const { owner, file, io, output, agent } = await tomUnlocked();
    await owner.mfa.resetFor('tom');
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(1);
    expect(output().stderr).toMatch(/^crewvault: LOCKED: [^\n]*reset[^\n]*\n$/);
    expect(await Promise.race([agent.stopped, Promise.resolve(stillRunning)])).not.toBe(stillRunning);
  });

  it('under a policy that requires an authenticator, the reset ends it too: nothing is revealed', async () => {
    const { owner, file, io, output, session } = await tomUnlocked('required');
    await owner.mfa.resetFor('tom');
    expect(await mustSetUpAuthenticator(session)).toBe(true);
    const status = await runUnlocked('show', ['Acme/Router', '--reveal', '--json', '--vault', file], io);
    const { stdout, stderr } = output();
    expect({ status, revealed: stdout.includes(ENTRY_PASSWORD) }).toEqual({ status: 1, revealed: false });
    expect(stderr).toMatch(/^crewvault: (MFA_REQUIRED|LOCKED): /);
  });

  it('a policy newly requiring an authenticator tom never set up: MFA_REQUIRED, nothing revealed, the agent ends; he sets one up by signing in', async () => {
    const clock = manualClock(T0);
    const { file, session: owner } = await newVault(clock);
    await owner.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
    await owner.createUser('tom', 'technician', 'tom one-time password', FAST_KDF);
    const vault = Vault.open(file, clock);
    const first = await vault.signIn('tom', 'tom one-time password');
    await first.changePassword('tom one-time password', 'tom own password', FAST_KDF);
    first.lock();
    const session = await vault.signIn('tom', 'tom own password');
    const { io, output, agent } = await holdInAgent(vault, file, session, clock);
    expect(await runUnlocked('show', ['Acme/Router', '--reveal', '--json', '--vault', file], io)).toBe(0);
    expect(output().stdout).toContain(ENTRY_PASSWORD);
    await owner.mfa.setPolicy('required', 'technician', (await owner.mfa.policy()).revision);
    const status = await runUnlocked('show', ['Acme/Router', '--reveal', '--json', '--vault', file], io);
    const { stdout, stderr } = output();
    expect({ status, revealed: stdout.includes(ENTRY_PASSWORD) }).toEqual({ status: 1, revealed: false });
    expect(stderr).toMatch(/^crewvault: MFA_REQUIRED: [^\n]*crewvault mfa begin[^\n]*\n$/);
    expect(await Promise.race([agent.stopped, Promise.resolve(stillRunning)])).not.toBe(stillRunning);
  });

  it('the account disabled while held: LOCKED before the command runs, the agent ends', async () => {
    const { owner, file, io, output, agent } = await tomUnlocked();
    await owner.team.disableUser('tom', await owner.team.userRevision('tom'));
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(1);
    expect(output().stderr).toMatch(/^crewvault: LOCKED: /);
    expect(await Promise.race([agent.stopped, Promise.resolve(stillRunning)])).not.toBe(stillRunning);
  });

  it('an emergency code issued for tom, or tom\'s own sign-in elsewhere with a code, ends nothing', async () => {
    const { owner, file, io, output, vault, clock, secret, agent } = await tomUnlocked();
    await owner.mfa.issueEmergencyCode('tom', clock.now());
    clock.advance(30_000);
    const elsewhere = await vault.signIn('tom', 'tom own password');
    await (await SignInAttempt.afterPassword(elsewhere, clock)).answer({ code: code(secret, clock.now()) }, NO_WORDS);
    elsewhere.lock();
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(0);
    expect(output().stderr).toBe('');
    expect(await Promise.race([agent.stopped, Promise.resolve(stillRunning)])).toBe(stillRunning);
  });
});

describe('the desktop\'s router: the same rule, the same answer (hole 2, the other door)', () => {
  async function tomAtTheDesk(policy?: 'required') {
    const { router, clock, vaultPath } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD }));
    ok(await router.call('users.create', { username: 'tom', role: 'technician', password: 'tom one-time' }));
    if (policy) ok(await router.call('mfa.setPolicy', await withBase(router, 'mfa.setPolicy', { level: policy, role: 'technician' })));
    ok(await router.call('session.lock', {}));
    ok(await router.call('session.signIn', { username: 'tom', password: 'tom one-time' }));
    // A one-time password is replaced first, unless the policy requires an authenticator (set up first).
    if (!policy) ok(await router.call('session.changePassword', { current: 'tom one-time', next: 'tom chose this' }));
    const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
    ok(await router.call('mfa.confirm', { code: totp(secret, clock.now()) }));
    if (policy) ok(await router.call('session.changePassword', { current: 'tom one-time', next: 'tom chose this' }));
    ok(await router.call('session.lock', {}));
    clock.advance(60_000);
    ok(await router.call('session.signIn', { username: 'tom', password: 'tom chose this' }));
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }));
    ok(await router.call('entries.list', {}));
    const owner = await Vault.open(vaultPath, clock).signIn(OWNER, PASSWORD);
    return { router, clock, owner, secret };
  }

  it('an MFA reset ends tom\'s desktop session: LOCKED, then the sign-in screen (no user, nothing pending)', async () => {
    const { router, owner } = await tomAtTheDesk();
    await owner.mfa.resetFor('tom');
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
    const state = ok(await router.call('session.state', {})) as SessionState;
    expect({ user: state.user, pending: state.pending }).toEqual({ user: null, pending: null });
    // His next sign-in is the password alone (the authenticator is gone): a session of its own.
    ok(await router.call('session.signIn', { username: 'tom', password: 'tom chose this' }));
    ok(await router.call('entries.list', {}));
    owner.lock();
  });

  it('under a required policy, the reset ends the session too; the next sign-in leads to setup', async () => {
    const { router, owner } = await tomAtTheDesk('required');
    await owner.mfa.resetFor('tom');
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
    const state = ok(await router.call('session.signIn', { username: 'tom', password: 'tom chose this' })) as SessionState;
    expect(state.pending).toMatchObject({ step: 'enrol', username: 'tom' });
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
    expect(ok(await router.call('mfa.begin', {}))).toMatchObject({ secret: expect.any(String) as unknown });
    owner.lock();
  });

  it('tom replacing or turning off his own authenticator keeps his own session', async () => {
    const { router, clock, secret, owner } = await tomAtTheDesk();
    clock.advance(60_000);
    const again = ok(await router.call('mfa.begin', { code: totp(secret, clock.now()) })) as { secret: string };
    ok(await router.call('mfa.confirm', { code: totp(again.secret, clock.now()) }));
    ok(await router.call('entries.list', {}));
    clock.advance(60_000);
    ok(await router.call('mfa.disable', { password: 'tom chose this' }));
    ok(await router.call('entries.list', {}));
    owner.lock();
  });
});
