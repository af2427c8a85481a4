/**
 * The one search rule, for the page (renderer/search.ts, which runs it over a columnar index
 * at typing speed) and the vault (electron/vault/listing.ts, behind `crewvault list
 * --search`). Pure: no DOM, no Node. It never sees a password, a note or an OTP secret: only
 * an entry's customer, title, username and URL.
 *
 * The rule, exactly:
 * - Text is folded before comparing, query and fields alike: NFKC, lower case, then what
 *   Unicode's full case folding does beyond lower case for the letters people type ("ß" and
 *   "ẞ" → "ss", final "ς" → "σ", the dot of "İ" dropped). Accents stay: "u" is not "ü".
 * - The query is cut at whitespace into terms. An entry matches when EVERY term matches at
 *   least one of its four fields (terms may match different fields). No term: everything.
 * - A word is a run of letters, digits and combining marks; anything else separates words.
 * - A term matches a field when
 *   (a) it is a substring of the field (any field); or
 *   (b) customer and title only, for a term of letters and digits only: it spells the
 *       starts of consecutive words, i.e. it can be cut into pieces where the first begins a
 *       word and each next piece begins the very next word: "m365" → "Microsoft 365 admin",
 *       "dc" → "Domain controller", "acmecorp" → "Acme Corp". (A term with punctuation
 *       matches it literally, by (a): so a longer term never finds what its prefix missed,
 *       which is what lets the page narrow as you type.); or
 *   (c) customer and title only: it is one of the names in ALIASES and the field holds a
 *       name of the same group as whole words, whatever separates them ("o365" → "Microsoft
 *       365", "ms" → "Microsoft"). An alias applies to a term as typed, not to its prefixes;
 *       a run of terms that spells a name of several words ("office 365") is one term, which
 *       then matches by (a) and (c) as a whole (so "Microsoft 365" too).
 * - Ranked, stable within a rank (list order: customer, then title):
 *   0 exact: the query's words are the customer's words, the title's, or the customer's then
 *     the title's ("acme corp", "vpn", "acme corp vpn" for Acme Corp / VPN);
 *   1 word start: every term matched somewhere at a word start, by (a), (b) or (c);
 *   2 the rest: some term matched only inside a word.
 * Must never depend on anything but the query and those four fields (so the page and the
 * CLI list the same entries in the same order), nor grow a case that (b) or (c) already cover.
 */

/** The groups of names for one thing: a term equal to one name also finds the others. */
export const ALIASES: readonly (readonly string[])[] = [
  ['m365', 'o365', 'microsoft 365', 'office 365'],
  ['ms', 'microsoft'],
  ['aad', 'azure ad', 'entra id'],
];

/** How a term met a field (or an entry): not at all, only inside a word, or at a word start. */
export const MATCH_NONE = 0;
export const MATCH_INSIDE = 1;
export const MATCH_WORD_START = 2;
export type TermMatch = typeof MATCH_NONE | typeof MATCH_INSIDE | typeof MATCH_WORD_START;

export const RANK_EXACT = 0;
export const RANK_WORD_START = 1;
export const RANK_INSIDE = 2;
export type SearchRank = typeof RANK_EXACT | typeof RANK_WORD_START | typeof RANK_INSIDE;

export interface SearchTerm {
  /** The term, folded. Never empty; holds a space only as a name of several words in ALIASES. */
  readonly text: string;
  /** letterMask(text): every letter a field must hold for (a) or (b). */
  readonly letters: number;
  /** The bit of the term's first character, if a–z: for (b), a field must have a word starting with it. */
  readonly firstLetter: number;
  /** Rule (b) as a pattern over a SearchName.skeleton, or null when the term has no cut to make. */
  readonly initials: RegExp | null;
  /** Rule (c): the group's names as they appear in a skeleton, or null when the term is no alias. */
  readonly aliases: readonly string[] | null;
}

export interface SearchQuery {
  readonly terms: readonly SearchTerm[];
  /** The query's words joined by one space: what an exact customer or title must equal. */
  readonly words: string;
}

/** A customer or title made ready for matching (the page keeps one per distinct name). */
export interface SearchName {
  readonly folded: string;
  readonly letters: number;
  readonly initials: number;
  /** Its words, joined by one space. */
  readonly words: string;
  /** The same with a space at each end: rules (b) and (c) read this, so punctuation is one space. */
  readonly skeleton: string;
}

/** The four fields a search reads, as stored (not folded). */
export interface SearchFields {
  readonly customer: string;
  readonly title: string;
  readonly username: string;
  readonly url: string;
}

