/**
 * Search as you type over every entry the person can see, in the page, on the columnar list
 * (EntryTable), by the one rule of shared/search.ts (terms, word starts, initials, aliases,
 * ranks). Must list exactly what that rule lists, in its order; only the speed is this
 * module's own:
 * - Customers and titles repeat (about 20 entries per customer, a few dozen titles), so each
 *   distinct name is folded once and a term is matched against it once, on first need.
 * - Usernames and URLs are folded once per load. Each is summed up as bit masks of the
 *   letters it holds, of those that begin a word, and of the pairs of adjacent characters
 *   (hashed): a one-letter term is answered from the masks, and a longer one asked of a few
 *   entries skips those lacking one of its letters or pairs.
 * - A longer term asked of many entries starts from an inverted index of those pairs: per
 *   distinct pair, the entries holding it and whether once at a word start. A two-character
 *   term is answered from its pair's list alone; a longer one is looked for only in the
 *   entries that hold its three rarest pairs. So its cost follows how many entries could hold it, not the
 *   100,000 (typing "st", then "sto", over every entry: about 20 and 14 ms in the page with a
 *   string search per entry, well under 2 ms from the lists).
 * - Typing forward narrows an earlier result instead of scanning again, term by term (a term
 *   that is an alias finds entries its prefix did not, so it is looked for afresh), and the
 *   last few results are kept, so Backspace costs nothing.
 * - Ranking is a counting sort over three ranks; exactness is asked only when some customer
 *   or title has the query's words.
 * - prepareSearch, right after the list has painted, runs each search path on a sample and
 *   then builds the index, so the first keystroke pays for neither.
 * Results are positions in the table, best rank first, never copies of the entries.
 */
import type { EntryTable } from '../shared/model';
import {
  MATCH_INSIDE, MATCH_NONE, MATCH_WORD_START, RANK_EXACT, RANK_INSIDE, RANK_WORD_START,
  foldText, isExact, matchName, matchSubstring, parseQuery, searchName, startsWord,
  type SearchName, type SearchQuery, type SearchTerm,
} from '../shared/search';

// Between an entry's username and URL: a control character, which parseQuery removes from
// every term (so no term spans the two fields).
const FIELD_SEPARATOR = '\n';
const A = 'a'.charCodeAt(0);
const Z = 'z'.charCodeAt(0);
/** How many results a Searcher keeps (a typed query and its prefixes, for Backspace). */
const KEPT_RESULTS = 24;
/** How many terms' name matches an index keeps. */
const KEPT_TERMS = 64;
/** The size from which search is warmed up (below it, cold is fast enough), on how many entries, how often. */
const WARM_UP_FROM = 5_000;
const WARM_UP_SAMPLE = 20_000;
const WARM_UP_ROUNDS = 2;
/** How long after the list is shown search is readied: the list paints first. */
const PREPARE_AFTER_MS = 50;

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
  /** Bit k set: the entry's username or URL holds the letter 'a' + k. */
  readonly letters: Int32Array;
  /** Bit k set: a word of the entry's username or URL begins with the letter 'a' + k. */
  readonly initials: Int32Array;
  /** Four words per entry: bit pairBit(a, b) set when the entry's username or URL holds the pair "ab". */
  readonly pairs: Int32Array;
  /** Every customer's and every title's words (SearchName.words), to tell at once whether a query can be exact. */
  readonly customerWords: ReadonlySet<string>;
  readonly titleWords: ReadonlySet<string>;
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
  const pairs = new Int32Array(count * PAIR_WORDS);
  for (let i = 0; i < count; i++) {
    const title = table.title[i] ?? '';
    let t = titleAt.get(title);
    if (t === undefined) {
      t = titleNames.length;
      titleAt.set(title, t);
      titleNames.push(searchName(title));
    }
    titleOf[i] = t;
    const text = foldText(`${table.username[i] ?? ''}${FIELD_SEPARATOR}${table.url[i] ?? ''}`);
    texts[i] = text;
    // letterMask, initialsMask and the pairs in one pass (the build's costliest loop).
    let letterBits = 0;
    let initialBits = 0;
    let inWord = false;
    const w = i * PAIR_WORDS;
    for (let j = 0; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c >= A && c <= Z) {
        letterBits |= 1 << (c - A);
        if (!inWord) initialBits |= 1 << (c - A);
        inWord = true;
      } else {
        inWord = c < 0x80 ? c >= 48 && c <= 57 : !startsWord(text, j + 1);
      }
      if (j > 0) {
        const bit = pairBit(text.charCodeAt(j - 1), c);
        pairs[w + (bit >>> 5)] = (pairs[w + (bit >>> 5)] ?? 0) | (1 << (bit & 31));
      }
    }
    letters[i] = letterBits;
    initials[i] = initialBits;
  }
  const customers = table.customerNames.map(searchName);
  return {
    table,
    customers,
    titles: titleNames,
    titleOf,
    texts,
    letters,
    initials,
    pairs,
    customerWords: new Set(customers.map((c) => c.words)),
    titleWords: new Set(titleNames.map((t) => t.words)),
    termMatches: new Map(),
  };
}

