/**
 * `crewvault import [--format auto|NAME] FILE|-`: another app's export (shared/import's
 * registry: the format recognised from the content, never the file name) into one access
 * group the person names (or their only one). The input is read as a stream and refused past
 * MAX_IMPORT_BYTES — a device or a pipe stops at the bound like a file — and its format is
 * recognised before anyone signs in, so a wrong or huge input costs no sign-in and writes
 * nothing. The vault checks each entry (import-export.ts importEntries): bad ones and duplicates are
 * listed by where they were; duplicates are skipped, and an entry that cannot be imported
 * stops the whole import (nothing written) unless --skip-bad says to import the rest without
 * it; --dry-run writes nothing. --columns lists a spreadsheet's columns (only when asked:
 * the first line of a file without a header row is a credential, so no error shows it). An
 * encrypted export's password is read like every other secret.
 */
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { printable } from '../../shared/text';
import { formatBytes, readAtMost } from './bounded-input';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';
import { columnsHint, csvColumns, resolveCsvMapping } from '../../shared/import/mapped-csv';
import { chooseImporter } from '../../shared/import/registry';
import { CSV_TARGETS, type CsvMapping, type CsvTarget, type ImportResult } from '../../shared/import/types';
import { isPng } from '../import/png';
import { readQrImages, type ImageFile } from '../import/qr-images';
import { nodeImportCrypto } from '../import/crypto';
import { IMPORTERS, MAX_IMPORT_BYTES, withoutBom } from '../import/registry';
import { IMPORT_SUMMARY, IMPORT_USAGE } from './import-usage';
import type { ImportOutcome } from '../vault/import-export';
import type { VaultSession } from '../vault/service';

/** The importers this CLI knows (electron/import/registry.ts, shared with the app's "Import…"). */
export { IMPORTERS };

const USAGE = IMPORT_USAGE;
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
    if (stats.isDirectory()) throw new CrewvaultError('INVALID_INPUT', `${file} is a folder, not a file to import.`);
    // A regular file says its size; a device or a pipe (/dev/zero, <(…)) is read up to the bound.
    if (stats.isFile() && stats.size > MAX_IMPORT_BYTES) throw tooLarge(file);
    const bytes = await readAtMost(chunksOf(handle), MAX_IMPORT_BYTES);
    if (bytes === undefined) throw tooLarge(file);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** --group, else the person's only group; with several, they choose: nothing goes to "Default" silently. */
async function targetGroup(session: VaultSession, name: string | undefined): Promise<number> {
  if (name !== undefined) return session.team.resolveGroup(name);
  const groups = await session.team.listGroups();
  const [only] = groups;
  if (only && groups.length === 1) return only.id;
  throw new UsageError(`choose the access group with --group (${groups.map((g) => g.name).join(', ')})`);
}

function isCsvTarget(name: string): name is CsvTarget {
  return (CSV_TARGETS as readonly string[]).includes(name);
}

/** `--map title=Name,otp=TOTP` (and repeated): Crewvault's field = the CSV column's header. */
function parseMap(given: readonly string[]): CsvMapping {
  const mapping: Partial<Record<CsvTarget, string>> = {};
  for (const pair of given.flatMap((value) => value.split(','))) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 1 || pair.slice(eq + 1).trim() === '') throw new UsageError(`--map takes FIELD=COLUMN pairs, such as title=Name,otp=TOTP (got "${printable(pair, 80)}")`);
    const name = pair.slice(0, eq).trim().toLowerCase();
    const target = name === 'secret' ? 'otp' : name;
    if (!isCsvTarget(target)) throw new UsageError(`--map: "${printable(name, 40)}" is not a field; the fields are ${CSV_TARGETS.join(', ')}`);
    if (mapping[target] !== undefined) throw new UsageError(`--map names ${target} twice`);
    mapping[target] = pair.slice(eq + 1).trim();
  }
  return mapping;
}

function parseImportArgs(args: string[]) {
  return parseArgs({
    args,
    options: {
      ...VAULT_OPTIONS,
      format: { type: 'string' },
      customer: { type: 'string' },
      group: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'skip-bad': { type: 'boolean' },
      columns: { type: 'boolean' },
      map: { type: 'string', multiple: true },
    },
    allowPositionals: true,
  });
}

