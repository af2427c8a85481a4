/**
 * 1Password's exports (issue #12): the 1PUX archive's `export.data` and the CSV of 1Password 8.
 *
 * `export.data` (https://support.1password.com/1pux-format/): a JSON tree
 * `{ accounts: [{ attrs, vaults: [{ attrs: { name, type }, items: [item] }] }] }`; an item is
 * `{ uuid, categoryUuid, state, overview: { title, url, urls, tags }, details: { loginFields:
 * [{ value, designation: "username" | "password" }], notesPlain, password, sections: [{ title,
 * fields: [{ title, value: { totp | concealed | string | … } }] }] } }` (format version 3;
 * version 2 wrapped each item as `{ item: {…} }` and marked deleted ones `trashed`, both read).
 * The one-time password is a section field whose value is `totp`: an otpauth:// URI or a bare
 * key. Logins, passwords, databases, servers, routers, API credentials, e-mail accounts and
 * secure notes become entries; other kinds (cards, identities, documents…) are counted and left
 * out. The customer is the item's first tag's top level ("Acme/Servers" → "Acme"), else its
 * vault's name — except the personal vault (type "P"), which names no customer.
 *
 * CSV (1Password 8, File → Export → CSV): Title,Url,Username,Password,OTPAuth,Favorite,
 * Archived,Tags,Notes; the customer is the first tag's top level.
 *
 * The ZIP around export.data is opened by the main process (electron/import/onepassword.ts);
 * this file reads what is inside, and a CSV. Pure. Must never put a field's value in a problem.
 */
import { CrewvaultError } from '../errors';
import { cellOf, columnsOf, decodeExportText, decodeHead, readCsvTable } from './csv';
import { readNow } from './collect';
import { LoginCollector, topLevel } from './login';
import type { Importer, ImportResult } from './types';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

/** Categories that become entries (1Password's category UUIDs). */
const KEPT_CATEGORIES: ReadonlySet<string> = new Set([
  '001', // Login
  '003', // Secure Note
  '005', // Password
  '102', // Database
  '109', // Wireless Router
  '110', // Server
  '111', // Email Account
  '112', // API Credential
]);

/** What the left-out kinds are called in the warning. */
const LEFT_OUT_NAMES: Readonly<Record<string, string>> = {
  '002': 'credit card',
  '004': 'identity',
  '006': 'document',
  '100': 'software licence',
  '101': 'bank account',
  '103': 'driving licence',
  '104': 'outdoor licence',
  '105': 'membership',
  '106': 'passport',
  '107': 'rewards programme',
  '108': 'social security number',
  '113': 'medical record',
  '114': 'SSH key',
};

/** The one-time password fields of an item's sections, in order. */
function totpFields(details: Json): string[] {
  const found: string[] = [];
  for (const section of list(details.sections)) {
    if (!isObject(section)) continue;
    for (const field of list(section.fields)) {
      if (!isObject(field) || !isObject(field.value)) continue;
      const totp = text(field.value.totp).trim();
      if (totp) found.push(totp);
    }
  }
  return found;
}

function loginField(details: Json, designation: 'username' | 'password'): string {
  const field = list(details.loginFields).find((f): f is Json => isObject(f) && f.designation === designation);
  return text(field?.value);
}

/**
 * A section field by its id, for the kinds that keep the login there rather than in
 * loginFields (Server: "username", "password", "url"; Database: "username", "password").
 */
function sectionField(details: Json, id: string): string {
  for (const section of list(details.sections)) {
    if (!isObject(section)) continue;
    const field = list(section.fields).find((f): f is Json => isObject(f) && f.id === id && isObject(f.value));
    if (field && isObject(field.value)) {
      const value = field.value;
      return text(value.string) || text(value.concealed) || text(value.url) || text(value.email);
    }
  }
  return '';
}

function firstUrl(overview: Json): string {
  const url = text(overview.url).trim();
  if (url) return url;
  const first = list(overview.urls).find((u): u is Json => isObject(u) && text(u.url).trim() !== '');
  return first ? text(first.url).trim() : '';
}

