/** `crewvault import --format otpauth FILE`: one otpauth:// URI per line (Google Authenticator
 * export lines included). Good lines are committed together; bad ones are listed and skipped. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = 'crewvault import [--vault PATH] [--user NAME] --format otpauth FILE [--customer C]';
const MAX_IMPORT_BYTES = 16 * 1024 * 1024;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, format: { type: 'string' }, customer: { type: 'string' } },
    allowPositionals: true,
  });
  const [file, ...rest] = positionals;
  if (file === undefined || rest.length > 0) throw new UsageError('give exactly one FILE to import');
  if (values.format !== 'otpauth') throw new UsageError('--format otpauth is the format this version imports');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CrewvaultError('NOT_FOUND', `Cannot read ${file}.`);
  }
  if (text.length > MAX_IMPORT_BYTES) throw new CrewvaultError('INVALID_INPUT', `${file} is larger than 16 MiB.`);
  const result = await withSession(values, io, (session) =>
    session.importOtpauth(text, values.customer === undefined ? {} : { customer: values.customer }),
  );
  for (const problem of result.problems) io.err(`crewvault: skipped: ${problem.message}\n`);
  io.out(`Imported ${result.added.length} ${result.added.length === 1 ? 'entry' : 'entries'}; skipped ${result.problems.length} ${result.problems.length === 1 ? 'line' : 'lines'}.\n`);
  return result.problems.length > 0 ? 1 : 0;
}

export const importCommand: CliCommand = { summary: 'import otpauth:// URIs from a file', usage: USAGE, run };
