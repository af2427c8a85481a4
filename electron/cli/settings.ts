/**
 * `crewvault settings …`: the vault-wide settings (idle lock, clipboard clearing, how long a
 * computer is trusted). Reading them needs only a sign-in; changing them needs users.manage. A
 * change reads the settings' revision first and sends it (#13): settings changed in between by
 * someone else are refused (CONFLICT), nothing written. Never prints anything but the settings.
 */
import { parseArgs } from 'node:util';
import { SETTING_LIMITS, type VaultSettings, type VaultSettingsView } from '../../shared/model';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault settings [--idle-lock MINUTES] [--clipboard-clear SECONDS] [--trust-days DAYS] [--json]  [--vault PATH] [--as USER]
  Without an option, prints the vault-wide settings. With one or more, changes them (users.manage):
  --idle-lock        minutes without use before the vault locks (0: never; at most ${SETTING_LIMITS.idleLockMinutes})
  --clipboard-clear  seconds before a copied value is cleared (0: never; at most ${SETTING_LIMITS.clipboardClearSeconds})
  --trust-days       days "Trust this computer" lasts (0 turns it off; at most ${SETTING_LIMITS.trustDeviceDays})
  A change made by someone else since this command read the settings is refused (CONFLICT): run it again.`;

const OPTIONS: ReadonlyArray<readonly [string, keyof VaultSettings]> = [
  ['idle-lock', 'idleLockMinutes'],
  ['clipboard-clear', 'clipboardClearSeconds'],
  ['trust-days', 'trustDeviceDays'],
];

function wholeNumber(option: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${option} takes a whole number, 0 or more`);
  return Number(text);
}

function printSettings(io: CliIo, settings: VaultSettingsView, json: boolean): void {
  if (json) {
    io.out(`${JSON.stringify(settings)}\n`);
    return;
  }
  for (const [option, key] of OPTIONS) io.out(`${option}\t${settings[key]}\n`);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, 'idle-lock': { type: 'string' }, 'clipboard-clear': { type: 'string' }, 'trust-days': { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw unexpectedArgument();
  const changes: Partial<Record<keyof VaultSettings, number>> = {};
  for (const [option, key] of OPTIONS) {
    const given = values[option as 'idle-lock' | 'clipboard-clear' | 'trust-days'];
    if (given !== undefined) changes[key] = wholeNumber(option, given);
  }
  const settings = await withSession(values, io, async (session) => (Object.keys(changes).length === 0
    ? session.settings()
    : session.updateSettings(changes, (await session.settings()).revision)));
  printSettings(io, settings, values.json ?? false);
  return 0;
}

export const settingsCommand: CliCommand = { summary: 'show or change the vault-wide settings', usage: USAGE, run };
