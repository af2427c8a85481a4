// The one search rule (shared/search.ts): terms, word starts, initials, aliases, folding, ranks.
import { describe, expect, it } from 'vitest';
import { foldText, parseQuery, rankEntry, RANK_EXACT, RANK_INSIDE, RANK_WORD_START, searchItems, type SearchFields } from '../../shared/search';

const M365: SearchFields = { customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.example', url: 'https://admin.microsoft.com' };

function entry(customer: string, title: string, username = '', url = ''): SearchFields {
  return { customer, title, username, url };
}

/** The titles `query` lists from `entries`, in the order it lists them. */
function found(entries: readonly SearchFields[], query: string): string[] {
  return searchItems(entries, (e) => e, query).map((e) => `${e.customer}/${e.title}`);
}

describe('the search rule', () => {
  it('finds the issue’s entry by every query it named', () => {
    for (const query of ['acme 365', 'acme microsoft', 'm365', 'o365', 'office 365', 'ms', 'Microsoft', '365 ACME', 'acme  365 ']) {
      expect(rankEntry(parseQuery(query), M365), query).not.toBe(-1);
    }
  });

  it('asks every term to match some field, each maybe a different one', () => {
    expect(rankEntry(parseQuery('acme example microsoft'), M365)).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('acme globex'), M365)).toBe(-1);
    expect(rankEntry(parseQuery('nothing'), M365)).toBe(-1);
  });

  it('matches the starts of consecutive words in customer and title, not in username or URL', () => {
    const dc = entry('Globex', 'Domain controller', 'svc-backup', 'rdp://dc01.globex.example');
    expect(rankEntry(parseQuery('dc'), entry('Globex', 'Domain controller'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('domcon'), dc)).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('acmecorp'), M365)).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('ac'), entry('Acme Corp', 'VPN'))).toBe(RANK_WORD_START);
    // Consecutive words only, each piece at a word's start, and within one field.
    expect(rankEntry(parseQuery('ma'), M365)).toBe(-1); // Microsoft, 365, admin: "a" is not the word after "m…"
    expect(rankEntry(parseQuery('icr'), entry('x', 'Microsoft'))).toBe(RANK_INSIDE);
    expect(rankEntry(parseQuery('mcrsft'), entry('x', 'Microsoft'))).toBe(-1);
    expect(rankEntry(parseQuery('acmemicrosoft'), M365)).toBe(-1);
    // Usernames and URLs: substrings only ("sb" would be svc-backup's initials).
    expect(rankEntry(parseQuery('sb'), entry('x', 'y', 'svc-backup', 'https://sharepoint.bank'))).toBe(-1);
    // A term with punctuation matches literally: so typing on never finds what a prefix missed.
    expect(rankEntry(parseQuery('acme-c'), entry('Acme-X Corp', 'VPN'))).toBe(-1);
    expect(rankEntry(parseQuery('acme-x'), entry('Acme-X Corp', 'VPN'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('r.'), entry('x', 'root admin'))).toBe(-1);
    expect(rankEntry(parseQuery('r.a'), entry('x', 'root admin'))).toBe(-1);
    expect(rankEntry(parseQuery('ra'), entry('x', 'root admin'))).toBe(RANK_WORD_START);
  });

  it('knows a few names for one thing, as whole words', () => {
    expect(rankEntry(parseQuery('m365'), entry('x', 'Office 365 tenant'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('o365'), entry('x', 'Microsoft 365 admin'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('o365'), entry('x', 'M365 tenant'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('ms'), entry('x', 'Microsoft Teams'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('microsoft'), entry('x', 'MS Teams'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('aad'), entry('x', 'Entra ID break-glass'))).toBe(RANK_WORD_START);
    // Typed as words, a name of several words is one term: it finds its other names too.
    expect(rankEntry(parseQuery('acme microsoft 365'), entry('Acme', 'M365 tenant'))).toBe(RANK_WORD_START);
    expect(parseQuery('Office  365 admin').terms.map((t) => t.text)).toEqual(['office 365', 'admin']);
    // Whole words: "microsoft365" is not the alias "m365" asks for, and a prefix is no alias.
    expect(rankEntry(parseQuery('ms'), entry('x', 'Microsoftish'))).toBe(-1);
    expect(rankEntry(parseQuery('o36'), entry('x', 'Microsoft 365'))).toBe(-1);
    // Only in customer and title.
    expect(rankEntry(parseQuery('m365'), entry('x', 'y', 'office 365'))).toBe(-1);
  });

  it('ranks exact customer or title first, then word starts, then the rest, in list order within a rank', () => {
    const entries = [
      entry('Acme Corp', 'Backup NAS', 'svc-vpn'),
      entry('Acme Corp', 'VPN'),
      entry('Acme Corp', 'VPN gateway'),
      entry('Beta', 'SonicWall VPN'),
      entry('Gamma', 'Open vpn'),
    ];
    expect(found(entries, 'vpn')).toEqual(['Acme Corp/VPN', 'Acme Corp/Backup NAS', 'Acme Corp/VPN gateway', 'Beta/SonicWall VPN', 'Gamma/Open vpn']);
    expect(found(entries, 'pn')).toEqual(['Acme Corp/Backup NAS', 'Acme Corp/VPN', 'Acme Corp/VPN gateway', 'Beta/SonicWall VPN', 'Gamma/Open vpn']);
    expect(found(entries, 'acme corp vpn')[0]).toBe('Acme Corp/VPN');
    expect(rankEntry(parseQuery('Acme Corp'), M365)).toBe(RANK_EXACT);
    expect(rankEntry(parseQuery('microsoft 365 admin'), M365)).toBe(RANK_EXACT);
    expect(rankEntry(parseQuery('acme corp/microsoft 365 admin'), M365)).toBe(-1); // "corp/microsoft" is one term and matches no field
    expect(rankEntry(parseQuery('corp acme'), M365)).toBe(RANK_WORD_START); // exact means in order
    expect(found([entry('Globex', 'Mail'), entry('Acme', 'Router', 'mailer')], 'ail')).toEqual(['Globex/Mail', 'Acme/Router']); // both inside a word: list order
  });

  it('an empty query or one of only spaces finds everything, in list order', () => {
    const entries = [entry('B', 'x'), entry('A', 'y')];
    expect(found(entries, '')).toEqual(['B/x', 'A/y']);
    expect(found(entries, '   \t ')).toEqual(['B/x', 'A/y']);
    expect(parseQuery(' \n ').terms).toEqual([]);
  });

  it('folds case the Unicode way, keeps accents', () => {
    expect(foldText('MÜLLER & SÖHNE')).toBe('müller & söhne');
    expect(foldText('STRAẞE')).toBe('strasse');
    expect(foldText('Straße')).toBe('strasse');
    expect(foldText('ΟΔΟΣ')).toBe('οδοσ');
    expect(foldText('İstanbul')).toBe('istanbul');
    expect(foldText('ｆｕｌｌｗｉｄｔｈ')).toBe('fullwidth');
    expect(foldText('e\u0301')).toBe('é');
    expect(rankEntry(parseQuery('müller'), entry('Müller & Söhne GmbH', 'VPN'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('MÜLL'), entry('müller', 'VPN'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('strasse'), entry('Hauptstraße 5', 'VPN'))).toBe(RANK_INSIDE);
    expect(rankEntry(parseQuery('muller'), entry('Müller', 'VPN'))).toBe(-1);
    expect(rankEntry(parseQuery('ms'), entry('Müller Söhne', 'VPN'))).toBe(RANK_WORD_START); // initials of non-ASCII words
    expect(rankEntry(parseQuery('øs'), entry('Østergaard Søn', 'VPN'))).toBe(RANK_WORD_START);
  });

  it('takes a query’s punctuation and pattern characters literally', () => {
    expect(rankEntry(parseQuery('.example'), M365)).toBe(RANK_INSIDE);
    expect(rankEntry(parseQuery('a.b'), entry('x', 'axb'))).toBe(-1);
    expect(rankEntry(parseQuery('(fortigate)'), entry('x', 'Firewall (FortiGate)'))).toBe(RANK_WORD_START);
    expect(rankEntry(parseQuery('[*+?'), entry('x', 'y'))).toBe(-1);
    expect(rankEntry(parseQuery('10.0.0.1'), entry('x', 'y', '', 'ssh://10.0.0.1'))).toBe(RANK_WORD_START);
  });
});
