// The UI's appearance as a setting of this computer (#11): ui.settings / ui.setTheme through the
// real router onto the real config file (electron/config.ts), which keeps the last vault too.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configUiSettings, readConfig, updateConfig } from '../../electron/config';
import { errorCode, newRouter, ok } from '../support/router';
import { tempFolder } from '../support/vault';

describe('ui.settings and ui.setTheme', () => {
  it('start at "system", keep a choice in the config file beside the last vault, before any sign-in', async () => {
    const config = path.join(tempFolder(), 'config.json');
    const { router } = newRouter(undefined, { ui: configUiSettings(config), onVaultOpened: (file) => void updateConfig(config, { lastVault: file }) });
    expect(ok(await router.call('ui.settings', {}))).toEqual({ theme: 'system' });
    updateConfig(config, { lastVault: '/somewhere/team.crewvault' });
    expect(ok(await router.call('ui.setTheme', { theme: 'dark' }))).toEqual({ theme: 'dark' });
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ lastVault: '/somewhere/team.crewvault', theme: 'dark' });
    // A vault opened later keeps the theme.
    updateConfig(config, { lastVault: '/elsewhere/other.crewvault' });
    expect(ok(await router.call('ui.settings', {}))).toEqual({ theme: 'dark' });
  });

  it('refuses a theme that is not one of the three, and changes nothing', async () => {
    const config = path.join(tempFolder(), 'config.json');
    const { router } = newRouter(undefined, { ui: configUiSettings(config) });
    ok(await router.call('ui.setTheme', { theme: 'light' }));
    expect(errorCode(await router.call('ui.setTheme', { theme: 'purple' }))).toBe('INVALID_INPUT');
    expect(readConfig(config)).toEqual({ theme: 'light' });
  });

  it('reads a damaged theme as "system" without losing the last vault', () => {
    const config = path.join(tempFolder(), 'config.json');
    writeFileSync(config, JSON.stringify({ lastVault: '/v/team.crewvault', theme: 42 }));
    expect(readConfig(config)).toEqual({ lastVault: '/v/team.crewvault' });
    expect(configUiSettings(config).read()).toEqual({ theme: 'system' });
  });
});