/** The parsed options `run` hands on. */
type ImportValues = ReturnType<typeof parseImportArgs>['values'];

/**
 * Several FILEs: the pages of a Google Authenticator export (or setup codes) as QR code
 * images, read together so a multi-page export is joined and a missing page named. Each must
 * be a PNG; all are read, and refused if one is not, before anyone signs in.
 */
async function runQrImages(files: readonly string[], format: string, values: ImportValues, io: CliIo): Promise<number> {
  if (format !== 'auto' && format !== 'qr') throw new UsageError('several FILEs are read only as QR code images (--format qr)');
  if (files.includes('-')) throw new UsageError('"-" cannot be one of several FILEs');
  if (values.map || values.columns) throw new UsageError('--map and --columns are for --format csv (a spreadsheet whose columns you name)');
  const images: ImageFile[] = [];
  for (const name of files) {
    const bytes = await readImportFile(name);
    if (!isPng(bytes)) throw new UsageError(`several FILEs are read only as QR code images (PNG), and ${name} is not one`);
    images.push({ name: path.basename(name), bytes });
  }
  const read = readQrImages(images);
  return report(await importInto(values, io, () => Promise.resolve(read)), values['dry-run'] === true, 'entries', io);
}

/**
 * Signs in, reads (an encrypted export's password is asked after the person's), and hands it
 * to the vault's import. A person at a terminal sees how far a large import is, on one stderr
 * line that is cleared when it is done; piped runs print nothing of it.
 */
function importInto(values: ImportValues, io: CliIo, read: () => Promise<ImportResult>, warningsTo: CliIo = io): Promise<ImportOutcome> {
  return withSession(values, io, async (session) => {
    const groupId = await targetGroup(session, values.group);
    const result = await read();
    for (const warning of result.warnings) warningsTo.err(`crewvault: warning: ${printable(warning, 300)}\n`);
    let shown = false;
    const onProgress = (written: number, total: number): void => {
      shown = true;
      warningsTo.err(`\rcrewvault: importing: ${written} of ${total} entries written`);
    };
    try {
      return await session.importEntries(result, {
        commit: values['dry-run'] !== true,
        skipProblems: values['skip-bad'] === true,
        groupId,
        ...(values.customer === undefined ? {} : { customer: values.customer }),
        ...(warningsTo.interactive ? { onProgress } : {}),
      });
    } finally {
      if (shown) warningsTo.err('\r\x1b[K');
    }
  });
}

/** `--columns`: a spreadsheet's first line, one column a line, for writing --map; nothing else is read. */
function listColumns(format: string, bytes: Uint8Array, io: CliIo): number {
  if (format !== 'csv') throw new UsageError('--columns is for --format csv (a spreadsheet whose columns you name)');
  for (const column of csvColumns(bytes)) io.out(`${printable(column, 200)}\n`);
  return 0;
}