const WORD_CLASS = '[\\p{L}\\p{N}\\p{M}]';
const WORD_CHARACTER = new RegExp(WORD_CLASS, 'u');
const WORDS = new RegExp(`${WORD_CLASS}+`, 'gu');
// Folded away from a query: controls (the page's index separates fields and entries with them).
const CONTROLS = /\p{Cc}/gu;
const BEYOND_LOWER_CASE = /ß|ς|i\u0307/g;
const FOLDED: Readonly<Record<string, string>> = { 'ß': 'ss', 'ς': 'σ', 'i\u0307': 'i' };
const A = 97;
const Z = 122;

/** `text` folded for comparing (the module header says how). */
export function foldText(text: string): string {
  // ASCII only (almost every field): NFKC changes nothing, lower case is all there is.
  if (!/[^\0-\x7f]/.test(text)) return text.toLowerCase();
  return text.normalize('NFKC').toLowerCase().replace(BEYOND_LOWER_CASE, (found) => FOLDED[found] ?? found);
}

/** Whether code point `code` is part of a word (a letter, a digit or a combining mark). */
export function isWordCode(code: number): boolean {
  if (code < 0x80) return (code >= A && code <= Z) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
  return WORD_CHARACTER.test(String.fromCodePoint(code));
}

/** Whether a word starts at `at` in `text`: nothing or a separator comes before it. */
export function startsWord(text: string, at: number): boolean {
  if (at <= 0) return true;
  let code = text.charCodeAt(at - 1);
  // The low half of a surrogate pair: the character is the pair.
  if (code >= 0xdc00 && code <= 0xdfff && at >= 2) code = text.codePointAt(at - 2) ?? code;
  return !isWordCode(code);
}

/** The letters a–z in folded `text`, one bit each (other characters: none). */
export function letterMask(text: string): number {
  let mask = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= A && c <= Z) mask |= 1 << (c - A);
  }
  return mask;
}

/** The letters a–z that begin a word of folded `text`, one bit each. */
export function initialsMask(text: string): number {
  let mask = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= A && c <= Z) {
      if (!inWord) mask |= 1 << (c - A);
      inWord = true;
    } else if (c < 0x80) {
      inWord = c >= 48 && c <= 57;
    } else {
      inWord = !startsWord(text, i + 1);
    }
  }
  return mask;
}

/** The words of folded `text` joined by one space (what the exact rank compares). */
export function wordsOf(text: string): string {
  return (text.match(WORDS) ?? []).join(' ');
}

/** A customer or title as matchName takes it. */
export function searchName(name: string): SearchName {
  const folded = foldText(name);
  const words = wordsOf(folded);
  return { folded, letters: letterMask(folded), initials: initialsMask(folded), words, skeleton: ` ${words} ` };
}

