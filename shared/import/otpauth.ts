/**
 * The otpauth list: one `otpauth://` URI per line (Google Authenticator `otpauth-migration://`
 * export lines too, each holding several entries), blank lines and `#` comments skipped. The
 * customer is the issuer (the caller may give one for all); the title is the issuer, else the
 * account; the username is the account. Each bad line is a problem naming its line number.
 * Must never put a line's text (it holds a secret) in a problem.
 */
import { CrewvaultError } from '../errors';
import { utf8Decode } from '../bytes';
import { parseMigrationUri, parseOtpUri, type OtpUri } from '../otp';
import { checkEntryCount } from './collect';
import type { ImportedEntry, Importer, ImportProblem, ImportResult } from './types';

/** A line this long is no otpauth URI (a whole Google export QR code holds under 3 KB). */
export const MAX_LINE_CHARACTERS = 65_536;

function entryOf(uri: Pick<OtpUri, 'params' | 'issuer' | 'account'>): ImportedEntry {
  return {
    ...(uri.issuer ? { customer: uri.issuer } : {}),
    title: uri.issuer ?? uri.account,
    username: uri.account,
    otp: { params: uri.params, ...(uri.issuer ? { issuer: uri.issuer } : {}) },
  };
}

/** Reads the list from text already decoded. */
export function readOtpauthList(text: string): ImportResult {
  const entries: ImportedEntry[] = [];
  const where: string[] = [];
  const problems: ImportProblem[] = [];
  // A Google export too big for one QR code is split into pages ("batch 2 of 3"): each batch's
  // pages are collected, so a page missing from the file is named rather than silently absent,
  // and a page given twice is read once (ente issue: 2 of 12 entries imported). The page
  // count and number are bounded by parseMigrationUri before they size anything here.
  const batches = new Map<number, { size: number; seen: Set<number> }>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const here = `Line ${i + 1}`;
    if (raw.length > MAX_LINE_CHARACTERS) {
      problems.push({ where: here, message: `the line is longer than ${MAX_LINE_CHARACTERS} characters (not an otpauth URI).` });
      continue;
    }
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      if (/^otpauth-migration:/i.test(trimmed)) {
        const batch = parseMigrationUri(trimmed);
        const pages = batches.get(batch.batchId) ?? { size: batch.batchSize, seen: new Set<number>() };
        batches.set(batch.batchId, pages);
        if (batch.batchSize !== pages.size) {
          problems.push({ where: here, message: `this Google export page says the export has ${batch.batchSize} pages, an earlier one ${pages.size}: skipped.` });
          continue;
        }
        if (batch.batchSize > 1 && pages.seen.has(batch.batchIndex)) {
          problems.push({ where: here, message: `page ${batch.batchIndex + 1} of ${batch.batchSize} of this Google export was already read: skipped.` });
          continue;
        }
        pages.seen.add(batch.batchIndex);
        for (const p of batch.problems) problems.push({ where: here, message: p.message });
        for (const entry of batch.entries) {
          entries.push(entryOf(entry));
          where.push(here);
        }
      } else {
        entries.push(entryOf(parseOtpUri(trimmed)));
        where.push(here);
      }
    } catch (error) {
      if (!(error instanceof CrewvaultError)) throw error;
      problems.push({ where: here, message: error.message });
    }
    // A Google export line holds many entries: counted line by line as read, not once the
    // list is built (a bad line counts as one). The pages found missing below are not entries.
    checkEntryCount(entries.length + problems.length);
  }
  for (const { size, seen } of batches.values()) {
    const missing = Array.from({ length: size }, (_, i) => i).filter((i) => !seen.has(i));
    if (missing.length > 0 && size > 1) {
      problems.push({ where: 'Google export', message: `page${missing.length === 1 ? '' : 's'} ${missing.map((i) => i + 1).join(', ')} of ${size} ${missing.length === 1 ? 'is' : 'are'} missing: export or scan ${missing.length === 1 ? 'it' : 'them'} too.` });
    }
  }
  return { format: 'otpauth', entries, problems, warnings: [], where };
}

function text(data: Uint8Array): string | undefined {
  try {
    return utf8Decode(data);
  } catch {
    return undefined;
  }
}

export const otpauthImporter: Importer = {
  name: 'otpauth',
  label: 'otpauth:// list (one URI per line; Google Authenticator export lines too)',
  detect(data) {
    // The first line that is not blank or a comment starts with a URI scheme of ours.
    const head = text(data.subarray(0, 4096))?.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
    return head !== undefined && /^otpauth(-migration)?:\/\//i.test(head);
  },
  needsPassword: () => false,
  read(data) {
    const decoded = text(data);
    if (decoded === undefined) return Promise.reject(new CrewvaultError('INVALID_INPUT', 'The file is not UTF-8 text, so not an otpauth list.'));
    return Promise.resolve(readOtpauthList(decoded));
  },
};
