/**
 * Where the vault lives by default, the same for the CLI, the browser host and Electron:
 * $CREWVAULT_VAULT, else the platform's per-user application-data folder.
 */
import os from 'node:os';
import path from 'node:path';

export const VAULT_FILE_NAME = 'vault.crewvault';

export function defaultVaultPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CREWVAULT_VAULT) return path.resolve(env.CREWVAULT_VAULT);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Crewvault', VAULT_FILE_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Crewvault', VAULT_FILE_NAME);
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'crewvault', VAULT_FILE_NAME);
}
