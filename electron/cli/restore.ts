/**
 * `crewvault restore FILE --vault NEW`: writes the vault inside a backup to a new file, after
 * opening the backup with its password and checking the vault inside. It never writes over
 * anything, and leaves nothing behind when it fails. The restored vault is the backed-up one:
 * the same users, passwords, roles, groups, entries and audit log as when the backup was made.
 */
import { parseArgs } from 'node:util';
import { checkNewFile, restoreBackup, type BackupContents } from '../vault/backup';
import { UsageError, type CliCommand, type CliIo } from './io';

const USAGE = `crewvault restore FILE --vault NEW
  Reads the backup password (a hidden prompt, or the next line of piped stdin) and writes the
  vault to NEW, which must not exist, in a folder that does. Sign in to it with the users and
  passwords it had when the backup was made.`;

/** "3 users, 2 groups, 14 entries, 52 audit rows" */
export function describeContents(contents: BackupContents): string {
  const n = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;
  return [n(contents.users, 'user', 'users'), n(contents.groups, 'group', 'groups'), n(contents.entries, 'entry', 'entries'), n(contents.auditRows, 'audit row', 'audit rows')].join(', ');
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { vault: { type: 'string' } }, allowPositionals: true });
  const [file, ...rest] = positionals;
  if (file === undefined || rest.length > 0) throw new UsageError('give one backup FILE');
  if (values.vault === undefined) throw new UsageError('--vault NEW names the new vault file to write');
  // Before the password is asked: NEW must be free and its folder must exist.
  checkNewFile(values.vault, 'VAULT_EXISTS');
  const password = await io.readSecret('Backup password: ');
  const contents = await restoreBackup(file, password, values.vault);
  io.out(`Restored ${file} to ${values.vault}: vault ${contents.vaultId} as of ${new Date(contents.createdAt).toISOString()}, ${describeContents(contents)}.\n`);
  return 0;
}

export const restoreCommand: CliCommand = { summary: 'write the vault inside a backup to a new vault file', usage: USAGE, run };
