/**
 * Ente Auth's plain-text export: otpauth URIs, one per line (Ente's importer also accepts them
 * separated by commas, and its export writes any comma inside a URI as %2C, so a comma only
 * ever separates two codes). Read as Ente writes and reads them (ente-io/ente,
 * mobile/apps/auth/lib: models/code.dart, models/code_display.dart,
 * ui/settings/data/export_widget.dart):
 *
 *   otpauth://totp|hotp|steam/Issuer:account?secret=…&issuer=…&algorithm=…&digits=…&period=…
 *     &counter=…&codeDisplay={"tags":[…],"note":"…","trashed":false,…}
 *
 * Each URI goes through the OTP engine's parser. Only what Ente does differently is adapted
 * first, as Ente itself does: type "steam" (the engine's form is totp with encoder=steam), an
 * unencoded "#" in a name, and the old "algorithm=Algorithm.sha1" spelling. The first tag
 * becomes the customer and the note the notes; codes in Ente's trash are left out and counted
 * in one warning (as KeePass's Recycle Bin is): deleted on purpose, they are not problems that
 * stop an import.
 *
 * Ente's encrypted export (JSON, Argon2 + XChaCha20) is recognised and refused with how to
 * export plain text instead. Must never put a URI's text (it holds the secret) in a problem.
 */
import { CrewvaultError } from '../errors';
import { parseOtpUri } from '../otp';
import { decodeExportText, decodeHead } from './csv';
import { MAX_IMPORT_ENTRIES, type ImportedEntry, type Importer, type ImportProblem, type ImportResult } from './types';

const WHAT = 'an Ente Auth export';
/** Far above any code's URI (a long secret, a long note): beyond it, the item is not a URI. */
const MAX_ITEM_CHARACTERS = 65_536;

function isEncryptedExport(text: string): boolean {
  if (!text.trimStart().startsWith('{')) return false;
  try {
    const document = JSON.parse(text) as unknown;
    return typeof document === 'object' && document !== null && 'encryptedData' in document && 'kdfParams' in document;
  } catch {
    return false;
  }
}

/** Text from the file, shortened to one line without control or format characters. */
function clean(text: string, max = 40): string {
  const kept = Array.from(text.replace(/[\p{Cc}\p{Cf}]/gu, ''));
  return kept.length > max ? kept.slice(0, max).join('') + '…' : kept.join('');
}

