/**
 * `crewvault export --format FORMAT --plaintext FILE|-`: every entry the person can reveal,
 * written for another app (shared/export; .kdbx by electron/export/kdbx.ts, loaded only then)
 * so nobody is locked in. The vault decides who may (VaultSession.exportEntries: both reveal
 * permissions and the password again) and audits it; this door only asks and writes.
 *
 * The file is new or nothing: refused if the name exists (checked before sign-in, and again
 * atomically at the end), written whole to a 0600 file beside it and then linked into place,
 * so a failure leaves no partial export behind. Must never print a secret, in an error or
 * otherwise, except the export itself to standard output when "-" asks for that.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { link, lstat, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { utf8Decode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { SHARED_EXPORTERS } from '../../shared/export/registry';
import type { Exporter } from '../../shared/export/types';
import { validateNewPassword } from '../vault/records';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

/** KeePass .kdbx: kdbxweb and Argon2 load only when a .kdbx is written. */
const kdbxOnDemand: Exporter = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 4, Argon2id)',
  otpOnly: false,
  encrypted: true,
  write: async (entries, options) => (await import('../export/kdbx')).kdbxExporter.write(entries, options),
};

export const EXPORTERS: readonly Exporter[] = [...SHARED_EXPORTERS, kdbxOnDemand];

const SUMMARY = 'export every entry you can reveal, unencrypted, for another app (needs --plaintext)';
const USAGE = `crewvault export [--vault PATH] [--user NAME] --format FORMAT --plaintext FILE|-
  FORMAT: otpauth (one otpauth:// URI per OTP entry), aegis (Aegis plain JSON, OTP entries),
          keepassxc-csv (KeePassXC CSV, every entry), kdbx (KeePass database, every entry).
  Every entry in the groups whose secrets you hold, passwords, notes and OTP keys included:
  your role needs passwords.reveal and otp.reveal_secret. Asked on a terminal, or piped one per
  line: your password, your password again, then (kdbx) the new database's password. FILE must
  not exist; it is created readable by you only. "-" writes to standard output (not kdbx).`;

/** What the file will hold, for the message that asks for --plaintext. */
function whatItWrites(exporter: Exporter, file: string): string {
  const where = file === '-' ? 'standard output' : file;
  if (exporter.encrypted) return `the export writes every password, note and OTP key you can reveal to ${where}, protected only by a new password you choose`;
  return `the export writes ${exporter.otpOnly ? 'every OTP key' : 'every password, note and OTP key'} you can reveal to ${where} unencrypted`;
}

function exists(file: string): CrewvaultError {
  return new CrewvaultError('ALREADY_EXISTS', `${file} already exists: give a new file name (an export never overwrites).`);
}

async function refuseExisting(file: string): Promise<void> {
  try {
    await lstat(file);
  } catch {
    return; // Not there (or not reachable: the write at the end says why).
  }
  throw exists(file);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function cannotWrite(file: string, error: unknown): CrewvaultError {
  const code = errorCode(error);
  return new CrewvaultError('INVALID_INPUT', `Cannot write ${file}${code === undefined ? '' : ` (${code})`}; nothing was written.`);
}

/** Errors from link() that mean "this file system has no hard links", not "the name is taken". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Writes `bytes` to `target`, created 0600 with O_EXCL; removed again if the write fails. */
async function writeExclusive(target: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(target, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(target, { force: true });
    throw error;
  }
  await handle.close();
}

/**
 * The whole file appears at `file` or nothing does: written to a hidden 0600 file beside it,
 * then hard-linked to the name (link() fails if the name exists, so nothing is overwritten,
 * even by a race). A file system without hard links gets an O_EXCL write, removed on failure.
 */
async function writeNewFile(file: string, bytes: Uint8Array): Promise<void> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await writeExclusive(partial, bytes);
  } catch (error) {
    throw cannotWrite(file, error);
  }
  try {
    await link(partial, file);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') throw exists(file);
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw cannotWrite(file, error);
    try {
      await writeExclusive(file, bytes);
    } catch (direct) {
      throw errorCode(direct) === 'EEXIST' ? exists(file) : cannotWrite(file, direct);
    }
  } finally {
    await rm(partial, { force: true });
  }
}

/** The new database's password: twice on a terminal, held to a Crewvault password's floor. */
async function readDatabasePassword(io: CliIo): Promise<string> {
  const password = await io.readSecret('New password for the KeePass database: ');
  if (io.interactive && (await io.readSecret('Repeat it: ')) !== password) {
    throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was written.');
  }
  return validateNewPassword(password);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, format: { type: 'string' }, plaintext: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [file, ...rest] = positionals;
  if (rest.length > 0) throw unexpectedArgument();
  const exporter = EXPORTERS.find((e) => e.name === values.format?.toLowerCase());
  if (!exporter) throw new UsageError(`--format is one of ${EXPORTERS.map((e) => e.name).join(', ')}`);
  if (file === undefined) throw new UsageError('give the FILE to write (a new one), or - for standard output');
  if (file === '-' && exporter.encrypted) throw new UsageError(`a ${exporter.name} export is a binary file: give a FILE name, not -`);
  if (values.plaintext !== true) throw new UsageError(`${whatItWrites(exporter, file)}: add --plaintext if that is what you want`);
  if (file !== '-') await refuseExisting(file);

  const { outcome, bytes } = await withSession(values, io, async (session) => {
    const again = await io.readSecret('Your password again, to export: ');
    const password = exporter.encrypted ? await readDatabasePassword(io) : undefined;
    const opened = await session.exportEntries(again, { format: exporter.name, otpOnly: exporter.otpOnly });
    const written = await exporter.write(opened.entries, { randomUuid: randomUUID, ...(password === undefined ? {} : { password }) });
    return { outcome: opened, bytes: written };
  });
  // The session is locked: only the file's bytes are left to handle.
  try {
    if (file === '-') io.out(utf8Decode(bytes));
    else await writeNewFile(file, bytes);
  } finally {
    bytes.fill(0);
  }
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const leftOut = outcome.withoutOtp > 0 ? `; left out ${count(outcome.withoutOtp, 'entry', 'entries')} without a one-time password` : '';
  const summary = `Exported ${count(outcome.entries.length, 'entry', 'entries')} (${exporter.name})${file === '-' ? '' : ` to ${file}`}${leftOut}.\n`;
  // With "-" standard output is the export itself: the summary goes beside it.
  if (file === '-') io.err(summary);
  else io.out(summary);
  return 0;
}

export const exportCommand: CliCommand = { summary: SUMMARY, usage: USAGE, run };
