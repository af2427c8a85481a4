/** `crewvault init`: creates a vault and its owner. A new password is asked twice on a terminal. */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { KDF_LIMITS } from '../vault/records';
import { createVault } from '../vault/vault';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { vaultPath, VAULT_OPTIONS } from './signin';

const USAGE = `crewvault init [--vault PATH] --user NAME [--kdf-memory KiB] [--kdf-iterations N]
  The password is asked twice on a terminal, or read once from stdin when piped.
  Argon2id defaults: 65536 KiB (64 MiB), 3 iterations; lower values are for tests.`;

/** A KDF option within the bounds the vault will open later (a larger one would be refused as damage). */
function kdfOption(value: string | undefined, option: string, limits: { readonly min: number; readonly max: number }): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < limits.min || Number(value) > limits.max) {
    throw new UsageError(`--${option} must be a whole number from ${limits.min} to ${limits.max}`);
  }
  return Number(value);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, 'kdf-memory': { type: 'string' }, 'kdf-iterations': { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw unexpectedArgument();
  if (!values.user) throw new UsageError('--user NAME names the vault\'s owner');
  const memory = kdfOption(values['kdf-memory'], 'kdf-memory', KDF_LIMITS.memory);
  const iterations = kdfOption(values['kdf-iterations'], 'kdf-iterations', KDF_LIMITS.iterations);
  const file = vaultPath(values, io);
  const password = await io.readSecret(`New password for ${values.user}: `);
  if (io.interactive && (await io.readSecret('Repeat the password: ')) !== password) {
    throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was created.');
  }
  const session = await createVault(file, {
    owner: values.user,
    password,
    clock: { now: io.now },
    kdf: { ...(memory === undefined ? {} : { memory }), ...(iterations === undefined ? {} : { iterations }) },
  });
  await session.close();
  io.out(`Created a vault at ${file} owned by ${session.user.name}.\n`);
  return 0;
}

export const initCommand: CliCommand = { summary: 'create a vault and its owner', usage: USAGE, run };
