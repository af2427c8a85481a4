/**
 * Search as you type over every entry the person can see, in the page, on the columnar list
 * (EntryTable), by the one rule of shared/search.ts (terms, word starts, initials, aliases,
 * ranks). Must list exactly what that rule lists, in its order; only the speed is this
 * module's own:
 * - Customers and titles repeat (about 20 entries per customer, a few dozen titles), so each
 *   distinct name is folded once and a term is matched against it once, on first need.
 * - Usernames and URLs are folded once per load and joined into one string: a term new to
 *   every entry is a run of native indexOf calls rather than 100,000 separate ones. Each is
 *   summed up as bit masks of the letters it holds and of those that begin a word, so a
 *   one-letter term is answered from the masks, and a longer one skips entries lacking one
 *   of its letters.
 * - Typing forward narrows an earlier result instead of scanning again, term by term (a term
 *   that is an alias finds entries its prefix did not, so it is looked for afresh), and the
 *   last few results are kept, so Backspace costs nothing.
 * Results are positions in the table, best rank first, never copies of the entries.
 */
import type { EntryTable } from '../shared/model';
import {
  MATCH_INSIDE, MATCH_NONE, MATCH_WORD_START, RANK_EXACT, RANK_INSIDE, RANK_WORD_START,
  foldText, initialsMask, isExact, letterMask, matchName, matchSubstring, parseQuery, searchName,
  type SearchName, type SearchQuery, type SearchTerm, type TermMatch,
} from '../shared/search';

// Between entries in the joined text, and between an entry's username and URL: control
// characters, which parseQuery removes from every term.
const ENTRY_SEPARATOR = '\u0001';
const FIELD_SEPARATOR = '\n';
/** How many results a Searcher keeps (a typed query and its prefixes, for Backspace). */
const KEPT_RESULTS = 24;
/** How many terms' name matches an index keeps. */
const KEPT_TERMS = 64;

/** Distinct customer or title names, made ready for matching. */
type Names = readonly SearchName[];

/** How one term matched each distinct name (MATCH_* + 1; 0: not yet asked). */
interface NameMatches {
  readonly customers: Uint8Array;
  readonly titles: Uint8Array;
  /** The same for the longest shorter term asked before (none for an alias). */
  readonly parent: NameMatches | null;
}

export interface SearchIndex {
  readonly table: EntryTable;
  /** Indexed as table.customer's values. */
  readonly customers: Names;
  readonly titles: Names;
  /** Entry i's title in `titles`. */
  readonly titleOf: Int32Array;
  /** Entry i's username and URL, folded. */
  readonly texts: readonly string[];
  /** The texts joined, each from starts[i]. */
  readonly joined: string;
  /** Where each entry's text starts in `joined`, plus one past the end. */
  readonly starts: Int32Array;
  /** Bit k set: the entry's username or URL holds the letter 'a' + k. */
  readonly letters: Int32Array;
  /** Bit k set: a word of the entry's username or URL begins with the letter 'a' + k. */
  readonly initials: Int32Array;
  readonly termMatches: Map<string, NameMatches>;
}

export function buildIndex(table: EntryTable): SearchIndex {
  const count = table.id.length;
  const titleAt = new Map<string, number>();
  const titleNames: SearchName[] = [];
  const titleOf = new Int32Array(count);
  const texts = new Array<string>(count);
  const letters = new Int32Array(count);
  const initials = new Int32Array(count);
  const starts = new Int32Array(count + 1);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const title = table.title[i] ?? '';
    let t = titleAt.get(title);
    if (t === undefined) {
      t = titleNames.length;
      titleAt.set(title, t);
      titleNames.push(searchName(title));
    }
    titleOf[i] = t;
    const text = foldText(`${table.username[i] ?? ''}${FIELD_SEPARATOR}${table.url[i] ?? ''}`.replaceAll(ENTRY_SEPARATOR, ''));
    texts[i] = text;
    letters[i] = letterMask(text);
    initials[i] = initialsMask(text);
    starts[i] = at;
    at += text.length + 1;
  }
  starts[count] = at;
  return {
    table,
    customers: table.customerNames.map(searchName),
    titles: titleNames,
    titleOf,
    texts,
    joined: texts.join(ENTRY_SEPARATOR),
    starts,
    letters,
    initials,
    termMatches: new Map(),
  };
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

/** The term's matches against the names, filled in as entries ask (see nameMatch). */
function nameMatchesOf(index: SearchIndex, term: SearchTerm): NameMatches {
  let found = index.termMatches.get(term.text);
  if (!found) {
    // A longer term finds no name its prefix missed, unless it is an alias.
    let parent: NameMatches | null = null;
    for (let length = term.text.length - 1; length > 0 && !parent && !term.aliases; length--) parent = index.termMatches.get(term.text.slice(0, length)) ?? null;
    if (index.termMatches.size >= KEPT_TERMS) index.termMatches.clear();
    found = { customers: new Uint8Array(index.customers.length), titles: new Uint8Array(index.titles.length), parent };
    index.termMatches.set(term.text, found);
  }
  return found;
}

