// Trusted computers against a real Secret Service: a private D-Bus session with
// gnome-keyring-daemon, started here. A good code with "trust this computer" puts a token in
// the keychain and its hash in the vault; the next sign-in on this computer skips the code
// step until the trust expires, is forgotten, or MFA is reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore, type DeviceStore } from '../../electron/devices';
import type { SessionState, TrustedDeviceView } from '../../shared/api/contract';
import type { UserAdminView } from '../../shared/model';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { errorCode, newRouter, ok } from '../support/router';
import { totp } from '../support/totp';
import { OWNER, PASSWORD, tempVaultPath } from '../support/vault';
import { withBase } from '../support/base-revision';
import { crewvault, type CliResult } from '../support/cli';

const DAY = 24 * 60 * 60_000;
let keyring: PrivateKeyring;
let devices: DeviceStore;

beforeAll(() => {
  keyring = startPrivateKeyring();
  // keytar (libsecret) finds the bus through the environment when it first connects.
  Object.assign(process.env, keyring.env);
  devices = keychainDeviceStore('crewvault-test');
});
afterAll(() => keyring.stop());

/** A vault whose owner has an authenticator, on a computer labelled `label`, signed out. */
async function ownerWithMfa(label = 'desk-1', store: DeviceStore = devices) {
  const setup = newRouter(tempVaultPath(), { devices: store, deviceLabel: label });
  const { router, clock } = setup;
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  const { secret } = ok(await router.call('mfa.begin', {})) as { secret: string };
  const { recoveryCodes } = ok(await router.call('mfa.confirm', { code: totp(secret, clock.now()) })) as { recoveryCodes: string[] };
  ok(await router.call('session.lock', {}));
  clock.advance(60_000);
  return { ...setup, secret, recoveryCodes };
}

async function signInWithPassword(router: ReturnType<typeof newRouter>['router']): Promise<SessionState> {
  return ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD })) as SessionState;
}

