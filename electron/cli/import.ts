/**
 * `crewvault import --format otpauth FILE|-`: one otpauth:// URI per line (Google Authenticator
 * export lines included). The input is read as a stream and refused past MAX_IMPORT_BYTES —
 * a device or a pipe stops at the bound like a file — before anyone signs in, so an input
 * that is too large costs no sign-in and writes nothing. Good lines are committed together;
 * bad ones are listed by line number and skipped (the vault checks each line: service.ts).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { formatBytes, readAtMost } from './bounded-input';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault import [--vault PATH] [--user NAME] --format otpauth FILE|- [--customer C]
  "-" reads the URIs from piped stdin, after your password's line.`;
/** Far above any real export (a Google export QR code holds under 3 KB); bounds memory. */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

function tooLarge(what: string): CrewvaultError {
  return new CrewvaultError('INVALID_INPUT', `${what} is larger than ${formatBytes(MAX_IMPORT_BYTES)}; nothing was imported.`);
}

/** The file's bytes in chunks, read only as far as the consumer asks. */
async function* chunksOf(handle: FileHandle): AsyncGenerator<Uint8Array> {
  for (;;) {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(READ_CHUNK_BYTES), 0, READ_CHUNK_BYTES, null);
    if (bytesRead === 0) return;
    yield buffer.subarray(0, bytesRead);
  }
}

async function readImportFile(file: string): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    throw new CrewvaultError('NOT_FOUND', `Cannot read ${file}.`);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new CrewvaultError('INVALID_INPUT', `${file} is a folder, not a file of otpauth:// lines.`);
    // A regular file says its size; a device or a pipe (/dev/zero, <(…)) is read up to the bound.
    if (stats.isFile() && stats.size > MAX_IMPORT_BYTES) throw tooLarge(file);
    const bytes = await readAtMost(chunksOf(handle), MAX_IMPORT_BYTES);
    if (bytes === undefined) throw tooLarge(file);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** The input without the byte-order mark some Windows editors put first (line 1 would fail). */
function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, format: { type: 'string' }, customer: { type: 'string' } },
    allowPositionals: true,
  });
  const [file, ...rest] = positionals;
  if (file === undefined || rest.length > 0) throw new UsageError('give exactly one FILE to import, or - for standard input');
  if (values.format !== 'otpauth') throw new UsageError('--format otpauth is the format this version imports');
  let text: string;
  let sessionIo = io;
  if (file === '-') {
    if (io.interactive) throw new UsageError('"-" reads the URIs from standard input, which is a terminal here: pipe them in after your password');
    // Piped stdin holds the password's line first. Take it now, so the input after it can be
    // read, and refused if too large, before signing in; the sign-in then gets that line.
    const password = await io.readSecret('Password: ');
    const input = await io.readStdin(MAX_IMPORT_BYTES);
    if (input === undefined) throw tooLarge('Standard input');
    text = withoutBom(input);
    let passwordGiven = false;
    sessionIo = {
      ...io,
      readSecret: (prompt) => {
        if (passwordGiven) return io.readSecret(prompt);
        passwordGiven = true;
        return Promise.resolve(password);
      },
    };
  } else {
    text = withoutBom((await readImportFile(file)).toString('utf8'));
  }
  const result = await withSession(values, sessionIo, (session) =>
    session.importOtpauth(text, values.customer === undefined ? {} : { customer: values.customer }),
  );
  for (const problem of result.problems) io.err(`crewvault: skipped: ${problem.message}\n`);
  io.out(`Imported ${result.added.length} ${result.added.length === 1 ? 'entry' : 'entries'}; skipped ${result.problems.length} ${result.problems.length === 1 ? 'line' : 'lines'}.\n`);
  return result.problems.length > 0 ? 1 : 0;
}

export const importCommand: CliCommand = { summary: 'import otpauth:// URIs from a file or stdin', usage: USAGE, run };
