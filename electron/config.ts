/**
 * The little the app remembers outside any vault: the last vault file opened through the UI,
 * and how the UI looks (its theme). A JSON file in the per-user config folder; never a secret,
 * never a key. Each change rewrites the file with the other fields kept (updateConfig).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { THEMES, type Theme, type UiSettings } from '../shared/model';
import { defaultVaultPath } from './paths';

export interface AppConfig {
  readonly lastVault?: string;
  readonly theme?: Theme;
}

export function configPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CREWVAULT_CONFIG) return path.resolve(env.CREWVAULT_CONFIG);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Crewvault', 'config.json');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Crewvault', 'config.json');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'crewvault', 'config.json');
}

function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

export function readConfig(file: string): AppConfig {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    // Each field on its own: one damaged or unknown value does not lose the others.
    const lastVault = 'lastVault' in value && typeof value.lastVault === 'string' ? { lastVault: value.lastVault } : {};
    const theme = 'theme' in value && isTheme(value.theme) ? { theme: value.theme } : {};
    return { ...lastVault, ...theme };
  } catch {
    // No config yet, or one we cannot read: start from the defaults.
  }
  return {};
}

/** Changes some fields of the config, keeping the rest. */
export function updateConfig(file: string, changes: AppConfig): AppConfig {
  const next = { ...readConfig(file), ...changes };
  writeConfig(file, next);
  return next;
}

/** The UI settings a door hands the router (ui.settings, ui.setTheme). */
export function configUiSettings(file: string): { read(): UiSettings; write(settings: UiSettings): void } {
  return {
    read: () => ({ theme: readConfig(file).theme ?? 'system' }),
    write: (settings) => void updateConfig(file, { theme: settings.theme }),
  };
}

export function writeConfig(file: string, config: AppConfig): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** The vault the UI opens first: $CREWVAULT_VAULT, else the last one used, else the default. */
export function uiVaultPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.CREWVAULT_VAULT) return defaultVaultPath(env);
  const last = readConfig(file).lastVault;
  return last && existsSync(last) ? last : defaultVaultPath(env);
}
