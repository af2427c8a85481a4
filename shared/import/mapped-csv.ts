/**
 * A spreadsheet's CSV (issue #12, "generic, with a column mapping the person confirms"): any
 * header row, and a mapping the person gives (CLI `--map title=Name,otp=TOTP`, the app's
 * mapping step) of Crewvault's fields to its columns. The title is required; the rest are
 * optional. The OTP column holds an otpauth:// URI, `steam://KEY` or a bare base32 key, as the
 * password managers' OTP fields do. Never recognised by `auto`: a CSV says nothing of which
 * column is which until someone says so.
 *
 * Must never put a cell's text in an error: a column may hold passwords. Errors name columns
 * (the header, which the person typed) and lines only.
 */
import { CrewvaultError } from '../errors';
import { decodeExportText, readCsv, type CsvRow } from './csv';
import { LoginCollector } from './login';
import { CSV_TARGETS, type CsvMapping, type CsvTarget, type Importer, type ImportResult } from './types';

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

const normalise = (header: string): string => header.trim().toLowerCase();

/** The header row's columns, as written (for the mapping step and for errors). */
export function csvColumns(data: Uint8Array): string[] {
  const rows = readCsv(decodeExportText(data, 'a CSV file'));
  const header = rows[0];
  if (!header || header.fields.every((f) => f.trim() === '')) invalid('The CSV file is empty: its first line must name the columns.');
  return header.fields.map((f) => f.trim());
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
  const listed = columns.map((c) => `"${c}"`).join(', ');
  if (!mapping.title) invalid(`Map the title column (the file's columns: ${listed}).`);
  const at: Partial<Record<CsvTarget, number>> = {};
  const used = new Map<number, CsvTarget>();
  for (const target of CSV_TARGETS) {
    const column = mapping[target];
    if (column === undefined || column === '') continue;
    const index = columns.findIndex((c) => normalise(c) === normalise(column));
    if (index < 0) invalid(`The column "${column}" mapped to ${target} is not in the file (its columns: ${listed}).`);
    const earlier = used.get(index);
    if (earlier) invalid(`The column "${column}" is mapped to both ${earlier} and ${target}.`);
    used.set(index, target);
    at[target] = index;
  }
  return at;
}

/** Reads the rows after the header through the mapping; a bad row is a problem naming its line. */
export function readMappedCsv(data: Uint8Array, mapping: CsvMapping): ImportResult {
  const rows: CsvRow[] = readCsv(decodeExportText(data, 'a CSV file'));
  const columns = csvColumns(data);
  const at = resolveCsvMapping(columns, mapping);
  const collector = new LoginCollector('csv');
  for (const row of rows.slice(1)) {
    const cell = (target: CsvTarget): string => {
      const index = at[target];
      return index === undefined ? '' : (row.fields[index] ?? '');
    };
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
    if (!options.mapping) {
      const columns = csvColumns(data).map((c) => `"${c}"`).join(', ');
      return Promise.reject(new CrewvaultError('USAGE', `Say which column is which with --map title=COLUMN[,otp=COLUMN,…] (the file's columns: ${columns}).`));
    }
    return Promise.resolve(readMappedCsv(data, options.mapping));
  },
};
