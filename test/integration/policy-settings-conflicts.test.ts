// The MFA policy and the vault-wide settings name the revision their caller read (#13, "a write
// names the revision it was based on; a stale one is refused with CONFLICT"), as groups, users
// and entries already do: two sessions on one real vault file — one reads, the other writes, the
// first writes from what it read and is refused with nothing stored or audited; no revision is
// INVALID_INPUT, at the desktop door and inside the vault; two real processes (this one and the
// crewvault binary) for both. Real SQLite files, real crypto, real child processes. Must
// never print a secret.
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import type { MfaPolicyView, SessionState } from '../../shared/api/contract';
import { Vault } from '../../electron/vault/vault';
import { crewvault } from '../support/cli';
import { errorCode, newRouter, ok } from '../support/router';
import { newVault, OWNER, PASSWORD } from '../support/vault';

async function codeOf(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
    return 'ok';
  } catch (error) {
    return error instanceof CrewvaultError ? error.code : String(error);
  }
}

/** `mine` and `theirs`: two sessions of the owner on one vault file. */
async function twoSessions() {
  const { file, session: mine, clock } = await newVault();
  const theirs = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
  const audited = async (action: string): Promise<number> => (await mine.auditLog()).filter((r) => r.action === action).length;
  return { file, mine, theirs, audited };
}

describe('the MFA policy: a change from a stale view is CONFLICT and changes nothing', () => {
  it('for everyone and for one role, after someone else set a role\'s level', async () => {
    const { mine, theirs, audited } = await twoSessions();
    const seen = await mine.mfa.policy();
    await theirs.mfa.setPolicy('required', 'technician', (await theirs.mfa.policy()).revision);
    const after = await mine.mfa.policy();
    const policyAudits = await audited('mfa.policy');

    expect(await codeOf(mine.mfa.setPolicy('off', undefined, seen.revision))).toBe('CONFLICT');
    expect(await codeOf(mine.mfa.setPolicy('off', 'technician', seen.revision))).toBe('CONFLICT');

    expect(await mine.mfa.policy()).toEqual(after);
    expect(after).toMatchObject({ global: 'optional', roles: { technician: 'required' }, revision: seen.revision + 1 });
    expect(await audited('mfa.policy')).toBe(policyAudits);
    // The current revision is taken: the rule refuses stale, not every write.
    expect(await mine.mfa.setPolicy('off', undefined, after.revision)).toMatchObject({ global: 'off', roles: { technician: 'required' }, revision: after.revision + 1 });
  });
});

describe('the vault settings: a change from a stale view is CONFLICT and changes nothing', () => {
  it('trusted-computer days after someone else changed the idle lock', async () => {
    const { mine, theirs, audited } = await twoSessions();
    const seen = await mine.settings();
    await theirs.updateSettings({ idleLockMinutes: 5 }, (await theirs.settings()).revision);
    const after = await mine.settings();
    const settingAudits = await audited('settings.update');

    expect(await codeOf(mine.updateSettings({ trustDeviceDays: 0, idleLockMinutes: 60 }, seen.revision))).toBe('CONFLICT');

    expect(await mine.settings()).toEqual(after);
    expect(after).toMatchObject({ idleLockMinutes: 5, trustDeviceDays: seen.trustDeviceDays, revision: seen.revision + 1 });
    expect(await audited('settings.update')).toBe(settingAudits);
    expect(await mine.updateSettings({ trustDeviceDays: 0 }, after.revision)).toMatchObject({ idleLockMinutes: 5, trustDeviceDays: 0, revision: after.revision + 1 });
  });
});

