/**
 * KeePassXC's CSV export (`keepassxc-cli export -f csv`, Database ▸ Export ▸ CSV), and the
 * conversion of one KeePass entry that the .kdbx importer (electron/import/kdbx.ts) shares, so
 * the two cannot disagree about what an entry means.
 *
 * A KeePass entry's OTP, in the order KeePassXC reads it (src/core/Totp.cpp, Entry::totp):
 * - the `otp` field: an otpauth:// URI, or KeeOtp's `key=…&size=…&step=…[&otpHashMode=…]`;
 * - else the legacy `TOTP Seed` with `TOTP Settings` "step;digits" or "step;S" (Steam);
 * - else KeePass 2.47's built-in `TimeOtp-Secret-Base32` / `-Hex` / `-Base64` with
 *   `TimeOtp-Length`, `TimeOtp-Period`, `TimeOtp-Algorithm`.
 * The CSV export writes whichever it found as an otpauth URI in its "TOTP" column.
 *
 * The top-level group is the customer; the Recycle Bin is left out. Where KeePassXC clamps a
 * bad setting or "sanitises" a bad key character silently, this refuses the entry with the OTP
 * engine's message. Must never put a field's value in a problem: at most the bad character.
 */
import { base64Decode } from '../bytes';
import { CrewvaultError } from '../errors';
import {
  DEFAULT_PERIOD,
  defaultOtpParams,
  encodeSecret,
  normaliseSecret,
  OTP_ALGORITHMS,
  parseOtpUri,
  steamParams,
  validateOtpParams,
  type OtpAlgorithm,
  type OtpParams,
} from '../otp';
import { cellOf, columnsOf, decodeExportText, decodeHead, readCsvTable } from './csv';
import type { ImportedEntry, Importer, ImportProblem } from './types';
import { FORMULA_GUARD_COLUMN, unguardCsvCell } from '../export/keepassxc-csv';
import { readNow, takeConverted } from './collect';

/** KeePassXC's name for the group it moves deleted entries to (its CSV has no UUIDs). */
export const KEEPASS_RECYCLE_BIN = 'Recycle Bin';

/** One KeePass entry as both the CSV and the .kdbx reader see it. */
export interface KeePassEntryFields {
  /** Group names below the database's root group (empty: the entry sits in the root). */
  readonly groups: readonly string[];
  readonly title: string;
  readonly username: string;
  readonly password: string;
  readonly url: string;
  readonly notes: string;
  /** Any other string field by its exact name (`otp`, `TOTP Seed`, …), undefined when absent. */
  field(name: string): string | undefined;
}

export interface KeePassConversion {
  readonly entry: ImportedEntry;
  /** The OTP engine's warning about a short key, when it gave one. */
  readonly warning?: string;
}

function refuse(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

function wholeNumber(text: string | null | undefined, what: string, fallback: number): number {
  if (text === undefined || text === null || text.trim() === '') return fallback;
  // Not quoted back: a misplaced key can sit in any field.
  if (!/^\s*\d{1,9}\s*$/.test(text)) refuse(`${what} is not a whole number.`);
  return Number(text);
}

function algorithmOf(text: string | null | undefined): OtpAlgorithm {
  if (text === undefined || text === null || text.trim() === '') return 'SHA1';
  // KeeOtp writes "SHA256"; KeePass 2.47 writes "HMAC-SHA-256".
  const upper = text.trim().toUpperCase().replace(/^HMAC-/, '').replace(/-/g, '');
  const found = OTP_ALGORITHMS.find((a) => a === upper);
  if (!found) refuse('Unsupported algorithm: use SHA1, SHA256 or SHA512.');
  return found;
}

interface KeePassOtp {
  readonly params: OtpParams;
  readonly issuer?: string;
  readonly warning?: string;
}

/** KeeOtp's settings string is a URL query; its values are plain (base32 needs no escaping). */
function queryValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    let value = pair.slice(eq + 1);
    try {
      value = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      // Kept as written: a stray "%" in a base32 key is reported by normaliseSecret instead.
    }
    values.set(pair.slice(0, eq).trim().toLowerCase(), value);
  }
  return values;
}

