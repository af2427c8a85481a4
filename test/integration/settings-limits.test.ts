// Setting limits derived, not copied (issue #13): the contract and the vault's own check read one
// SETTING_LIMITS, so a door that skips the contract (the CLI, a test, a future server) meets the
// same bounds. On a real vault file; must never leave a refused value stored or audited.
import { describe, expect, it } from 'vitest';
import { CONTRACT } from '../../shared/api/contract';
import { SETTING_LIMITS, type VaultSettings } from '../../shared/model';
import { newVault } from '../support/vault';

const KEYS = Object.keys(SETTING_LIMITS) as Array<keyof VaultSettings>;

describe('setting limits', () => {
  it('the contract takes each setting up to its limit and refuses one more', () => {
    const input = CONTRACT['settings.update'].input;
    for (const key of KEYS) {
      expect(input.safeParse({ [key]: SETTING_LIMITS[key], baseRevision: 0 }).success, key).toBe(true);
      expect(input.safeParse({ [key]: SETTING_LIMITS[key] + 1, baseRevision: 0 }).success, key).toBe(false);
    }
  });

  it('the vault itself refuses a setting over its limit, storing and auditing nothing; the limit itself is taken', async () => {
    const { session } = await newVault();
    const before = await session.settings();
    const auditedBefore = (await session.auditLog()).filter((r) => r.action === 'settings.update').length;
    for (const key of KEYS) {
      await expect(session.updateSettings({ [key]: SETTING_LIMITS[key] + 1 }, before.revision)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: `${key} is at most ${SETTING_LIMITS[key]}.` }));
    }
    expect(await session.settings()).toEqual(before);
    expect((await session.auditLog()).filter((r) => r.action === 'settings.update')).toHaveLength(auditedBefore);
    // One change over its limit among good ones: nothing of the call is kept.
    await expect(session.updateSettings({ clipboardClearSeconds: 5, trustDeviceDays: SETTING_LIMITS.trustDeviceDays + 1 }, before.revision)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(await session.settings()).toEqual(before);
    expect(await session.updateSettings({ ...SETTING_LIMITS }, before.revision)).toEqual({ ...SETTING_LIMITS, revision: before.revision + 1 });
    await session.close();
  });
});
