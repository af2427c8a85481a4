/**
 * KeePassXC's CSV, with the header and quoting KeePassXC 2.7 writes (`keepassxc-cli export -f
 * csv`, src/format/CsvExporter.cpp): every field quoted, quotes doubled, one row per entry:
 *
 *   "Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created","Formula guard"
 *
 * Group is "Root/<customer>" (the first name is the root group's, as KeePassXC writes it);
 * TOTP is the entry's otpauth:// URI (the one shared/export/otpauth.ts writes). KeePassXC's
 * own CSV import and shared/import/keepassxc-csv.ts read it back. Every entry is written,
 * with or without a one-time password. A customer name holding "/" reads back as nested
 * groups (KeePassXC's CSV has no escape for it). The file is plain text: never log it.
 *
 * Any teammate can write a title, note or password that a spreadsheet would run as a formula
 * when the owner opens the export (CSV injection): every cell that could start one gets a
 * leading apostrophe, as OWASP advises (https://owasp.org/www-community/attacks/CSV_Injection).
 * unguardCsvCell undoes exactly that. The last column, "Formula guard" (KeePassXC's import
 * leaves a column it is not told of alone), says the file was written so: Crewvault's importer
 * undoes the guard only in a file that has it, so a KeePassXC export (which writes cells as
 * they are) keeps a password beginning "'=" whole. KeePassXC keeps the apostrophe.
 */
import { utf8Encode } from '../bytes';
import { entryOtpUri } from './otpauth';
import type { ExportEntry, Exporter } from './types';

/** The column that marks a file whose cells were guarded (guardCsvCell); "yes" in each row. */
export const FORMULA_GUARD_COLUMN = 'Formula guard';
export const KEEPASSXC_CSV_HEADER = ['Group', 'Title', 'Username', 'Password', 'URL', 'Notes', 'TOTP', 'Icon', 'Last Modified', 'Created', FORMULA_GUARD_COLUMN] as const;
/** KeePassXC names the root group "Root" in a new database, and its CSV starts each path with it. */
const ROOT_GROUP = 'Root';

/**
 * A cell a spreadsheet would take for a formula (= + - @, or a tab or carriage return before
 * one), after any run of apostrophes: those are guarded too, or a value that itself begins
 * with the guard ("'=x") would lose it on the way back.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/** The cell as text a spreadsheet shows rather than runs: an apostrophe first when it could start a formula. */
export function guardCsvCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Undoes guardCsvCell exactly: drops the leading apostrophe only where guardCsvCell put one. */
export function unguardCsvCell(text: string): string {
  return text.startsWith("'") && FORMULA_START.test(text.slice(1)) ? text.slice(1) : text;
}

/** RFC 4180 quoting, as KeePassXC writes it: every field quoted, quotes doubled. */
function quoted(field: string): string {
  return `"${guardCsvCell(field).replace(/"/g, '""')}"`;
}

/** KeePassXC's timestamp: ISO 8601 in UTC, whole seconds. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function keepassxcCsv(entries: readonly ExportEntry[]): string {
  const rows = entries.map((entry) => [
    `${ROOT_GROUP}/${entry.customer}`,
    entry.title,
    entry.username,
    entry.password,
    entry.url,
    entry.notes,
    entryOtpUri(entry) ?? '',
    '0',
    timestamp(entry.updatedAt),
    timestamp(entry.createdAt),
    'yes',
  ]);
  return [KEEPASSXC_CSV_HEADER, ...rows].map((row) => `${row.map(quoted).join(',')}\n`).join('');
}

export const keepassxcCsvExporter: Exporter = {
  name: 'keepassxc-csv',
  label: 'KeePassXC (CSV)',
  otpOnly: false,
  encrypted: false,
  write: (entries) => Promise.resolve(utf8Encode(keepassxcCsv(entries))),
};