function otpFromOtpField(text: string): KeePassOtp {
  if (/^otpauth:\/\//i.test(text)) {
    // KeePassXC writes a Steam key as "…&digits=6&encoder=steam" (its encoder overrides the
    // digits), which the OTP engine rightly refuses as a 6-character Steam code: drop them.
    const uri = /[?&]encoder=steam(&|$)/i.test(text) ? text.replace(/([?&])digits=[^&]*(&|$)/i, (_m, lead: string, tail: string) => (tail ? lead : '')) : text;
    const parsed = parseOtpUri(uri);
    return { params: parsed.params, ...(parsed.issuer ? { issuer: parsed.issuer } : {}), ...(parsed.warning ? { warning: parsed.warning.message } : {}) };
  }
  const query = queryValues(text);
  const key = query.get('key');
  if (key === undefined) refuse('The otp field is neither an otpauth:// URI nor KeeOtp settings (key=…).');
  return totpOf(key, query.get('otphashmode'), wholeNumber(query.get('size'), 'KeeOtp size', 6), wholeNumber(query.get('step'), 'KeeOtp step', DEFAULT_PERIOD));
}

function otpFromLegacySeed(seed: string, settings: string | undefined): KeePassOtp {
  const { secret, warning } = normaliseSecret(seed);
  const parts = (settings ?? '').split(';').map((p) => p.trim());
  let params: OtpParams;
  if (settings === undefined || settings.trim() === '') {
    params = defaultOtpParams(secret);
  } else if (parts.length < 2) {
    refuse('TOTP Settings is not "step;digits" or "step;S".');
  } else if (parts[1] === 'S') {
    params = steamParams(secret);
  } else {
    const defaults = defaultOtpParams(secret);
    params = {
      ...defaults,
      digits: wholeNumber(parts[1], 'TOTP Settings digits', defaults.digits),
      period: wholeNumber(parts[0], 'TOTP Settings step', defaults.period),
    };
  }
  return { params: validateOtpParams(params), ...(warning ? { warning: warning.message } : {}) };
}

function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/\s/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(clean)) refuse('TimeOtp-Secret-Hex is not hexadecimal.');
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function otpFromTimeOtp(entry: KeePassEntryFields): KeePassOtp | undefined {
  const base32 = entry.field('TimeOtp-Secret-Base32');
  const hex = entry.field('TimeOtp-Secret-Hex');
  const b64 = entry.field('TimeOtp-Secret-Base64');
  let secretText: string;
  if (base32) secretText = base32;
  else if (hex) secretText = encodeSecret(hexBytes(hex));
  else if (b64) {
    let bytes: Uint8Array;
    try {
      bytes = base64Decode(b64.trim());
    } catch {
      return refuse('TimeOtp-Secret-Base64 is not base64.');
    }
    secretText = encodeSecret(bytes);
  } else return undefined;
  return totpOf(secretText, entry.field('TimeOtp-Algorithm'), wholeNumber(entry.field('TimeOtp-Length'), 'TimeOtp-Length', 6), wholeNumber(entry.field('TimeOtp-Period'), 'TimeOtp-Period', DEFAULT_PERIOD));
}

/** A TOTP key held as fields (KeeOtp's settings, KeePass 2.47's TimeOtp-*): normalised and checked. */
function totpOf(secretText: string, algorithm: string | undefined, digits: number, period: number): { params: OtpParams; warning?: string } {
  const { secret, warning } = normaliseSecret(secretText);
  const params = validateOtpParams({ kind: 'totp', secret, algorithm: algorithmOf(algorithm), digits, period, counter: 0 });
  return { params, ...(warning ? { warning: warning.message } : {}) };
}

function keePassOtp(entry: KeePassEntryFields): KeePassOtp | undefined {
  const otp = entry.field('otp')?.trim();
  if (otp) return otpFromOtpField(otp);
  const seed = entry.field('TOTP Seed');
  if (seed?.trim()) return otpFromLegacySeed(seed, entry.field('TOTP Settings'));
  return otpFromTimeOtp(entry);
}

/**
 * Converts one KeePass entry. Throws a CrewvaultError (the OTP engine's, or INVALID_INPUT)
 * when its OTP cannot be read: the caller turns that into a problem and skips the entry, so
 * nobody is left with a credential whose second factor silently went missing.
 */