function escapeForPattern(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * Rule (b) over a skeleton: the term's characters, a step to the next word allowed between
 * any two of them ("[^ ]* ": the rest of this word, then the one space).
 */
function initialsPattern(text: string): RegExp | null {
  const characters = [...text];
  const [first] = characters;
  if (first === undefined || characters.length < 2 || !characters.every((c) => WORD_CHARACTER.test(c))) return null;
  return new RegExp(` ${characters.map(escapeForPattern).join('(?:[^ ]* )?')}`);
}

/** The names of several words in ALIASES, as words, longest first. */
const PHRASES: readonly (readonly string[])[] = ALIASES.flat().map((name) => name.split(' ')).filter((words) => words.length > 1).sort((a, b) => b.length - a.length);

/** Rule (c): the names of the term's group, as they stand in a skeleton. */
function aliasesOf(text: string): readonly string[] | null {
  const group = ALIASES.find((names) => names.includes(text));
  return group ? group.map((name) => ` ${wordsOf(name)} `) : null;
}

export function parseQuery(query: string): SearchQuery {
  const folded = foldText(query.replace(CONTROLS, ' '));
  const words = folded.split(/\s+/u).filter((text) => text.length > 0);
  // A run of terms that spells a name of several words ("office 365") is that one term.
  const texts: string[] = [];
  for (let j = 0; j < words.length; j++) {
    const name = PHRASES.find((phrase) => phrase.every((word, k) => words[j + k] === word));
    texts.push(name ? name.join(' ') : words[j] ?? '');
    if (name) j += name.length - 1;
  }
  return { terms: texts.map(termOf), words: wordsOf(folded) };
}

// Terms already made, by text: typing asks for the same few again and again.
const madeTerms = new Map<string, SearchTerm>();
const KEPT_TERMS = 512;

function termOf(text: string): SearchTerm {
  let term = madeTerms.get(text);
  if (!term) {
    const first = text.charCodeAt(0);
    term = {
      text,
      letters: letterMask(text),
      firstLetter: first >= A && first <= Z ? 1 << (first - A) : 0,
      initials: initialsPattern(text),
      aliases: aliasesOf(text),
    };
    if (madeTerms.size >= KEPT_TERMS) madeTerms.clear();
    madeTerms.set(text, term);
  }
  return term;
}

/** Rule (a) alone, on folded `text` from `from` up to `to`: whether the term occurs, and whether once at a word start. */
export function matchSubstring(term: SearchTerm, text: string, from = 0, to = text.length): TermMatch {
  let found: TermMatch = MATCH_NONE;
  for (let at = text.indexOf(term.text, from); at >= 0 && at + term.text.length <= to; at = text.indexOf(term.text, at + 1)) {
    if (startsWord(text, at)) return MATCH_WORD_START;
    found = MATCH_INSIDE;
  }
  return found;
}

/** How `term` matches a customer or title (made by searchName): rules (a), (b) and (c). */
export function matchName(term: SearchTerm, name: SearchName): TermMatch {
  let found: TermMatch = MATCH_NONE;
  // Lacking a letter of the term, a name can only match as an alias.
  if ((name.letters & term.letters) === term.letters) {
    found = matchSubstring(term, name.folded);
    if (found === MATCH_WORD_START) return found;
    if (term.initials && (name.initials & term.firstLetter) === term.firstLetter && term.initials.test(name.skeleton)) return MATCH_WORD_START;
  }
  if (term.aliases?.some((alias) => name.skeleton.includes(alias))) return MATCH_WORD_START;
  return found;
}

/** Whether the query's words are the customer's, the title's, or the customer's then the title's (all folded to words). */
export function isExact(query: SearchQuery, customerWords: string, titleWords: string): boolean {
  const words = query.words;
  if (words === '') return false;
  if (words === customerWords || words === titleWords) return true;
  return customerWords !== '' && titleWords !== '' && words.length === customerWords.length + 1 + titleWords.length
    && words.startsWith(customerWords) && words.charCodeAt(customerWords.length) === 32 && words.endsWith(titleWords);
}

/** An entry's rank for `query`, or -1 when some term matches none of its fields. */
export function rankEntry(query: SearchQuery, fields: SearchFields): SearchRank | -1 {
  return rankNamed(query, searchName(fields.customer), searchName(fields.title), fields.username, fields.url);
}

/**
 * rankEntry over a whole list, each distinct customer and title made ready once: a list
 * repeats them (a customer on every one of its entries, "VPN" under many customers), and
 * searchName on every entry was most of a 100,000-entry search. Same answers as rankEntry;
 * the names it keeps live as long as the function the caller holds (one search).
 */
export function entryRanker(query: SearchQuery): (customer: string, title: string, username: string, url: string) => SearchRank | -1 {
  const names = new Map<string, SearchName>();
  const nameOf = (text: string): SearchName => {
    let name = names.get(text);
    if (name === undefined) {
      name = searchName(text);
      names.set(text, name);
    }
    return name;
  };
  return (customer, title, username, url) => rankNamed(query, nameOf(customer), nameOf(title), username, url);
}

function rankNamed(query: SearchQuery, customer: SearchName, title: SearchName, rawUsername: string, rawUrl: string): SearchRank | -1 {
  // Username and URL are folded only when a term is not already found at a word start in the
  // customer or title (most entries of a list never need them for a query that finds them).
  let username: string | undefined;
  let url: string | undefined;
  let everyAtStart = true;
  for (const term of query.terms) {
    let best: TermMatch = matchName(term, customer);
    if (best < MATCH_WORD_START) best = Math.max(best, matchName(term, title)) as TermMatch;
    if (best < MATCH_WORD_START) best = Math.max(best, matchSubstring(term, username ??= foldText(rawUsername))) as TermMatch;
    if (best < MATCH_WORD_START) best = Math.max(best, matchSubstring(term, url ??= foldText(rawUrl))) as TermMatch;
    if (best === MATCH_NONE) return -1;
    if (best === MATCH_INSIDE) everyAtStart = false;
  }
  if (isExact(query, customer.words, title.words)) return RANK_EXACT;
  return everyAtStart ? RANK_WORD_START : RANK_INSIDE;
}

/**
 * The items matching `query`, best rank first, in their given order within a rank: the
 * reference the page's index must agree with, and what the vault's listing uses.
 */
export function searchItems<T>(items: readonly T[], fieldsOf: (item: T) => SearchFields, query: string): T[] {
  const parsed = parseQuery(query);
  if (parsed.terms.length === 0) return [...items];
  const ranked: T[][] = [[], [], []];
  const rankOf = entryRanker(parsed);
  for (const item of items) {
    const fields = fieldsOf(item);
    const rank = rankOf(fields.customer, fields.title, fields.username, fields.url);
    if (rank >= 0) ranked[rank]?.push(item);
  }
  return ranked.flat();
}
