/**
 * One loop for the formats that hold a list of entries (Aegis, 2FAS): each item converted on
 * its own, so one that fails is a problem naming where it was and the rest are read; what it
 * warns of is said with where it was. Never lets an error that is not a CrewvaultError pass as
 * a problem: that is a bug, and it is thrown.
 */
import { CrewvaultError } from '../errors';
import type { ImportedEntry, ImportProblem, ImportResult } from './types';

/** An item converted: the entry (none when skipped without a problem) and what to warn of. */
export interface ConvertedItem {
  readonly entry?: ImportedEntry;
  readonly warnings: readonly string[];
}

export function collectEntries<T>(
  format: string,
  items: readonly T[],
  whereOf: (position: number, item: T) => string,
  convert: (item: T, position: number) => ConvertedItem,
  warnings: string[],
): ImportResult {
  const entries: ImportedEntry[] = [];
  const where: string[] = [];
  const problems: ImportProblem[] = [];
  items.forEach((item, i) => {
    const here = whereOf(i + 1, item);
    try {
      const converted = convert(item, i + 1);
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
  return { format, entries, problems, warnings, where };
}
