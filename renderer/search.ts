/**
 * Search as you type over every entry the person can see, in the page. Each entry's customer,
 * title, username and URL are lower-cased once per load and joined into one string, so a new
 * query is a run of native indexOf calls rather than 100,000 separate ones; typing forward
 * narrows the last result instead of scanning again.
 */
import type { EntrySummary } from '../shared/model';

// A separator no query can contain (it is a control character, and queries are typed text).
const SEPARATOR = '\u0001';

export interface SearchIndex {
  readonly entries: readonly EntrySummary[];
  readonly texts: readonly string[];
  readonly joined: string;
  /** Where each entry's text starts in `joined`, plus one past the end. */
  readonly starts: Int32Array;
}

export function buildIndex(entries: readonly EntrySummary[]): SearchIndex {
  const texts = entries.map((e) => `${e.customer}\n${e.title}\n${e.username}\n${e.url}`.replaceAll(SEPARATOR, '').toLowerCase());
  const starts = new Int32Array(texts.length + 1);
  let at = 0;
  texts.forEach((text, i) => {
    starts[i] = at;
    at += text.length + 1;
  });
  starts[texts.length] = at;
  return { entries, texts, joined: texts.join(SEPARATOR), starts };
}

interface Last {
  readonly index: SearchIndex;
  readonly customerId: number | null;
  readonly needle: string;
  /** Positions in `index` of the matches. */
  readonly hits: readonly number[];
}

/** Positions of every entry whose text contains `needle`, found in the joined text. */
function scan(index: SearchIndex, needle: string): number[] {
  const hits: number[] = [];
  let entry = 0;
  let at = index.joined.indexOf(needle);
  while (at >= 0) {
    while ((index.starts[entry + 1] ?? Number.MAX_SAFE_INTEGER) <= at) entry++;
    hits.push(entry);
    at = index.joined.indexOf(needle, index.starts[entry + 1] ?? index.joined.length);
  }
  return hits;
}

export class Searcher {
  private last: Last | undefined;

  search(index: SearchIndex, customerId: number | null, query: string): readonly EntrySummary[] {
    const needle = query.trim().toLowerCase().replaceAll(SEPARATOR, '');
    if (!needle && customerId === null) {
      this.last = undefined;
      return index.entries;
    }
    const last = this.last;
    let hits: number[];
    if (last && last.index === index && last.customerId === customerId && needle.startsWith(last.needle)) {
      hits = last.hits.filter((i) => (index.texts[i] ?? '').includes(needle));
    } else {
      hits = needle ? scan(index, needle) : [...index.entries.keys()];
      if (customerId !== null) hits = hits.filter((i) => index.entries[i]?.customerId === customerId);
    }
    this.last = { index, customerId, needle, hits };
    return hits.map((i) => index.entries[i]).filter((e): e is EntrySummary => e !== undefined);
  }
}