const built = new WeakMap<EntryTable, SearchIndex>();
const builtPairs = new WeakMap<SearchIndex, PairLists>();

/** The table's index, built on first use and kept as long as the table is. */
export function indexOf(table: EntryTable): SearchIndex {
  let index = built.get(table);
  if (!index) {
    index = buildIndex(table);
    built.set(table, index);
  }
  return index;
}

/** The index's pair lists, built on first use (or by prepareSearch, with the index). */
function pairListsOf(index: SearchIndex): PairLists {
  let lists = builtPairs.get(index);
  if (!lists) {
    lists = buildPairLists(index.texts);
    builtPairs.set(index, lists);
  }
  return lists;
}

/**
 * Readies search over `table` soon after the list has painted, in one task (a keystroke that
 * comes first waits for it rather than landing between its halves): first each path of the
 * search on a sample of the table (cold, the first searches over 100,000 entries took five to
 * ten times longer than the same searches once the JIT had compiled them), then the index and its pair lists.
 * Returns a cancel.
 */
export function prepareSearch(table: EntryTable): () => void {
  const timer = setTimeout(() => {
    if (table.id.length >= WARM_UP_FROM) warmUp(table);
    pairListsOf(indexOf(table));
  }, PREPARE_AFTER_MS);
  return () => clearTimeout(timer);
}

/** One letter (the masks), two (narrowed), a second term, an alias (every entry afresh), three letters (the pair lists marked). */
const WARM_UP_QUERIES = ['e', 'er', 'er o', 'ms', 'ser'];

function warmUp(table: EntryTable): void {
  const sample: EntryTable = {
    ...table,
    id: table.id.slice(0, WARM_UP_SAMPLE),
    customer: table.customer.slice(0, WARM_UP_SAMPLE),
    groupId: table.groupId.slice(0, WARM_UP_SAMPLE),
    title: table.title.slice(0, WARM_UP_SAMPLE),
    username: table.username.slice(0, WARM_UP_SAMPLE),
    url: table.url.slice(0, WARM_UP_SAMPLE),
    otp: table.otp.slice(0, WARM_UP_SAMPLE),
    updatedAt: table.updatedAt.slice(0, WARM_UP_SAMPLE),
  };
  // Rounds, each afresh (no kept result, no kept name match), until the loops are compiled.
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    indexOf(sample).termMatches.clear();
    const searcher = new Searcher();
    for (const query of WARM_UP_QUERIES) searcher.search(sample, null, query);
  }
  built.delete(sample);
}

/** The term's matches against the names, filled in as entries ask (see askName). */
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

/** Name i's match for `term` (MATCH_* + 1), worked out and kept in `known`. */
function askName(names: Names, known: Uint8Array, before: Uint8Array | undefined, i: number, term: SearchTerm): number {
  const name = names[i];
  const match = !name || before?.[i] === MATCH_NONE + 1 ? MATCH_NONE : matchName(term, name);
  known[i] = match + 1;
  return match + 1;
}