/** Rewrites what Ente writes differently from the otpauth format the engine reads. */
function adaptEnteUri(item: string): string {
  let uri = item
    // Ente's code.dart: a name with "#" is written unencoded; Ente retries with %23, and a
    // fragment has no meaning in an otpauth URI.
    .replace(/#/g, '%23')
    // Exports from before Ente's fix wrote the enum's name (export_widget.dart strips it too).
    .replace(/([?&]algorithm=)Algorithm\./i, '$1');
  const steam = /^otpauth:\/\/steam\//i.exec(uri);
  if (steam) uri = `otpauth://totp/${uri.slice(steam[0].length)}${uri.includes('?') ? '&' : '?'}encoder=steam`;
  return uri;
}

interface CodeDisplay {
  readonly tags: string[];
  readonly note: string;
  readonly trashed: boolean;
}

/** Ente's `codeDisplay` parameter (already percent-decoded by the URI parser), else undefined. */
function readCodeDisplay(value: string): CodeDisplay | undefined {
  let display: unknown;
  try {
    display = JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
  if (typeof display !== 'object' || display === null) return undefined;
  const { tags, note, trashed } = display as Record<string, unknown>;
  return {
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string').map((t) => t.trim()).filter((t) => t !== '') : [],
    note: typeof note === 'string' ? note.trim() : '',
    trashed: trashed === true,
  };
}

interface Converted {
  readonly entry?: ImportedEntry;
  readonly skipped?: string;
  readonly name: string;
  readonly warnings: string[];
}

function convertItem(item: string, index: number): Converted {
  const uri = parseOtpUri(adaptEnteUri(item));
  const issuer = uri.issuer?.trim() ?? '';
  const account = uri.account.trim();
  const title = issuer || account || `Ente entry ${index}`;
  const warnings: string[] = [];
  const displayText = uri.extra.find(([name]) => name === 'codeDisplay')?.[1];
  const display = displayText === undefined ? undefined : readCodeDisplay(displayText);
  if (displayText !== undefined && display === undefined) warnings.push('its tags and note could not be read; imported without them.');
  if (display?.trashed) return { skipped: "it is in Ente Auth's trash.", name: title, warnings: [] };
  const customer = display?.tags[0];
  if (display && display.tags.length > 1) warnings.push(`has ${display.tags.length} tags; imported under the first, "${clean(customer ?? '')}".`);
  if (uri.warning) warnings.push(uri.warning.message);
  return {
    entry: {
      ...(customer ? { customer } : {}),
      title,
      ...(issuer && account ? { username: account } : {}),
      ...(display?.note ? { notes: display.note } : {}),
      otp: { params: uri.params, ...(issuer ? { issuer } : {}) },
    },
    name: title,
    warnings,
  };
}

function readEnteText(text: string): ImportResult {
  if (isEncryptedExport(text)) {
    throw new CrewvaultError('INVALID_INPUT', "This is Ente Auth's encrypted export, which Crewvault cannot open: export again from Ente Auth as plain text.");
  }
  const entries: ImportedEntry[] = [];
  const where: string[] = [];
  const problems: ImportProblem[] = [];
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/);
  let index = 0;
  let trashed = 0;
  lines.forEach((line, l) => {
    const items = line.split(',').map((i) => i.trim());
    items.forEach((item, k) => {
      if (item === '') return;
      index++;
      if (index > MAX_IMPORT_ENTRIES) invalid(`The file holds more than ${MAX_IMPORT_ENTRIES} codes; at most ${MAX_IMPORT_ENTRIES} are read at once.`);
      let here = items.length > 1 ? `line ${l + 1}, code ${k + 1}` : `line ${l + 1}`;
      if (item.length > MAX_ITEM_CHARACTERS) {
        problems.push({ where: here, message: `it is longer than ${MAX_ITEM_CHARACTERS} characters, so not an otpauth URI.` });
        return;
      }
      try {
        const converted = convertItem(item, index);
        here += ` '${clean(converted.name)}'`;
        if (converted.skipped !== undefined) {
          trashed++;
          return;
        }
        if (converted.entry) {
          entries.push(converted.entry);
          where.push(here);
        }
        for (const w of converted.warnings) warnings.push(`${here}: ${w}`);
      } catch (error) {
        if (!(error instanceof CrewvaultError)) throw error;
        problems.push({ where: here, message: error.message });
      }
    });
  });
  if (index === 0) invalid(`The file holds no otpauth URIs, so it is not ${WHAT}.`);
  if (trashed > 0) warnings.push(`${trashed} ${trashed === 1 ? 'code' : 'codes'} in Ente Auth's trash left out.`);
  return { format: 'ente', entries, problems, warnings, where };
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

export const enteImporter: Importer = {
  name: 'ente',
  label: 'Ente Auth (plain-text export)',
  detect(data) {
    const head = decodeHead(data)?.trimStart() ?? '';
    // Ente's export is otpauth URIs carrying Ente's own codeDisplay parameter; a bare URI list
    // without it is the generic otpauth list's to read. Its encrypted export is JSON.
    if (/^otpauth:\/\//i.test(head)) return /[?&]codeDisplay=/.test(head);
    return head.startsWith('{') && head.includes('"encryptedData"') && head.includes('"kdfParams"');
  },
  needsPassword: () => false,
  // The executor's throw (INVALID_INPUT) becomes the rejection.
  read: (data) => new Promise((resolve) => resolve(readEnteText(decodeExportText(data, WHAT)))),
};
