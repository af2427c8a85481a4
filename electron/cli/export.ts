/**
 * `crewvault export --format FORMAT --plaintext FILE|-`: every entry the person can reveal,
 * written for another app (shared/export; .kdbx by electron/export/kdbx.ts, loaded only then)
 * so nobody is locked in. The vault decides who may (VaultSession.exportEntries: both reveal
 * permissions and the password again) and audits it; this door only asks and writes.
 *
 * The file is new or nothing: refused if the name exists (checked before sign-in, and again
 * atomically at the end), written whole to a 0600 file beside it and then linked into place,
 * so a failure leaves no partial export behind; the vault's audit row says which it was. Must
 * never print a secret, in an error or otherwise, except the export itself to standard output
 * when "-" asks for that.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { utf8Decode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import type { Exporter } from '../../shared/export/types';
import { refuseExisting, writeNewFile } from '../export/new-file';
import { EXPORTERS, withExportBytes } from '../export/registry';
import { validateNewPassword } from '../vault/records';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

/** The exporters this CLI knows (electron/export/registry.ts, shared with the app's "Export…"). */
export { EXPORTERS };

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

/** The new database's password: twice on a terminal, held to a Crewvault password's floor. */
async function readDatabasePassword(io: CliIo): Promise<string> {
  const password = await io.readSecret('New password for the KeePass database: ');
  if (io.interactive && (await io.readSecret('Repeat it: ')) !== password) {
    throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was written.');
  }
  return validateNewPassword(password);
}

/** The export to a new FILE, or to standard output for "-"; audited just before it appears. */
async function writeOut(file: string, bytes: Uint8Array, io: CliIo, audited: () => Promise<void>): Promise<void> {
  if (file !== '-') return writeNewFile(file, bytes, audited);
  await audited();
  io.out(utf8Decode(bytes));
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

  const outcome = await withSession(values, io, async (session) => {
    const again = await io.readSecret('Your password again, to export: ');
    const password = exporter.encrypted ? await readDatabasePassword(io) : undefined;
    // Written while signed in: the vault audits what became of the file (exportEntries).
    return session.exportEntries(again, {
      format: exporter.name,
      otpOnly: exporter.otpOnly,
      deliver: ({ entries }, audited) =>
        withExportBytes(exporter, entries, { randomUuid: randomUUID, ...(password === undefined ? {} : { password }) }, (bytes) => writeOut(file, bytes, io, audited)),
    });
  });
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const leftOut = outcome.withoutOtp > 0 ? `; left out ${count(outcome.withoutOtp, 'entry', 'entries')} without a one-time password` : '';
  const summary = `Exported ${count(outcome.entries.length, 'entry', 'entries')} (${exporter.name})${file === '-' ? '' : ` to ${file}`}${leftOut}.\n`;
  // With "-" standard output is the export itself: the summary goes beside it.
  if (file === '-') io.err(summary);
  else io.out(summary);
  return 0;
}

export const exportCommand: CliCommand = { summary: SUMMARY, usage: USAGE, run };
