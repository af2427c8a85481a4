/**
 * Search as you type over every entry the person can see, in the page: each entry's customer,
 * title, username and URL lower-cased once per load. Typing forward narrows the last result
 * instead of scanning everything again, which keeps a keystroke well under a frame at 100,000.
 */
import type { EntrySummary } from '../shared/model';

export interface SearchIndex {
  readonly entries: readonly EntrySummary[];
  readonly texts: readonly string[];
}

export function buildIndex(entries: readonly EntrySummary[]): SearchIndex {
  return { entries, texts: entries.map((e) => `${e.customer}\n${e.title}\n${e.username}\n${e.url}`.toLowerCase()) };
}

interface Last {
  readonly index: SearchIndex;
  readonly customerId: number | null;
  readonly needle: string;
  /** Positions in `index` of the matches. */
  readonly hits: readonly number[];
}

export class Searcher {
  private last: Last | undefined;

  search(index: SearchIndex, customerId: number | null, query: string): EntrySummary[] {
    const needle = query.trim().toLowerCase();
    const narrowing = this.last && this.last.index === index && this.last.customerId === customerId && needle.startsWith(this.last.needle);
    const candidates: Iterable<number> = narrowing && this.last ? this.last.hits : index.entries.keys();
    const hits: number[] = [];
    for (const i of candidates) {
      const entry = index.entries[i];
      if (!entry || (customerId !== null && entry.customerId !== customerId)) continue;
      if (needle && !(index.texts[i] ?? '').includes(needle)) continue;
      hits.push(i);
    }
    this.last = { index, customerId, needle, hits };
    return hits.map((i) => index.entries[i]).filter((e): e is EntrySummary => e !== undefined);
  }
}