describe('no revision is INVALID_INPUT, a stale one CONFLICT, nothing written', () => {
  it('inside the vault, whatever the door', async () => {
    const { mine, audited } = await twoSessions();
    const policy = await mine.mfa.policy();
    const settings = await mine.settings();
    const missing = undefined as unknown as number;
    expect(await codeOf(mine.mfa.setPolicy('required', undefined, missing))).toBe('INVALID_INPUT');
    expect(await codeOf(mine.updateSettings({ trustDeviceDays: 0 }, missing))).toBe('INVALID_INPUT');
    expect(await mine.mfa.policy()).toEqual(policy);
    expect(await mine.settings()).toEqual(settings);
    expect(await audited('mfa.policy')).toBe(0);
    expect(await audited('settings.update')).toBe(0);
  });

  it('mfa.setPolicy and settings.update at the desktop door', async () => {
    const { router, vaultPath, clock } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const policy = ok(await router.call('mfa.policy', {})) as MfaPolicyView;
    const settings = (ok(await router.call('session.state', {})) as SessionState).settings;

    expect(errorCode(await router.call('mfa.setPolicy', { level: 'required' }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('settings.update', { trustDeviceDays: 0 }))).toBe('INVALID_INPUT');

    const other = await Vault.open(vaultPath, clock).signIn(OWNER, PASSWORD);
    await other.mfa.setPolicy('required', 'auditor', policy.revision);
    await other.updateSettings({ clipboardClearSeconds: 10 }, settings.revision);
    const stale = await router.call('mfa.setPolicy', { level: 'required', baseRevision: policy.revision });
    expect(errorCode(stale)).toBe('CONFLICT');
    expect(stale.ok ? '' : stale.error.message).not.toContain('\n');
    expect(errorCode(await router.call('settings.update', { trustDeviceDays: 0, baseRevision: settings.revision }))).toBe('CONFLICT');
    expect(ok(await router.call('mfa.policy', {}))).toEqual({ global: 'optional', roles: { auditor: 'required' }, revision: policy.revision + 1 });
    expect((ok(await router.call('session.state', {})) as SessionState).settings).toEqual({ ...settings, clipboardClearSeconds: 10, revision: settings.revision + 1 });
  });
});

describe('two real processes: the crewvault binary writes between this process\'s read and write', () => {
  it('a policy set by the CLI makes this process\'s stale one CONFLICT', async () => {
    const { file, mine } = await twoSessions();
    const seen = await mine.mfa.policy();

    // The CLI reads the revision itself just before it writes, so its own write goes through.
    const set = crewvault(['policy', 'mfa', 'required', '--role', 'auditor', '--vault', file, '--as', OWNER], { input: `${PASSWORD}\n` });
    expect(set.status, set.stderr).toBe(0);
    const again = crewvault(['policy', 'mfa', 'off', '--role', 'codes_only', '--vault', file, '--as', OWNER], { input: `${PASSWORD}\n` });
    expect(again.status, again.stderr).toBe(0);
    expect(`${set.stdout}${set.stderr}${again.stdout}${again.stderr}`).not.toContain(PASSWORD);

    expect(await codeOf(mine.mfa.setPolicy('off', 'auditor', seen.revision))).toBe('CONFLICT');
    expect(await mine.mfa.policy()).toEqual({ global: 'optional', roles: { auditor: 'required', codes_only: 'off' }, mine: 'optional', revision: seen.revision + 2 });
  }, 60_000);

  it('settings changed by the CLI make this process\'s stale change CONFLICT', async () => {
    const { file, mine } = await twoSessions();
    const seen = await mine.settings();

    const changed = crewvault(['settings', '--idle-lock', '3', '--trust-days', '9', '--json', '--vault', file, '--as', OWNER], { input: `${PASSWORD}\n` });
    expect(changed.status, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toEqual({ ...seen, idleLockMinutes: 3, trustDeviceDays: 9, revision: seen.revision + 1 });
    expect(`${changed.stdout}${changed.stderr}`).not.toContain(PASSWORD);

    expect(await codeOf(mine.updateSettings({ trustDeviceDays: 0 }, seen.revision))).toBe('CONFLICT');
    expect(await mine.settings()).toEqual({ ...seen, idleLockMinutes: 3, trustDeviceDays: 9, revision: seen.revision + 1 });
  }, 60_000);
});
