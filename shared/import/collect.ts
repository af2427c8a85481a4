/**
 * One loop for the formats that hold a list of entries (Aegis, 2FAS): each item converted on
 * its own, so one that fails is a problem naming where it was and the rest are read; what it
 * warns of is said with where it was. Never lets an error that is not a CrewvaultError pass as
 * a problem: that is a bug, and it is thrown.
 */
import { CrewvaultError } from '../errors';
import { MAX_IMPORT_ENTRIES, type ImportedEntry, type ImportProblem, type ImportResult } from './types';

/**
 * Refuses a file past MAX_IMPORT_ENTRIES entries (or rows, or lines that each hold one): a
 * reader checks as it goes, so a huge file stops before it is all built in memory, and the
 * vault checks what any reader hands it.
 */
export function checkEntryCount(count: number): void {
  if (count > MAX_IMPORT_ENTRIES) {
    const most = MAX_IMPORT_ENTRIES.toLocaleString('en-US');
    throw new CrewvaultError('INVALID_INPUT', `The file holds more than ${most} entries; at most ${most} are imported at once (split it); nothing was imported.`);
  }
}

/**
 * A synchronous reader as an Importer's `read`: what it throws becomes the promise's rejection,
 * as the contract says, never an exception from the call itself (a caller chaining `.then`
 * would otherwise miss it).
 */
export function readNow<T>(read: () => T): Promise<T> {
  return new Promise((resolve) => resolve(read()));
}

/** An item converted: the entry (none when skipped without a problem) and what to warn of. */
export interface ConvertedItem {
  readonly entry?: ImportedEntry;
  readonly warnings: readonly string[];
}

/** What a format's reader accumulates, in the shape of ImportResult. */
export interface Collected {
  readonly entries: ImportedEntry[];
  readonly where: string[];
  readonly problems: ImportProblem[];
  readonly warnings: string[];
}

/**
 * Converts one item into `into`: its entry (and where it was), its warnings named by where it
 * was, or — when conversion throws a CrewvaultError — a problem named by where it was.
 */
export function takeConverted(into: Collected, here: string, convert: () => ConvertedItem): void {
  try {
    const converted = convert();
    if (converted.entry) {
      into.entries.push(converted.entry);
      into.where.push(here);
    }
    for (const w of converted.warnings) into.warnings.push(`${here}: ${w}`);
  } catch (error) {
    if (!(error instanceof CrewvaultError)) throw error;
    into.problems.push({ where: here, message: error.message });
  }
}

export function collectEntries<T>(
  format: string,
  items: readonly T[],
  whereOf: (position: number, item: T) => string,
  convert: (item: T, position: number) => ConvertedItem,
  warnings: string[],
): ImportResult {
  const collected: Collected = { entries: [], where: [], problems: [], warnings };
  items.forEach((item, i) => takeConverted(collected, whereOf(i + 1, item), () => convert(item, i + 1)));
  return { format, ...collected };
}