/** Reads `export.data` (the JSON inside a .1pux). */
export function readOnePasswordExportData(data: Uint8Array): ImportResult {
  let doc: unknown;
  try {
    doc = JSON.parse(decodeExportText(data, 'a 1Password export'));
  } catch (error) {
    if (error instanceof CrewvaultError) throw error;
    return invalid('The 1Password export\'s export.data is not valid JSON (damaged or cut short).');
  }
  if (!isObject(doc) || !Array.isArray(doc.accounts)) invalid('Not a 1Password export: its export.data has no "accounts" list.');
  const collector = new LoginCollector('1password');
  let index = 0;
  let trashed = 0;
  let multipleOtps = 0;
  for (const account of doc.accounts) {
    if (!isObject(account)) continue;
    for (const vault of list(account.vaults)) {
      if (!isObject(vault)) continue;
      const attrs = isObject(vault.attrs) ? vault.attrs : {};
      const vaultName = attrs.type === 'P' ? '' : text(attrs.name).trim();
      for (const wrapped of list(vault.items)) {
        index++;
        const item = isObject(wrapped) && isObject(wrapped.item) ? wrapped.item : wrapped;
        if (!isObject(item)) {
          collector.problem(index, '', 'The item is not a JSON object.');
          continue;
        }
        const overview = isObject(item.overview) ? item.overview : {};
        const details = isObject(item.details) ? item.details : {};
        const title = text(overview.title);
        if (item.trashed === true || item.state === 'trashed' || item.state === 'deleted') {
          trashed++;
          continue;
        }
        const category = text(item.categoryUuid);
        if (!KEPT_CATEGORIES.has(category)) {
          collector.leaveOut(LEFT_OUT_NAMES[category] ?? 'item of another kind');
          continue;
        }
        const otps = totpFields(details);
        if (otps.length > 1) multipleOtps++;
        const tag = list(overview.tags).find((t): t is string => typeof t === 'string' && t.trim() !== '');
        const customer = topLevel(tag ?? vaultName);
        collector.add(index, {
          name: title,
          ...(customer ? { customer } : {}),
          notes: text(details.notesPlain),
          username: loginField(details, 'username') || sectionField(details, 'username'),
          password: loginField(details, 'password') || text(details.password) || sectionField(details, 'password'),
          url: firstUrl(overview) || sectionField(details, 'url'),
          totp: otps[0] ?? '',
        });
      }
    }
  }
  if (trashed > 0) collector.warnings.push(`${trashed} deleted ${trashed === 1 ? 'item' : 'items'} left out.`);
  if (multipleOtps > 0) collector.warnings.push(`${multipleOtps} ${multipleOtps === 1 ? 'item has' : 'items have'} more than one one-time password: the first of each was imported.`);
  return collector.result();
}

const CSV_COLUMNS = ['title', 'url', 'username', 'password', 'otpauth', 'tags', 'notes'] as const;
const CSV_HEADER = /^"?Title"?,"?Url"?,"?Username"?,"?Password"?,"?OTPAuth"?/i;

/** Reads 1Password 8's CSV export. */
export function readOnePasswordCsv(data: Uint8Array): ImportResult {
  const table = readCsvTable(decodeExportText(data, 'a 1Password export'));
  if (!table || !CSV_HEADER.test(table.header.fields.map((f) => f.trim()).join(','))) {
    invalid('Not a 1Password CSV export: its first line must be Title,Url,Username,Password,OTPAuth,….');
  }
  const at = columnsOf(table.header.fields, CSV_COLUMNS);
  const collector = new LoginCollector('1password');
  table.rows.forEach((row, i) => {
    const cell = (name: (typeof CSV_COLUMNS)[number]): string => cellOf(row, at, name);
    const customer = topLevel(cell('tags').split(/[,;]/)[0] ?? '');
    collector.add(i + 1, {
      name: cell('title'),
      ...(customer ? { customer } : {}),
      notes: cell('notes'),
      username: cell('username'),
      password: cell('password'),
      url: cell('url').trim(),
      totp: cell('otpauth'),
    });
  });
  return collector.result();
}

function looksLikeExportData(head: string): boolean {
  return /^\s*\{\s*"accounts"\s*:\s*\[/.test(head);
}

/** 1Password's CSV, or the `export.data` of a .1pux taken out of its ZIP. */
export const onePasswordImporter: Importer = {
  name: '1password',
  label: '1Password (.1pux, or its CSV)',
  detect(data) {
    const head = decodeHead(data);
    return head !== undefined && (CSV_HEADER.test(head.trimStart()) || looksLikeExportData(head));
  },
  needsPassword: () => false,
  read(data) {
    const head = decodeHead(data) ?? '';
    return readNow(() => (looksLikeExportData(head) ? readOnePasswordExportData(data) : readOnePasswordCsv(data)));
  },
};