function nameMatch(names: Names, known: Uint8Array, before: Uint8Array | undefined, i: number, term: SearchTerm): TermMatch {
  const seen = known[i] ?? 0;
  if (seen !== 0) return (seen - 1) as TermMatch;
  const name = names[i];
  const match = !name || before?.[i] === MATCH_NONE + 1 ? MATCH_NONE : matchName(term, name);
  known[i] = match + 1;
  return match;
}

/** A one-letter a–z term's bit, or 0. */
function letterBit(term: SearchTerm): number {
  return term.text.length === 1 ? term.firstLetter : 0;
}

/** How `term` meets entry i's username and URL. */
function textMatch(index: SearchIndex, i: number, term: SearchTerm, bit: number): TermMatch {
  if (((index.letters[i] ?? 0) & term.letters) !== term.letters) return MATCH_NONE;
  if (bit !== 0) return ((index.initials[i] ?? 0) & bit) !== 0 ? MATCH_WORD_START : MATCH_INSIDE;
  return matchSubstring(term, index.texts[i] ?? '');
}

/**
 * For a term of two or more characters asked of many entries: its matches in the usernames
 * and URLs, found by indexOf over the joined text (MATCH_* per entry).
 */
function scanTexts(index: SearchIndex, term: SearchTerm): Uint8Array {
  const { joined, starts } = index;
  const found = new Uint8Array(starts.length - 1);
  let entry = 0;
  let at = joined.indexOf(term.text);
  while (at >= 0) {
    while ((starts[entry + 1] ?? Number.MAX_SAFE_INTEGER) <= at) entry++;
    const end = (starts[entry + 1] ?? joined.length + 1) - 1;
    found[entry] = matchSubstring(term, joined, at, end);
    at = joined.indexOf(term.text, end + 1);
  }
  return found;
}

/**
 * Per hit, how the terms met it: bit 0, every term before the last at a word start; bit 1,
 * the last term at a word start. Both set: the word-start rank.
 */
const EARLIER_AT_START = 1;
const LAST_AT_START = 2;

interface Narrowed {
  readonly hits: Int32Array;
  readonly flags: Uint8Array;
}

/**
 * The positions of `from` (every entry when null) that `term` matches, with their flags:
 * `term` either follows the terms `from` was found by (`follows`) or takes the place of their
 * last one, which it extends.
 */
function narrow(index: SearchIndex, from: Narrowed | null, term: SearchTerm, follows: boolean): Narrowed {
  const { customers, titles, titleOf, table } = index;
  const known = nameMatchesOf(index, term);
  const bit = letterBit(term);
  const total = table.id.length;
  const count = from ? from.hits.length : total;
  // Many entries to ask: one run of indexOf over the joined text beats one call per entry.
  const texts = term.text.length > 1 && from === null ? scanTexts(index, term) : null;
  const hits = new Int32Array(count);
  const flags = new Uint8Array(count);
  let n = 0;
  for (let k = 0; k < count; k++) {
    const i = from ? (from.hits[k] ?? 0) : k;
    let match = nameMatch(customers, known.customers, known.parent?.customers, table.customer[i] ?? 0, term);
    if (match !== MATCH_WORD_START) {
      const inTitle = nameMatch(titles, known.titles, known.parent?.titles, titleOf[i] ?? 0, term);
      if (inTitle > match) match = inTitle;
    }
    if (match !== MATCH_WORD_START) {
      const inText = texts ? ((texts[i] ?? 0) as TermMatch) : textMatch(index, i, term, bit);
      if (inText > match) match = inText;
    }
    if (match === MATCH_NONE) continue;
    const prior = from ? (from.flags[k] ?? 0) : EARLIER_AT_START;
    const earlier = follows ? (prior & EARLIER_AT_START && prior & LAST_AT_START ? EARLIER_AT_START : 0) : prior & EARLIER_AT_START;
    hits[n] = i;
    flags[n] = earlier | (match === MATCH_WORD_START ? LAST_AT_START : 0);
    n++;
  }
  return { hits: hits.subarray(0, n), flags: flags.subarray(0, n) };
}

/** One search's result, before ranking. */
interface Found extends Narrowed {
  readonly customerId: number | null;
  readonly terms: readonly string[];
}

/**
 * Whether a search for `terms` can narrow what `earlier` found, and if so from which term on
 * it must look (-1: it cannot). Each earlier term must be kept, or its last one extended.
 */
function narrowsFrom(earlier: Found, customerId: number | null, terms: readonly SearchTerm[]): number {
  const old = earlier.terms;
  if (earlier.customerId !== customerId || terms.length < old.length) return -1;
  if (old.length === 0) return 0;
  const last = old.length - 1;
  for (let j = 0; j < last; j++) if (terms[j]?.text !== old[j]) return -1;
  const term = terms[last];
  const before = old[last] ?? '';
  if (!term || !term.text.startsWith(before)) return -1;
  if (term.text === before) return old.length;
  // Longer, the term finds fewer by (a) and (b); but an alias finds names its prefix did not.
  return term.aliases ? -1 : last;
}

