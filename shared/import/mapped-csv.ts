/**
 * A spreadsheet's CSV (issue #12, "generic, with a column mapping the person confirms"): any
 * header row, and a mapping the person gives (CLI `--map title=Name,otp=TOTP`, the app's
 * mapping step) of Crewvault's fields to its columns. The title is required; the rest are
 * optional. The OTP column holds an otpauth:// URI, `steam://KEY` or a bare base32 key, as the
 * password managers' OTP fields do. Never recognised by `auto`: a CSV says nothing of which
 * column is which until someone says so.
 *
 * Must never put a cell's text in an error: a column may hold passwords. Nor the first line's:
 * a spreadsheet saved without a header row has a credential there, so errors name only the
 * columns the person typed in a mapping, counts and lines. The columns are shown where the
 * person asked for them (the app's mapping step, `crewvault import --columns`), never in an error.
 */
import { CrewvaultError } from '../errors';
import { printable } from '../text';
import { cellOf, decodeExportText, readCsvHeader, readCsvTable, type CsvRow } from './csv';
import { readNow } from './collect';
import { LoginCollector } from './login';
import { CSV_TARGETS, type CsvMapping, type CsvTarget, type Importer, type ImportResult } from './types';

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

const normalise = (header: string): string => header.trim().toLowerCase();

/** The header row's columns, as written (for the mapping step and for errors). */
export function csvColumns(data: Uint8Array): string[] {
  // The first line alone: asked before sign-in, it must not cost the whole file's rows.
  return headerColumns(readCsvHeader(decodeExportText(data, 'a CSV file')));
}

function headerColumns(header: CsvRow | undefined): string[] {
  if (!header || header.fields.every((f) => f.trim() === '')) invalid('The CSV file is empty: its first line must name the columns.');
  return header.fields.map((f) => f.trim());
}

/** How a door says where the columns can be seen, without showing them (they may be a credential). */
export function columnsHint(count: number): string {
  return `the file's first line names ${count} ${count === 1 ? 'column' : 'columns'}`;
}

/** Names that commonly head each field, for a first guess the person then confirms. */
const GUESSES: Readonly<Record<CsvTarget, readonly string[]>> = {
  title: ['title', 'name', 'account', 'service', 'entry'],
  customer: ['customer', 'client', 'company', 'group', 'folder', 'organisation', 'organization'],
  username: ['username', 'user', 'login', 'user name', 'email', 'e-mail'],
  password: ['password', 'pass', 'pwd'],
  url: ['url', 'website', 'web site', 'uri', 'address'],
  notes: ['notes', 'note', 'comment', 'comments', 'description'],
  otp: ['otp', 'totp', 'otpauth', 'secret key', '2fa', 'mfa', 'one-time password', 'seed'],
};

/** A first guess at the mapping from the header's names; every guess is shown to be confirmed. */
export function guessCsvMapping(columns: readonly string[]): CsvMapping {
  const guess: Partial<Record<CsvTarget, string>> = {};
  const taken = new Set<string>();
  for (const target of CSV_TARGETS) {
    const column = columns.find((c) => !taken.has(c) && GUESSES[target].includes(normalise(c)));
    if (column !== undefined) {
      guess[target] = column;
      taken.add(column);
    }
  }
  return guess;
}

/**
 * Checks a mapping against the header: the title mapped, every mapped column present, no
 * column used twice. Returns each target's column index.
 */
export function resolveCsvMapping(columns: readonly string[], mapping: CsvMapping): Partial<Record<CsvTarget, number>> {
  const listed = columnsHint(columns.length);
  if (!mapping.title) invalid(`Map the title column (${listed}).`);
  const at: Partial<Record<CsvTarget, number>> = {};
  const used = new Map<number, CsvTarget>();
  for (const target of CSV_TARGETS) {
    const column = mapping[target];
    if (column === undefined || column === '') continue;
    const index = columns.findIndex((c) => normalise(c) === normalise(column));
    if (index < 0) invalid(`The column "${printable(column, 60)}" mapped to ${target} is not in the file (${listed}).`);
    const earlier = used.get(index);
    if (earlier) invalid(`The column "${printable(column, 60)}" is mapped to both ${earlier} and ${target}.`);
    used.set(index, target);
    at[target] = index;
  }
  return at;
}

/** Reads the rows after the header through the mapping; a bad row is a problem naming its line. */
export function readMappedCsv(data: Uint8Array, mapping: CsvMapping): ImportResult {
  const table = readCsvTable(decodeExportText(data, 'a CSV file'));
  const at = resolveCsvMapping(headerColumns(table?.header), mapping);
  const collector = new LoginCollector('csv');
  for (const row of table?.rows ?? []) {
    const cell = (target: CsvTarget): string => cellOf(row, at, target);
    const customer = cell('customer').trim();
    // Numbered by the file's line (a spreadsheet shows it), not by the row's position.
    collector.add(row.line, { name: cell('title'), ...(customer ? { customer } : {}), username: cell('username').trim(), password: cell('password'), url: cell('url').trim(), notes: cell('notes'), totp: cell('otp') });
  }
  const result = collector.result();
  const byLine = (where: string): string => where.replace(/^entry (\d+)/, 'line $1');
  return { ...result, problems: result.problems.map((p) => ({ where: byLine(p.where), message: p.message })), where: (result.where ?? []).map(byLine) };
}

export const mappedCsvImporter: Importer = {
  name: 'csv',
  label: 'Spreadsheet (CSV) with the columns you map',
  // Never by content: which column is which is the person's to say.
  detect: () => false,
  needsPassword: () => false,
  read(data, options) {
    return readNow(() => {
      if (!options.mapping) {
        const hint = columnsHint(csvColumns(data).length);
        throw new CrewvaultError('USAGE', `Say which column is which with --map title=COLUMN[,otp=COLUMN,…] (${hint}; crewvault import --columns FILE lists them).`);
      }
      return readMappedCsv(data, options.mapping);
    });
  },
};
