/**
 * `crewvault backup FILE` (an owner's whole vault, sealed under a backup password) and
 * `crewvault backup verify FILE` (open and check one, no vault needed). The backup password is
 * read like every secret — asked twice on a terminal, or the next line of piped stdin after the
 * vault password — never taken as an argument.
 * `crewvault restore` lives in restore.ts; it is re-exported here so main.ts registers both.
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { checkNewFile, requireBackupAllowed, validateBackupPassword, verifyBackup, writeBackup } from '../vault/backup';
import { KDF_LIMITS } from '../vault/records';
import { UsageError, type CliCommand, type CliIo } from './io';
import { vaultPath, VAULT_OPTIONS, withSession } from './signin';

import { describeContents } from './restore';

export { restoreCommand } from './restore';

const USAGE = `crewvault backup FILE [--vault PATH] [--user NAME] [--code CODE] [--kdf-memory KiB] [--kdf-iterations N]
       crewvault backup verify FILE
  backup: owners only. After your password, reads a backup password (at least 8 characters;
  asked twice on a terminal, or the next line of piped stdin). FILE must not exist yet.
  Argon2id defaults: 65536 KiB (64 MiB), 3 iterations; lower values are for tests.
  verify: reads the backup password, opens the backup and checks the vault inside it.`;

/** Same bounds as "crewvault init" (a backup's settings are held to a vault's own limits). */
function kdfOption(value: string | undefined, option: string, limits: { readonly min: number; readonly max: number }): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < limits.min || Number(value) > limits.max) {
    throw new UsageError(`--${option} must be a whole number from ${limits.min} to ${limits.max}`);
  }
  return Number(value);
}

async function readBackupPassword(io: CliIo): Promise<string> {
  const password = await io.readSecret('Backup password: ');
  validateBackupPassword(password);
  if (io.interactive && (await io.readSecret('Repeat the backup password: ')) !== password) {
    throw new CrewvaultError('INVALID_INPUT', 'The two backup passwords differ; nothing was written.');
  }
  return password;
}

async function verify(file: string, io: CliIo): Promise<number> {
  const password = await io.readSecret('Backup password: ');
  const contents = await verifyBackup(file, password);
  io.out(`Backup intact: vault ${contents.vaultId} (schema ${contents.schema}) as of ${new Date(contents.createdAt).toISOString()}: ${describeContents(contents)}; SQLite's integrity check and every audit link verified.\n`);
  return 0;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, 'kdf-memory': { type: 'string' }, 'kdf-iterations': { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals[0] === 'verify') {
    const [, file, ...rest] = positionals;
    if (file === undefined || rest.length > 0) throw new UsageError('"backup verify" takes one FILE');
    const given = Object.keys(values);
    if (given.length > 0) throw new UsageError(`"backup verify" takes no options (it needs no vault): remove --${given.join(', --')}`);
    return verify(file, io);
  }
  const [file, ...rest] = positionals;
  if (file === undefined) throw new UsageError('name the new backup FILE');
  if (rest.length > 0) throw new UsageError('give one backup FILE (a name that is "verify" reads as ./verify)');
  const memory = kdfOption(values['kdf-memory'], 'kdf-memory', KDF_LIMITS.memory);
  const iterations = kdfOption(values['kdf-iterations'], 'kdf-iterations', KDF_LIMITS.iterations);
  // Before any password is asked: a backup never overwrites, and its folder must exist.
  checkNewFile(file, 'ALREADY_EXISTS');
  const source = vaultPath(values, io);
  const contents = await withSession(values, io, async (session) => {
    requireBackupAllowed(session);
    const backupPassword = await readBackupPassword(io);
    return writeBackup(session, source, file, backupPassword, {
      kdf: { ...(memory === undefined ? {} : { memory }), ...(iterations === undefined ? {} : { iterations }) },
      now: io.now,
    });
  });
  io.out(`Backed up ${source} to ${file}: ${describeContents(contents)}. Keep the backup password apart from the file: without it nothing in the backup can be opened.\n`);
  return 0;
}

export const backupCommand: CliCommand = { summary: 'back up the whole vault to one sealed file, or verify one', usage: USAGE, run };