/**
 * Pairs of adjacent characters, hashed to one of 128 bits (four words): a term of two or more
 * characters can only be in a text that has each of its pairs, so most texts lacking it are
 * skipped without a string search (about 45 pairs in a username and URL leave two thirds of
 * the bits clear).
 */
const PAIR_WORDS = 4;

function pairBit(a: number, b: number): number {
  return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) >>> 25;
}

function addPairs(pairs: Int32Array, at: number, text: string): void {
  for (let j = 1; j < text.length; j++) {
    const bit = pairBit(text.charCodeAt(j - 1), text.charCodeAt(j));
    pairs[at + (bit >>> 5)] = (pairs[at + (bit >>> 5)] ?? 0) | (1 << (bit & 31));
  }
}

/** A one-letter a–z term's bit, or 0. */
function letterBit(term: SearchTerm): number {
  return term.text.length === 1 ? term.firstLetter : 0;
}

/**
 * The inverted index of character pairs: for each distinct pair of adjacent UTF-16 units in
 * the texts, the entries holding it, once each and in table order, as `i * 2 + s` where s is 1
 * when some occurrence of the pair begins a word (startsWord, as matchSubstring asks it).
 * Pair p's entries are `entries[offsets[p]]` up to `entries[offsets[p + 1]]`. About 35
 * distinct pairs per username and URL: some 14 MB for 100,000 entries.
 */
interface PairLists {
  readonly ids: ReadonlyMap<number, number>;
  readonly offsets: Int32Array;
  readonly entries: Int32Array;
}

function pairKey(a: number, b: number): number {
  return a * 0x10000 + b;
}

/** Pairs of ASCII characters (nearly all) are numbered through a table, the rest through a Map. */
const ASCII_PAIRS = 128 * 128;

/**
 * Two passes over the texts: number each position's pair and count each pair's entries, then
 * lay the entries out in one array, reading the numbers back rather than asking the Map again.
 */
function buildPairLists(texts: readonly string[]): PairLists {
  const ids = new Map<number, number>();
  const asciiIds = new Int32Array(ASCII_PAIRS).fill(-1);
  const sizes: number[] = [];
  let total = 0;
  for (const text of texts) total += text.length;
  const idAt = new Int32Array(total);
  /** The last entry counted for each pair, so an entry counts once per pair. */
  const last: number[] = [];
  let position = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] ?? '';
    let before = text.charCodeAt(0);
    position++;
    for (let j = 1; j < text.length; j++, position++) {
      const c = text.charCodeAt(j);
      const ascii = before < 128 && c < 128;
      const key = ascii ? before * 128 + c : pairKey(before, c);
      let id = ascii ? (asciiIds[key] ?? -1) : (ids.get(key) ?? -1);
      if (id < 0) {
        id = sizes.length;
        if (ascii) asciiIds[key] = id;
        else ids.set(key, id);
        sizes.push(0);
        last.push(-1);
      }
      idAt[position] = id;
      if (last[id] !== i) {
        last[id] = i;
        sizes[id] = (sizes[id] ?? 0) + 1;
      }
      before = c;
    }
  }
  const offsets = new Int32Array(sizes.length + 1);
  for (let p = 0; p < sizes.length; p++) offsets[p + 1] = (offsets[p] ?? 0) + (sizes[p] ?? 0);
  const entries = new Int32Array(offsets[sizes.length] ?? 0);
  const next = offsets.slice(0, sizes.length);
  last.fill(-1);
  position = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] ?? '';
    position++;
    for (let j = 1; j < text.length; j++, position++) {
      const id = idAt[position] ?? 0;
      const start = startsWord(text, j - 1) ? 1 : 0;
      if (last[id] === i) {
        // A later occurrence in the same entry: only its word start can add anything.
        const at = (next[id] ?? 0) - 1;
        entries[at] = (entries[at] ?? 0) | start;
      } else {
        last[id] = i;
        const at = next[id] ?? 0;
        entries[at] = i * 2 + start;
        next[id] = at + 1;
      }
    }
  }
  // One Map for lookups by pairKey, the ASCII table's pairs added to the others.
  for (let key = 0; key < ASCII_PAIRS; key++) {
    const id = asciiIds[key] ?? -1;
    if (id >= 0) ids.set(pairKey(key >>> 7, key & 127), id);
  }
  return { ids, offsets, entries };
}

