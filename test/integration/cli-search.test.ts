// `crewvault list --search` through the real binary: the same rule as the page's search box
// (shared/search.ts): every term somewhere, word starts and initials, aliases, best first.
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the search tests';
let vault: string;

function as(...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, ...args.slice(1)], { input: `${PW}\n` });
}

/** The "Customer/Title" of each line `list --search` prints, in its order. */
function listed(query: string, ...more: string[]): string[] {
  const result = as('list', '--search', query, ...more);
  expect(result).toMatchObject({ status: 0, stderr: '' });
  return result.stdout.split('\n').filter(Boolean).map((line) => line.split('\t')[0] ?? '');
}

beforeEach(() => {
  vault = path.join(tempFolder(), 'search.crewvault');
  expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
  for (const [customer, title, username, url] of [
    ['Acme Corp', 'Microsoft 365 admin', 'admin@acme.example', 'https://admin.microsoft.com'],
    ['Acme Corp', 'VPN', 'ops', 'https://vpn.acme.example'],
    ['Globex', 'Domain controller', 'administrator', 'rdp://dc01.globex.example'],
    ['Globex', 'Office 365 tenant', 'it@globex.example', ''],
    ['Initech', 'Backup', 'svc-vpn', ''],
  ] as const) {
    expect(as('add', '--customer', customer, '--title', title, '--username', username, ...(url ? ['--url', url] : []))).toMatchObject({ status: 0, stderr: '' });
  }
}, 60_000);

describe('crewvault list --search', () => {
  it('finds "Acme Corp / Microsoft 365 admin" by the issue’s queries', () => {
    expect(listed('acme 365')).toEqual(['Acme Corp/Microsoft 365 admin']);
    expect(listed('acme microsoft')).toEqual(['Acme Corp/Microsoft 365 admin']);
    expect(listed('m365')).toEqual(['Acme Corp/Microsoft 365 admin', 'Globex/Office 365 tenant']);
    expect(listed('globex dc')).toEqual(['Globex/Domain controller']);
  });

  it('ranks an exact title first, then word starts, then the rest; keeps the customer filter', () => {
    expect(listed('vpn')).toEqual(['Acme Corp/VPN', 'Initech/Backup']);
    expect(listed('pn')).toEqual(['Acme Corp/VPN', 'Initech/Backup']);
    expect(listed('admin')).toEqual(['Acme Corp/Microsoft 365 admin', 'Globex/Domain controller']);
    expect(listed('365', '--customer', 'globex')).toEqual(['Globex/Office 365 tenant']);
    expect(listed('nothing like this')).toEqual([]);
  });

  it('a customer filter plus a search that finds nothing says so on stderr, with how many match without the filter', () => {
    expect(as('list', '--search', 'vpn', '--customer', 'Globex')).toEqual({
      status: 0, stdout: '', stderr: 'crewvault: nothing of customer "Globex" matches "vpn"; without --customer, 2 entries do.\n',
    });
    expect(as('list', '--search', 'acme 365', '--customer', 'globex', '--json')).toEqual({
      status: 0, stdout: '[]\n', stderr: 'crewvault: nothing of customer "globex" matches "acme 365"; without --customer, 1 entry does.\n',
    });
    expect(as('list', '--search', 'nothing like this', '--customer', 'Globex').stderr).toBe('crewvault: nothing of customer "Globex" matches "nothing like this", nor of any other customer.\n');
    // A search alone that finds nothing has no filter to name.
    expect(as('list', '--search', 'nothing like this')).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
