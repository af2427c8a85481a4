// `crewvault import --format csv --map …` (issue #12): a spreadsheet's columns named by the
// person, checked against its header before anyone signs in (an unmapped title, or a column
// not in the file, is one line and no sign-in), then imported like any export. The real
// binary, a real vault file, the password on stdin.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const SHEET = path.resolve('test/fixtures/import/spreadsheet.csv');
const COLUMN_NAMES = ['Client', 'Account', 'Login', 'Secret', 'Website', 'Comment', '2FA seed', 'Favourite'];
let vault: string;

function as(input: string, ...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, ...args.slice(1)], { input });
}

beforeEach(() => {
  vault = path.join(tempFolder(), 'team.crewvault');
  expect(as(`${PW}\n`, 'init', '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1').status).toBe(0);
});

describe('crewvault import --format csv', () => {
  it('asks for the mapping, naming the file\'s columns, before any sign-in', () => {
    // No password on stdin: a sign-in would fail differently.
    const asked = as('', 'import', '--format', 'csv', SHEET);
    expect(asked.status).toBe(2);
    expect(asked.stderr.startsWith(`crewvault: USAGE: say which column is which with --map title=COLUMN[,otp=COLUMN,username=…] (the file's first line names 8 columns: "crewvault import --format csv --columns FILE" lists them)`)).toBe(true);
  });

  it('lists the columns only when asked (--columns, no sign-in): a file without a header row has a credential on its first line', () => {
    expect(as('', 'import', '--format', 'csv', '--columns', SHEET)).toEqual({ status: 0, stdout: `${COLUMN_NAMES.join('\n')}\n`, stderr: '' });
    // A spreadsheet saved without its header: the first line is an account. No error shows it.
    const headerless = path.join(tempFolder(), 'no-header.csv');
    writeFileSync(headerless, 'Acme,PLANTEDUSER,PLANTEDPASSWORD1\nGlobex,bob,hunter2\n');
    for (const args of [['--format', 'csv', headerless], ['--format', 'csv', '--map', 'otp=x', headerless], ['--format', 'csv', '--map', 'title=Nope', headerless]]) {
      const result = as('', 'import', ...args);
      expect(result.status).not.toBe(0);
      expect(result.stderr).not.toContain('PLANTED');
      expect(result.stderr).toContain("the file's first line names 3 columns");
    }
  });

  it('refuses a row with more or fewer fields than the header (which text is which column is then unknown), writing nothing', () => {
    const shifted = path.join(tempFolder(), 'shifted.csv');
    writeFileSync(shifted, 'Client,Account,Secret\nAcme,VPN,pw1\nGlobex,Mail\nInitech,Web,pw3\n');
    const result = as(`${PW}\n`, 'import', '--format', 'csv', '--map', 'customer=Client,title=Account,password=Secret', shifted, '--skip-bad');
    expect(result).toMatchObject({ status: 1, stdout: '', stderr: 'crewvault: INVALID_INPUT: Line 3 has 2 fields where the first line names 3 columns (a comma or quote out of place?); nothing was read.\n' });
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
  });

  it('refuses an unmapped title, a column not in the file, a field it does not know, and --map on another format', () => {
    expect(as('', 'import', '--format', 'csv', '--map', 'otp=2FA seed', SHEET).stderr).toBe('crewvault: INVALID_INPUT: Map the title column (the file\'s first line names 8 columns).\n');
    expect(as('', 'import', '--format', 'csv', '--map', 'title=Account,otp=TOTP', SHEET).stderr).toBe('crewvault: INVALID_INPUT: The column "TOTP" mapped to otp is not in the file (the file\'s first line names 8 columns).\n');
    expect(as('', 'import', '--format', 'csv', '--map', 'title=Account,colour=Client', SHEET)).toMatchObject({ status: 2, stderr: expect.stringContaining('"colour" is not a field') as unknown });
    const elsewhere = as('', 'import', '--map', 'title=Account', path.resolve('test/fixtures/import/bitwarden-export.csv'));
    expect(elsewhere.status).toBe(2);
    expect(elsewhere.stderr).toMatch(/^crewvault: USAGE: --map is for --format csv \(a spreadsheet whose columns you name\)/);
  });

  it('previews and imports through the mapping; the bad key is skipped by its line; codes are live', () => {
    const map = ['--map', 'customer=Client,title=Account,username=Login,password=Secret', '--map', 'url=Website,notes=Comment,secret=2FA seed'];
    const preview = as(`${PW}\n`, 'import', '--format', 'csv', ...map, SHEET, '--customer', 'Acme', '--dry-run', '--skip-bad');
    expect(preview.stdout).toBe('Would import 8 entries into Default (Acme 8); would skip 1 entry. Nothing was written.\n');
    const done = as(`${PW}\n`, 'import', '--format', 'csv', ...map, SHEET, '--skip-bad');
    // Personal mail has no client: without --customer it has no customer, and says so.
    expect(done.stderr.split('\n').filter(Boolean).map((l) => l.slice(0, 60))).toEqual([
      "crewvault: skipped: line 2 'Personal mail': no issuer to use",
      'crewvault: skipped: line 11 \'Broken\': Secret key has "1" at ',
    ]);
    expect(done.stderr).not.toContain('JYNPKHC');
    expect(done.stdout).toBe('Imported 7 entries; skipped 2 entries.\n');
  });
});