interface PairRange {
  readonly from: number;
  readonly to: number;
}

/** How many of a longer term's rarest pairs narrow its candidates before any string search. */
const PAIRS_INTERSECTED = 3;

/**
 * The entries (as in PairLists) of each distinct pair of the term, fewest first: a term can
 * only be where its every pair is. A pair no text holds: that one empty range alone.
 */
function termPairs(lists: PairLists, term: SearchTerm): PairRange[] {
  const ranges: PairRange[] = [];
  const seen = new Set<number>();
  const { text } = term;
  for (let j = 1; j < text.length; j++) {
    const id = lists.ids.get(pairKey(text.charCodeAt(j - 1), text.charCodeAt(j)));
    if (id === undefined) return [{ from: 0, to: 0 }];
    if (seen.has(id)) continue;
    seen.add(id);
    ranges.push({ from: lists.offsets[id] ?? 0, to: lists.offsets[id + 1] ?? 0 });
  }
  return ranges.sort((a, b) => a.to - a.from - (b.to - b.from));
}

/**
 * For a term of two or more characters: its matches in the usernames and URLs (MATCH_* per
 * entry), from the pair lists. A term of two is its pair, so the list says everything; a longer
 * one is looked for only in the entries that hold its rarest pairs (the rarest, marked against
 * the next two), each with one string search.
 */