describe('trusted computers', () => {
  it('skip the code step after "trust this computer", with the token only in the OS keychain', async () => {
    const { router, clock, secret, vaultPath } = await ownerWithMfa();
    const first = await signInWithPassword(router);
    expect(first.pending).toEqual({ step: 'code', username: OWNER, trustDays: 30 });
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()), trustDevice: true }));

    const { devices: list } = ok(await router.call('mfa.devices', {})) as { devices: TrustedDeviceView[] };
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ label: 'desk-1', createdAt: clock.now(), lastUsedAt: clock.now(), expiresAt: clock.now() + 30 * DAY, current: true });
    const vaultId = /trusted-device\/([0-9a-f]{32})\//.exec((await findAccount()) ?? '')?.[1];
    expect(vaultId).toBeDefined();

    // Idle lock: the password again, but no code on this computer.
    clock.advance(11 * 60_000);
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
    clock.advance(60_000);
    const again = await signInWithPassword(router);
    expect(again).toMatchObject({ user: { name: OWNER }, pending: null });
    const audit = ok(await router.call('audit.list', {})) as { action: string }[];
    expect(audit.map((a) => a.action)).toContain('signin.trusted_device');

    // Trust days set to 0 (an incident) stops this trusted computer too, at once.
    ok(await router.call('settings.update', await withBase(router, 'settings.update', { trustDeviceDays: 0 })));
    ok(await router.call('session.lock', {}));
    expect((await signInWithPassword(router)).pending).toMatchObject({ step: 'code', trustDays: 0 });
    clock.advance(30_000);
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }));
    ok(await router.call('settings.update', await withBase(router, 'settings.update', { trustDeviceDays: 30 })));

    // Another computer (its own keychain: a different service here) still asks for the code.
    const other = newRouter(vaultPath, { devices: keychainDeviceStore('crewvault-test-other'), deviceLabel: 'desk-2' });
    other.clock.set(clock.now());
    ok(await other.router.call('session.lock', {}));
    ok(await router.call('session.lock', {}));
    expect((await signInWithPassword(other.router)).pending).toMatchObject({ step: 'code' });
    await other.router.close();
    await router.close();
  });

  it('are never earned with a recovery code, which is for once', async () => {
    const { router, recoveryCodes } = await ownerWithMfa();
    await signInWithPassword(router);
    ok(await router.call('session.verifyCode', { recoveryCode: recoveryCodes[0] ?? '', trustDevice: true }));
    expect((ok(await router.call('mfa.devices', {})) as { devices: unknown[] }).devices).toEqual([]);
    ok(await router.call('session.lock', {}));
    expect((await signInWithPassword(router)).pending).toMatchObject({ step: 'code' });
    await router.close();
  });

  it('expire after the configured days, and 0 days turns trusting off', async () => {
    const { router, clock, secret } = await ownerWithMfa();
    await signInWithPassword(router);
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }));
    ok(await router.call('settings.update', await withBase(router, 'settings.update', { trustDeviceDays: 0 })));
    ok(await router.call('session.lock', {}));
    clock.advance(60_000);
    expect((await signInWithPassword(router)).pending).toMatchObject({ trustDays: 0 });
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()), trustDevice: true }));
    expect((ok(await router.call('mfa.devices', {})) as { devices: unknown[] }).devices).toEqual([]);

    ok(await router.call('settings.update', await withBase(router, 'settings.update', { trustDeviceDays: 2 })));
    ok(await router.call('session.lock', {}));
    clock.advance(60_000);
    await signInWithPassword(router);
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()), trustDevice: true }));
    // Stored for the vault's days as they are when it is trusted (read in that write).
    const [trusted] = (ok(await router.call('mfa.devices', {})) as { devices: TrustedDeviceView[] }).devices;
    expect(trusted && trusted.expiresAt - trusted.createdAt).toBe(2 * DAY);
    ok(await router.call('session.lock', {}));
    clock.advance(2 * DAY - 1000);
    expect((await signInWithPassword(router)).pending).toBeNull();
    ok(await router.call('session.lock', {}));
    clock.advance(2000 + 2 * DAY);
    expect((await signInWithPassword(router)).pending).toMatchObject({ step: 'code' });
    await router.close();
  });

  it('stop at 0 days set by another process while the keychain was answering', async () => {
    // The keychain can take a while (an unlock prompt); meanwhile an admin's CLI turns trusting off.
    let meanwhile: (() => void) | undefined;
    const slow: DeviceStore = { ...devices, get: async (account) => {
      const token = await devices.get(account);
      meanwhile?.();
      return token;
    } };
    const { router, clock, secret, vaultPath } = await ownerWithMfa('desk-slow', slow);
    await signInWithPassword(router);
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()), trustDevice: true }));
    ok(await router.call('session.lock', {}));
    // Ahead of the wall clock by more than a step: the CLI's code (wall clock) is from before any code this router takes.
    clock.set(Date.now() + 5 * 60_000);
    let off: CliResult | undefined;
    meanwhile = () => {
      meanwhile = undefined;
      off = crewvault(['settings', '--trust-days', '0', '--vault', vaultPath, '--as', OWNER, '--code', totp(secret, Date.now())], { input: `${PASSWORD}\n` });
    };
    const state = await signInWithPassword(router);
    // (Asserted out here: a throw inside the keychain's answer would be taken for a keychain that failed.)
    expect(off?.status, off?.stderr).toBe(0);
    expect(state.pending).toMatchObject({ step: 'code' });
    // Turned off is not forgotten: on again, this computer is trusted again (its keychain token kept).
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()) }));
    ok(await router.call('settings.update', await withBase(router, 'settings.update', { trustDeviceDays: 30 })));
    ok(await router.call('session.lock', {}));
    expect((await signInWithPassword(router)).pending).toBeNull();
    await router.close();
  });

  it('are listed for admins, forgotten (never the one in use), and dropped when MFA is turned off', async () => {
    const { router, clock, secret, vaultPath } = await ownerWithMfa();
    await signInWithPassword(router);
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()), trustDevice: true }));
    const users = ok(await router.call('users.list', {})) as UserAdminView[];
    expect(users).toEqual([expect.objectContaining({ name: OWNER, mfa: true, trustedDevices: 1, lastSignInAt: clock.now() })]);

    const [inUse] = (ok(await router.call('mfa.devices', {})) as { devices: TrustedDeviceView[] }).devices;
    expect(errorCode(await router.call('mfa.forgetDevice', { id: inUse?.id ?? 0 }))).toBe('INVALID_INPUT');

    // From a second computer, the first one can be forgotten: it asks for the code again.
    const other = newRouter(vaultPath, { devices: keychainDeviceStore('crewvault-test-third'), deviceLabel: 'laptop' });
    other.clock.set(clock.now() + 60_000);
    ok(await router.call('session.lock', {}));
    await signInWithPassword(other.router);
    ok(await other.router.call('session.verifyCode', { code: totp(secret, other.clock.now()) }));
    ok(await other.router.call('mfa.forgetDevice', { id: inUse?.id ?? 0 }));
    await other.router.close();
    clock.advance(120_000);
    expect((await signInWithPassword(router)).pending).toMatchObject({ step: 'code' });
    ok(await router.call('session.verifyCode', { code: totp(secret, clock.now()), trustDevice: true }));
    expect((ok(await router.call('users.list', {})) as UserAdminView[])[0]?.trustedDevices).toBe(1);
    expect(errorCode(await router.call('mfa.disable', {}))).toBe('MFA_REQUIRED');
    ok(await router.call('mfa.disable', { password: PASSWORD }));
    expect((ok(await router.call('users.list', {})) as UserAdminView[])[0]).toMatchObject({ mfa: false, trustedDevices: 0 });
    await router.close();
  });
});

/** The keychain account our token went under (the only one this private keyring holds). */
async function findAccount(): Promise<string | undefined> {
  const keytar = (await import('keytar')) as unknown as { default?: { findCredentials(service: string): Promise<{ account: string; password: string }[]> } };
  const found = await keytar.default?.findCredentials('crewvault-test');
  expect(found?.[0]?.password).toMatch(/^[0-9a-f]{64}$/);
  return found?.[0]?.account;
}