export class Searcher {
  private kept: Found[] = [];
  private index: SearchIndex | undefined;
  /** Each kept result ranked, once asked (the list and ArrowDown ask for the same query). */
  private readonly ranked = new WeakMap<Found, Int32Array>();

  /** Positions in the table of the entries to show, best first; null means all of them, in list order. */
  search(table: EntryTable, customerId: number | null, query: string): Int32Array | null {
    const parsed = parseQuery(query);
    if (parsed.terms.length === 0 && customerId === null) return null;
    const index = indexOf(table);
    if (index !== this.index) {
      this.index = index;
      this.kept = [];
    }
    const found = this.find(index, customerId, parsed.terms);
    if (parsed.terms.length === 0) return found.hits;
    let ranked = this.ranked.get(found);
    if (!ranked) {
      ranked = rank(index, parsed, found);
      this.ranked.set(found, ranked);
    }
    return ranked;
  }

  private find(index: SearchIndex, customerId: number | null, terms: readonly SearchTerm[]): Found {
    const texts = terms.map((t) => t.text);
    // The kept result with the fewest hits that this one narrows, and the terms still to ask.
    let base: Found | undefined;
    let from = 0;
    for (const earlier of this.kept) {
      const start = narrowsFrom(earlier, customerId, terms);
      if (start >= 0 && (!base || earlier.hits.length < base.hits.length || (earlier.hits.length === base.hits.length && start > from))) {
        base = earlier;
        from = start;
      }
    }
    if (base && from === terms.length && base.terms.length === terms.length) return base;

    let narrowed: Narrowed | null = base ?? (customerId === null ? null : customerEntries(index, customerId));
    for (let j = from; j < terms.length; j++) {
      const term = terms[j];
      if (!term) continue;
      // The first term asked after a kept result follows its terms if it kept all of them.
      const follows = j > from || (base !== undefined && from === base.terms.length && from > 0);
      narrowed = narrow(index, narrowed, term, follows);
    }
    const result: Found = { customerId, terms: texts, ...(narrowed ?? { hits: new Int32Array(0), flags: new Uint8Array(0) }) };
    this.kept = [result, ...this.kept.filter((k) => k.customerId === customerId && k.terms.join('\u0001') !== texts.join('\u0001'))].slice(0, KEPT_RESULTS);
    return result;
  }
}

function customerEntries(index: SearchIndex, customerId: number): Narrowed {
  const { table } = index;
  const at = table.customerIds.indexOf(customerId);
  const out: number[] = [];
  for (let i = 0; i < table.id.length; i++) if (table.customer[i] === at) out.push(i);
  return { hits: Int32Array.from(out), flags: new Uint8Array(out.length).fill(EARLIER_AT_START) };
}

/** The hits, best rank first and in list order within a rank (a counting sort: one pass each way). */
function rank(index: SearchIndex, query: SearchQuery, found: Found): Int32Array {
  const { hits, flags } = found;
  const { customers, titles, titleOf, table } = index;
  // Exactness belongs to a customer, a title or the pair: each distinct name is asked once.
  const customerFit = namesFit(customers, query, (words) => query.words.startsWith(`${words} `));
  const titleFit = namesFit(titles, query, (words) => query.words.endsWith(` ${words}`));
  const ranks = new Uint8Array(hits.length);
  const counts = [0, 0, 0];
  for (let n = 0; n < hits.length; n++) {
    const i = hits[n] ?? 0;
    const c = table.customer[i] ?? 0;
    const t = titleOf[i] ?? 0;
    const cf = customerFit(c);
    const tf = titleFit(t);
    let r: number = (flags[n] ?? 0) === (EARLIER_AT_START | LAST_AT_START) ? RANK_WORD_START : RANK_INSIDE;
    if ((cf | tf) & WHOLE || ((cf & tf & PART) !== 0 && isExact(query, customers[c]?.words ?? '', titles[t]?.words ?? ''))) r = RANK_EXACT;
    ranks[n] = r;
    counts[r] = (counts[r] ?? 0) + 1;
  }
  const next = [0, counts[0] ?? 0, (counts[0] ?? 0) + (counts[1] ?? 0)];
  const out = new Int32Array(hits.length);
  for (let n = 0; n < hits.length; n++) {
    const r = ranks[n] ?? 0;
    out[next[r] ?? 0] = hits[n] ?? 0;
    next[r] = (next[r] ?? 0) + 1;
  }
  return out;
}

/** The query's words are the name's. */
const WHOLE = 1;
/** The query's words start (customer) or end (title) with the name's. */
const PART = 2;

/** Per distinct name, on first ask: WHOLE and PART (`part` says which). */
function namesFit(names: Names, query: SearchQuery, part: (words: string) => boolean): (i: number) => number {
  const fit = new Int8Array(names.length).fill(-1);
  return (i) => {
    let f = fit[i] ?? 0;
    if (f < 0) {
      const words = names[i]?.words ?? '';
      f = words === '' ? 0 : (words === query.words ? WHOLE : 0) | (part(words) ? PART : 0);
      fit[i] = f;
    }
    return f;
  };
}
