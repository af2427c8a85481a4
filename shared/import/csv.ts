/**
 * Reading a text export: the bytes as UTF-8 text (size-capped, byte-order mark dropped), and
 * RFC 4180 CSV (https://www.rfc-editor.org/rfc/rfc4180) as rows of fields, each with the line
 * it starts on. KeePassXC and Bitwarden both export CSV; this one reader serves both. Pure.
 *
 * Must never put a field's text in an error: fields hold passwords and OTP secrets. Errors
 * name a line only.
 */
import { utf8Decode } from '../bytes';
import { CrewvaultError } from '../errors';
import { checkEntryCount } from './collect';
import { MAX_IMPORT_ENTRIES } from './types';

/** Far above any real export (10,000 entries of KeePassXC CSV are about 3 MB); refusing a
 * bigger file early keeps a wrong file (a disk image, a video) from being decoded. */
export const MAX_TEXT_EXPORT_BYTES = 32 * 1024 * 1024;

export interface CsvRow {
  /** The 1-based line the row starts on (a quoted field can span lines). */
  readonly line: number;
  readonly fields: readonly string[];
}

/** Decodes an export's bytes as UTF-8, refusing huge or non-UTF-8 input with one line. */
export function decodeExportText(data: Uint8Array, what: string): string {
  if (data.length > MAX_TEXT_EXPORT_BYTES) {
    throw new CrewvaultError(
      'INVALID_INPUT',
      `The file is too large for ${what} (${Math.ceil(data.length / 1024 / 1024)} MB; at most ${MAX_TEXT_EXPORT_BYTES / 1024 / 1024} MB).`,
    );
  }
  let text: string;
  try {
    text = utf8Decode(data);
  } catch {
    throw new CrewvaultError('INVALID_INPUT', `The file is not UTF-8 text, so not ${what}.`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Decodes at most the first `bytes` bytes, for `detect`: a cut multi-byte character at the
 * end is dropped rather than failing the whole guess. Never throws. */
export function decodeHead(data: Uint8Array, bytes = 4096): string | undefined {
  const head = data.subarray(0, bytes);
  for (let cut = 0; cut < 4 && cut < head.length; cut++) {
    try {
      const text = utf8Decode(head.subarray(0, head.length - cut));
      return text.startsWith('\uFEFF') ? text.slice(1) : text;
    } catch {
      // A character cut at the end of the window: try a byte shorter.
    }
  }
  return undefined;
}

/**
 * Splits CSV text into rows. Records end at CRLF or LF (exports from every platform); a
 * quoted field may hold commas, line breaks and doubled quotes. A quote inside an unquoted
 * field is kept as text (Bitwarden writes `He said "hi"` unquoted when it has no comma).
 * Blank lines are skipped. Throws INVALID_INPUT naming the line when the quoting is broken,
 * since nothing after it can be split reliably.
 */
export function readCsv(text: string, maxRows = Number.POSITIVE_INFINITY): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const n = text.length;
  const endRow = (): void => {
    fields.push(field);
    field = '';
    // A blank line is one empty field: not a row.
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
  };
  // Stops once `maxRows` are read: a header wanted alone, or a row past the bound, costs no more.
  while (i < n && rows.length < maxRows) {
    const ch = text[i];
    if (ch === '"' && field === '') {
      // A quoted field: runs to the next quote not doubled.
      const openedOn = line;
      i++;
      for (;;) {
        if (i >= n) throw new CrewvaultError('INVALID_INPUT', `Line ${openedOn}: a quoted field is never closed.`);
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      const next = text[i];
      if (i < n && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n')) {
        throw new CrewvaultError('INVALID_INPUT', `Line ${line}: text after a closing quote (a field's quotes are not doubled).`);
      }
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      endRow();
      i += ch === '\r' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (rows.length < maxRows && (field !== '' || fields.length > 0)) endRow();
  return rows;
}

/**
 * A CSV export's rows after its header, each checked to hold exactly as many fields as the
 * header names: a row with fewer or more has a comma or quote out of place, so which text is
 * which column (a password in the URL's place, a secret in the title's) cannot be known, and
 * the file is refused rather than read shifted or padded. Undefined for a file with no rows.
 */
export function readCsvTable(text: string): { readonly header: CsvRow; readonly rows: CsvRow[] } | undefined {
  // One row more than the bound, to know the bound was passed without reading on.
  const [header, ...rows] = readCsv(text, MAX_IMPORT_ENTRIES + 2);
  checkEntryCount(rows.length);
  if (!header) return undefined;
  const width = header.fields.length;
  for (const row of rows) {
    if (row.fields.length !== width) {
      throw new CrewvaultError(
        'INVALID_INPUT',
        `Line ${row.line} has ${row.fields.length} ${row.fields.length === 1 ? 'field' : 'fields'} where the first line names ${width} columns (a comma or quote out of place?); nothing was read.`,
      );
    }
  }
  return { header, rows };
}

/** The first row alone (a spreadsheet's column names), the rest of the text not split. */
export function readCsvHeader(text: string): CsvRow | undefined {
  return readCsv(text, 1)[0];
}

/** A named column's text in a row of a checked table (readCsvTable); '' when the file has no such column. */
export function cellOf<Name extends string>(row: CsvRow, at: Partial<Record<Name, number>>, name: Name): string {
  const index = at[name];
  return index === undefined ? '' : (row.fields[index] ?? '');
}

/** Where each named column is in `header` (matched without case or surrounding spaces). */
export function columnsOf<Name extends string>(header: readonly string[], names: readonly Name[]): Partial<Record<Name, number>> {
  const found: Partial<Record<Name, number>> = {};
  const normalised = header.map((h) => h.trim().toLowerCase());
  for (const name of names) {
    const at = normalised.indexOf(name.toLowerCase());
    if (at >= 0) found[name] = at;
  }
  return found;
}