export function convertKeePassEntry(entry: KeePassEntryFields): KeePassConversion {
  const title = entry.title.trim() || entry.url.trim() || entry.username.trim();
  if (!title) refuse('The entry has no title, user name or URL.');
  const otp = keePassOtp(entry);
  const customer = entry.groups[0]?.trim();
  const converted: ImportedEntry = {
    ...(customer ? { customer } : {}),
    title,
    ...(entry.username ? { username: entry.username } : {}),
    ...(entry.password ? { password: entry.password } : {}),
    ...(entry.url ? { url: entry.url } : {}),
    ...(entry.notes ? { notes: entry.notes } : {}),
    // KeePassXC names the issuer after the entry when it writes a URI (Totp::writeSettings).
    ...(otp ? { otp: { params: otp.params, issuer: otp.issuer ?? title } } : {}),
  };
  return { entry: converted, ...(otp?.warning ? { warning: otp.warning } : {}) };
}

/** "entry 7 'GitHub'": where a problem is, by position and title (a title is no secret). */
export function entryWhere(index: number, title: string): string {
  return title.trim() ? `entry ${index} '${title.trim()}'` : `entry ${index}`;
}

/** Collects converted entries, problems and warnings the same way for every KeePass reader. */
export class KeePassCollector {
  readonly entries: ImportedEntry[] = [];
  readonly where: string[] = [];
  readonly problems: ImportProblem[] = [];
  readonly warnings: string[] = [];
  private count = 0;
  private recycled = 0;

  /** Adds the next entry in file order; `inRecycleBin` ones are counted, not imported. */
  add(fields: KeePassEntryFields, inRecycleBin: boolean): void {
    this.count++;
    const here = entryWhere(this.count, fields.title);
    if (inRecycleBin) {
      this.recycled++;
      return;
    }
    takeConverted(this, here, () => {
      const { entry, warning } = convertKeePassEntry(fields);
      return { entry, warnings: warning ? [warning] : [] };
    });
  }

  result(format: string): { format: string; entries: ImportedEntry[]; problems: ImportProblem[]; warnings: string[]; where: string[] } {
    const warnings = [...this.warnings];
    if (this.recycled > 0) {
      warnings.push(`${this.recycled} ${this.recycled === 1 ? 'entry' : 'entries'} in the Recycle Bin left out.`);
    }
    return { format, entries: this.entries, problems: this.problems, warnings, where: this.where };
  }
}

// ---- the CSV export -------------------------------------------------------------------------

const COLUMNS = ['Group', 'Title', 'Username', 'Password', 'URL', 'Notes', 'TOTP', FORMULA_GUARD_COLUMN] as const;
// KeePassXC 2.3–2.7 write these first, always quoted; the later columns vary by version.
const HEADER_START = /^"?Group"?,"?Title"?,"?Username"?,"?Password"?,"?URL"?,"?Notes"?/;

function read(data: Uint8Array): ReturnType<KeePassCollector['result']> {
  const text = decodeExportText(data, 'a KeePassXC CSV export');
  const table = readCsvTable(text);
  if (!table || !HEADER_START.test(table.header.fields.map((f) => `"${f}"`).join(','))) {
    throw new CrewvaultError('INVALID_INPUT', 'Not a KeePassXC CSV export: its first line must be "Group","Title","Username","Password","URL","Notes",….');
  }
  const at = columnsOf(table.header.fields, COLUMNS);
  const guarded = at[FORMULA_GUARD_COLUMN] !== undefined;
  const collector = new KeePassCollector();
  for (const row of table.rows) {
    // A cell Crewvault's export guarded against spreadsheet formulas comes back as it was
    // (shared/export/keepassxc-csv.ts), in a file marked so; KeePassXC's own exports are not
    // guarded, and their cells are read as written (a password may begin "'=").
    const cell = (name: (typeof COLUMNS)[number]): string => (guarded ? unguardCsvCell(cellOf(row, at, name)) : cellOf(row, at, name));
    // "Root/Acme/Servers": the first name is the root group's (the database's own name).
    const groups = cell('Group').split('/').slice(1);
    const totp = cell('TOTP');
    collector.add(
      {
        groups,
        title: cell('Title'),
        username: cell('Username'),
        password: cell('Password'),
        url: cell('URL'),
        notes: cell('Notes'),
        field: (name) => (name === 'otp' && totp ? totp : undefined),
      },
      groups[0] === KEEPASS_RECYCLE_BIN,
    );
  }
  return collector.result('keepassxc-csv');
}

export const keepassxcCsvImporter: Importer = {
  name: 'keepassxc-csv',
  label: 'KeePassXC (CSV export)',
  detect(data) {
    const head = decodeHead(data);
    return head !== undefined && HEADER_START.test(head.trimStart());
  },
  needsPassword: () => false,
  read(data) {
    return readNow(() => read(data));
  },
};