function textMatches(index: SearchIndex, entries: Int32Array, term: SearchTerm, pairs: readonly PairRange[]): Uint8Array {
  const { texts } = index;
  const found = new Uint8Array(texts.length);
  const [rarest, ...others] = pairs;
  if (!rarest) return found;
  if (term.text.length === 2) {
    for (let k = rarest.from; k < rarest.to; k++) {
      const e = entries[k] ?? 0;
      found[e >>> 1] = (e & 1) === 1 ? MATCH_WORD_START : MATCH_INSIDE;
    }
    return found;
  }
  // Each pair's list names an entry once, so an entry in all of them is marked once by each.
  const marked = others.slice(0, PAIRS_INTERSECTED - 1);
  const marks = new Uint8Array(marked.length > 0 ? texts.length : 0);
  for (const range of marked) {
    for (let k = range.from; k < range.to; k++) {
      const i = (entries[k] ?? 0) >>> 1;
      marks[i] = (marks[i] ?? 0) + 1;
    }
  }
  for (let k = rarest.from; k < rarest.to; k++) {
    const i = (entries[k] ?? 0) >>> 1;
    if (marked.length === 0 || marks[i] === marked.length) found[i] = matchSubstring(term, texts[i] ?? '');
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
  // One tight loop over up to 100,000 entries: everything it reads is a local.
  const { customers, titles, titleOf, letters, initials, texts } = index;
  const customerOf = index.table.customer;
  const known = nameMatchesOf(index, term);
  const knownCustomers = known.customers;
  const knownTitles = known.titles;
  const parentCustomers = known.parent?.customers;
  const parentTitles = known.parent?.titles;
  const need = term.letters;
  const { pairs } = index;
  const needPairs = new Int32Array(PAIR_WORDS);
  addPairs(needPairs, 0, term.text);
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0] = needPairs;
  const bit = letterBit(term);
  const fromHits = from?.hits;
  const fromFlags = from?.flags;
  const count = fromHits ? fromHits.length : titleOf.length;
  // Fewer entries hold the term's rarest pair than are to be asked: answer the texts from the
  // pair lists (one array read per entry in the loop) rather than a string search per entry.
  const pairLists = term.text.length > 1 ? pairListsOf(index) : null;
  const termRanges = pairLists ? termPairs(pairLists, term) : [];
  const fewest = termRanges[0] ? termRanges[0].to - termRanges[0].from : Number.POSITIVE_INFINITY;
  const scanned = pairLists && fewest < count ? textMatches(index, pairLists.entries, term, termRanges) : null;
  const atStart = MATCH_WORD_START + 1;
  const hits = new Int32Array(count);
  const flags = new Uint8Array(count);
  let n = 0;
  for (let k = 0; k < count; k++) {
    const i = fromHits ? (fromHits[k] ?? 0) : k;
    // Matches as MATCH_* + 1 (0: not asked yet).
    const c = customerOf[i] ?? 0;
    let match = knownCustomers[c] ?? 0;
    if (match === 0) match = askName(customers, knownCustomers, parentCustomers, c, term);
    if (match !== atStart) {
      const t = titleOf[i] ?? 0;
      let inTitle = knownTitles[t] ?? 0;
      if (inTitle === 0) inTitle = askName(titles, knownTitles, parentTitles, t, term);
      if (inTitle > match) match = inTitle;
      if (match !== atStart && ((letters[i] ?? 0) & need) === need) {
        let inText: number;
        if (scanned) inText = scanned[i] ?? 0;
        else if (bit !== 0) inText = ((initials[i] ?? 0) & bit) !== 0 ? MATCH_WORD_START : MATCH_INSIDE;
        else {
          const w = i * PAIR_WORDS;
          const has = ((pairs[w] ?? 0) & p0) === p0 && ((pairs[w + 1] ?? 0) & p1) === p1 && ((pairs[w + 2] ?? 0) & p2) === p2 && ((pairs[w + 3] ?? 0) & p3) === p3;
          inText = has ? matchSubstring(term, texts[i] ?? '') : MATCH_NONE;
        }
        if (inText + 1 > match) match = inText + 1;
      }
    }
    if (match <= MATCH_NONE + 1) continue;
    const prior = fromFlags ? (fromFlags[k] ?? 0) : EARLIER_AT_START;
    const earlier = follows ? (prior === (EARLIER_AT_START | LAST_AT_START) ? EARLIER_AT_START : 0) : prior & EARLIER_AT_START;
    hits[n] = i;
    flags[n] = earlier | (match === atStart ? LAST_AT_START : 0);
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

/** The hits, best rank first and in list order within a rank. */
function rank(index: SearchIndex, query: SearchQuery, found: Found): Int32Array {
  const { hits, flags } = found;
  const { customers, titles, titleOf, table } = index;
  const ranks = new Uint8Array(hits.length);
  const counts = [0, 0, 0];
  if (!mayBeExact(index, query.words)) {
    for (let n = 0; n < hits.length; n++) {
      const r = (flags[n] ?? 0) === (EARLIER_AT_START | LAST_AT_START) ? RANK_WORD_START : RANK_INSIDE;
      ranks[n] = r;
      counts[r] = (counts[r] ?? 0) + 1;
    }
    return placed(hits, ranks, counts);
  }
  // Exactness belongs to a customer, a title or the pair: each distinct name is asked once.
  const customerFit = namesFit(customers, query, (words) => query.words.startsWith(`${words} `));
  const titleFit = namesFit(titles, query, (words) => query.words.endsWith(` ${words}`));
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
  return placed(hits, ranks, counts);
}

/** Whether some customer, title, or customer then title has exactly these words. */
function mayBeExact(index: SearchIndex, words: string): boolean {
  if (words === '') return false;
  if (index.customerWords.has(words) || index.titleWords.has(words)) return true;
  for (let at = words.indexOf(' '); at > 0; at = words.indexOf(' ', at + 1)) {
    if (index.customerWords.has(words.slice(0, at)) && index.titleWords.has(words.slice(at + 1))) return true;
  }
  return false;
}

/** The hits in rank order, list order within a rank: a counting sort. */
function placed(hits: Int32Array, ranks: Uint8Array, counts: readonly number[]): Int32Array {
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