/** What an import did (or would do): skipped entries in file order on stderr, one summary line. */
function report(outcome: ImportOutcome, dryRun: boolean, units: 'lines' | 'entries', io: CliIo): number {
  // In the order of the file: the importer's problems and the vault's come back apart.
  const position = (where: string): number => Number(/\d+/.exec(where)?.[0] ?? 0);
  const skippedLines = [
    ...outcome.problems.map((p) => ({ at: position(p.where), line: `crewvault: ${outcome.refused ? 'cannot import' : 'skipped'}: ${p.where}: ${p.message}\n` })),
    ...outcome.duplicates.map((p) => ({ at: position(p.where), line: `crewvault: duplicate: ${p.where}: ${p.message}\n` })),
  ].sort((a, b) => a.at - b.at);
  for (const { line } of skippedLines) io.err(line);
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const unit = units === 'lines' ? ['line', 'lines'] as const : ['entry', 'entries'] as const;
  const skipped = count(outcome.problems.length + outcome.duplicates.length, unit[0], unit[1]);
  const total = outcome.byCustomer.reduce((n, c) => n + c.count, 0);
  if (outcome.refused) {
    const rest = count(total, 'entry', 'entries');
    const bad = count(outcome.problems.length, unit[0], unit[1]);
    if (dryRun) {
      io.out(`Would import nothing: ${bad} cannot be imported (listed above); with --skip-bad, would import the other ${rest} into ${outcome.groupName}. Nothing was written.\n`);
      return 1;
    }
    throw new CrewvaultError('INVALID_INPUT', `${bad} cannot be imported (listed above), so nothing was imported: fix them, or pass --skip-bad to import the other ${rest} without them.`);
  }
  if (dryRun) {
    const perCustomer = outcome.byCustomer.map((c) => `${c.customer} ${c.count}`).join(', ');
    io.out(`Would import ${count(total, 'entry', 'entries')} into ${outcome.groupName}${perCustomer ? ` (${perCustomer})` : ''}; would skip ${skipped}. Nothing was written.\n`);
  } else {
    io.out(`Imported ${count(outcome.added.length, 'entry', 'entries')}; skipped ${skipped}.\n`);
  }
  return outcome.problems.length > 0 ? 1 : 0;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseImportArgs(args);
  const [file, ...rest] = positionals;
  if (file === undefined) throw new UsageError('give one FILE to import, or - for standard input (several only as QR code images)');
  const format = (values.format ?? 'auto').toLowerCase();
  if (format !== 'auto' && !IMPORTERS.some((i) => i.name === format)) throw new UsageError(`--format is auto or one of ${IMPORTERS.map((i) => i.name).join(', ')}`);
  if (rest.length > 0) return runQrImages(positionals, format, values, io);
  let bytes: Uint8Array;
  let sessionIo = io;
  if (file === '-') {
    if (io.interactive) throw new UsageError('"-" reads the export from standard input, which is a terminal here: pipe it in after your password');
    // Piped stdin holds the password's line first. Take it now, so the input after it can be
    // read, and refused if too large, before signing in; the sign-in then gets that line.
    // In a terminal that ran `crewvault unlock` (io.held: the agent runs this) nobody signs in,
    // so no line is a password: taking one would drop the input's first line unseen.
    // --columns signs nobody in: the whole input is the file.
    const password = io.held || values.columns === true ? undefined : await io.readSecret('Password: ');
    const input = await io.readStdin(MAX_IMPORT_BYTES);
    if (input === undefined) throw tooLarge('Standard input');
    bytes = input;
    let passwordGiven = false;
    sessionIo = {
      ...io,
      readSecret: (prompt) => {
        if (passwordGiven || password === undefined) return io.readSecret(prompt);
        passwordGiven = true;
        return Promise.resolve(password);
      },
    };
  } else {
    bytes = await readImportFile(file);
  }
  bytes = withoutBom(bytes);
  // Recognised (or refused) from its content before anyone signs in.
  const importer = chooseImporter(IMPORTERS, format, bytes);
  if (values.columns) return listColumns(importer.name, bytes, io);
  // A generic CSV's columns are the person's to name, and checked against its header now.
  let mapping: CsvMapping | undefined;
  if (importer.name === 'csv') {
    if (!values.map) {
      throw new UsageError(`say which column is which with --map title=COLUMN[,otp=COLUMN,username=…] (${columnsHint(csvColumns(bytes).length)}: "crewvault import --format csv --columns FILE" lists them)`);
    }
    mapping = parseMap(values.map);
    resolveCsvMapping(csvColumns(bytes), mapping);
  } else if (values.map) {
    throw new UsageError('--map is for --format csv (a spreadsheet whose columns you name)');
  }
  const encrypted = importer.needsPassword(bytes);
  if (encrypted && file === '-') throw new UsageError('an encrypted export must be given as a FILE: its password is read from standard input');
  const outcome = await importInto(values, sessionIo, async () => {
    // The export's own password is read like every other secret, after the user's.
    const password = encrypted ? await sessionIo.readSecret('Export password: ') : undefined;
    return importer.read(bytes, { crypto: nodeImportCrypto, ...(password === undefined ? {} : { password }), ...(mapping ? { mapping } : {}) });
  }, io);
  return report(outcome, values['dry-run'] === true, importer.name === 'otpauth' ? 'lines' : 'entries', io);
}

export const importCommand: CliCommand = { summary: IMPORT_SUMMARY, usage: USAGE, run };
