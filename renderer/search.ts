/**
 * Search as you type over every entry the person can see, in the page, on the columnar list
 * (EntryTable). Each entry's customer, title, username and URL are lower-cased once per load,
 * joined into one string (a new query is a run of native indexOf calls rather than 100,000
 * separate ones) and summed up as a bit mask of the letters it holds: a one-letter query is
 * answered from the masks alone, and a longer one skips every entry lacking one of its
 * letters. Typing forward narrows the last result instead of scanning again. Results are
 * positions in the table (list order), never copies of the entries.
 */
import type { EntryTable } from '../shared/model';

// A separator no query can contain (it is a control character, and queries are typed text).
const SEPARATOR = '\u0001';
const A = 'a'.charCodeAt(0);
const Z = 'z'.charCodeAt(0);

export interface SearchIndex {
  readonly table: EntryTable;
  readonly texts: readonly string[];
  readonly joined: string;
  /** Where each entry's text starts in `joined`, plus one past the end. */
  readonly starts: Int32Array;
  /** Bit k set: the entry's text holds the letter 'a' + k. */
  readonly letters: Int32Array;
}

/** The letters of `text` as a mask; each a–z is one bit, other characters none. */
function letterMask(text: string): number {
  let mask = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= A && c <= Z) mask |= 1 << (c - A);
  }
  return mask;
}

export function buildIndex(table: EntryTable): SearchIndex {
  const count = table.id.length;
  const texts = new Array<string>(count);
  const letters = new Int32Array(count);
  const starts = new Int32Array(count + 1);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const customer = table.customerNames[table.customer[i] ?? -1] ?? '';
    const text = `${customer}\n${table.title[i] ?? ''}\n${table.username[i] ?? ''}\n${table.url[i] ?? ''}`.replaceAll(SEPARATOR, '').toLowerCase();
    texts[i] = text;
    letters[i] = letterMask(text);
    starts[i] = at;
    at += text.length + 1;
  }
  starts[count] = at;
  return { table, texts, joined: texts.join(SEPARATOR), starts, letters };
}

const built = new WeakMap<EntryTable, SearchIndex>();

/** The table's index, built on first use and kept as long as the table is. */
export function indexOf(table: EntryTable): SearchIndex {
  let index = built.get(table);
  if (!index) {
    index = buildIndex(table);
    built.set(table, index);
  }
  return index;
}

interface Last {
  readonly index: SearchIndex;
  readonly customerId: number | null;
  readonly needle: string;
  /** Positions in `index` of the matches. */
  readonly hits: Int32Array;
}

/** Positions of every entry whose text contains `needle`, found in the joined text. */
function scan(index: SearchIndex, needle: string): Int32Array {
  const hits: number[] = [];
  let entry = 0;
  let at = index.joined.indexOf(needle);
  while (at >= 0) {
    while ((index.starts[entry + 1] ?? Number.MAX_SAFE_INTEGER) <= at) entry++;
    hits.push(entry);
    at = index.joined.indexOf(needle, index.starts[entry + 1] ?? index.joined.length);
  }
  return Int32Array.from(hits);
}

/** The positions of `from` (every entry when null) that pass `keep`. */
function filter(count: number, from: Int32Array | null, keep: (i: number) => boolean): Int32Array {
  const out = new Int32Array(from ? from.length : count);
  let n = 0;
  if (from) {
    for (const i of from) if (keep(i)) out[n++] = i;
  } else {
    for (let i = 0; i < count; i++) if (keep(i)) out[n++] = i;
  }
  return out.subarray(0, n);
}

export class Searcher {
  private last: Last | undefined;

  /** Positions in the table of the entries to show, in list order; null means all of them. */
  search(table: EntryTable, customerId: number | null, query: string): Int32Array | null {
    const needle = query.trim().toLowerCase().replaceAll(SEPARATOR, '');
    if (!needle && customerId === null) {
      this.last = undefined;
      return null;
    }
    const index = indexOf(table);
    const { texts, letters } = index;
    const count = table.id.length;
    const mask = letterMask(needle);
    const holds = (i: number): boolean => ((letters[i] ?? 0) & mask) === mask && (texts[i] ?? '').includes(needle);
    const last = this.last;
    let hits: Int32Array;
    if (last && last.index === index && last.customerId === customerId && needle.startsWith(last.needle)) {
      hits = needle === last.needle ? last.hits : filter(count, last.hits, holds);
    } else {
      if (!needle) hits = filter(count, null, () => true);
      // One letter: the masks are the answer.
      else if (needle.length === 1 && mask !== 0) hits = filter(count, null, (i) => ((letters[i] ?? 0) & mask) === mask);
      else hits = scan(index, needle);
      if (customerId !== null) hits = filter(count, hits, (i) => table.customerIds[table.customer[i] ?? -1] === customerId);
    }
    this.last = { index, customerId, needle, hits };
    return hits;
  }
}
