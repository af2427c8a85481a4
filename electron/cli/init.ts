/** `crewvault init`: creates a vault and its owner. A new password is asked twice on a terminal. */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { createVault } from '../vault/vault';
import { UsageError, type CliCommand, type CliIo } from './io';
import { vaultPath, VAULT_OPTIONS } from './signin';

const USAGE = `crewvault init [--vault PATH] --user NAME [--kdf-memory KiB] [--kdf-iterations N]
  The password is asked twice on a terminal, or read once from stdin when piped.
  Argon2id defaults: 65536 KiB (64 MiB), 3 iterations; lower values are for tests.`;

function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${option} must be a positive whole number`);
  return Number(value);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, 'kdf-memory': { type: 'string' }, 'kdf-iterations': { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.user) throw new UsageError('--user NAME names the vault\'s owner');
  const file = vaultPath(values, io);
  const password = await io.readSecret(`New password for ${values.user}: `);
  if (io.interactive && (await io.readSecret('Repeat the password: ')) !== password) {
    throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was created.');
  }
  const memory = positiveInt(values['kdf-memory'], 'kdf-memory');
  const iterations = positiveInt(values['kdf-iterations'], 'kdf-iterations');
  const session = await createVault(file, {
    owner: values.user,
    password,
    clock: { now: io.now },
    kdf: { ...(memory === undefined ? {} : { memory }), ...(iterations === undefined ? {} : { iterations }) },
  });
  session.close();
  io.out(`Created a vault at ${file} owned by ${session.user.name}.\n`);
  return 0;
}

export const initCommand: CliCommand = { summary: 'create a vault and its owner', usage: USAGE, run };
