// `crewvault import --format csv --map …` (issue #12): a spreadsheet's columns named by the
// person, checked against its header before anyone signs in (an unmapped title, or a column
// not in the file, is one line and no sign-in), then imported like any export. The real
// binary, a real vault file, the password on stdin.
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const SHEET = path.resolve('test/fixtures/import/spreadsheet.csv');
const COLUMNS = '"Client", "Account", "Login", "Secret", "Website", "Comment", "2FA seed", "Favourite"';
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
    expect(asked.stderr.startsWith(`crewvault: USAGE: say which column is which with --map title=COLUMN[,otp=COLUMN,username=…] (this file's columns: ${COLUMNS})`)).toBe(true);
  });

  it('refuses an unmapped title, a column not in the file, a field it does not know, and --map on another format', () => {
    expect(as('', 'import', '--format', 'csv', '--map', 'otp=2FA seed', SHEET).stderr).toBe(`crewvault: INVALID_INPUT: Map the title column (the file's columns: ${COLUMNS}).\n`);
    expect(as('', 'import', '--format', 'csv', '--map', 'title=Account,otp=TOTP', SHEET).stderr).toBe(`crewvault: INVALID_INPUT: The column "TOTP" mapped to otp is not in the file (its columns: ${COLUMNS}).\n`);
    expect(as('', 'import', '--format', 'csv', '--map', 'title=Account,colour=Client', SHEET)).toMatchObject({ status: 2, stderr: expect.stringContaining('"colour" is not a field') as unknown });
    const elsewhere = as('', 'import', '--map', 'title=Account', path.resolve('test/fixtures/import/bitwarden-export.csv'));
    expect(elsewhere.status).toBe(2);
    expect(elsewhere.stderr).toMatch(/^crewvault: USAGE: --map is for --format csv \(a spreadsheet whose columns you name\)/);
  });

  it('previews and imports through the mapping; the bad key is skipped by its line; codes are live', () => {
    const map = ['--map', 'customer=Client,title=Account,username=Login,password=Secret', '--map', 'url=Website,notes=Comment,secret=2FA seed'];
    const preview = as(`${PW}\n`, 'import', '--format', 'csv', ...map, SHEET, '--customer', 'Acme', '--dry-run');
    expect(preview.stdout).toBe('Would import 8 entries into Default (Acme 8); would skip 1 entry. Nothing was written.\n');
    const done = as(`${PW}\n`, 'import', '--format', 'csv', ...map, SHEET);
    // Personal mail has no client: without --customer it has no customer, and says so.
    expect(done.stderr.split('\n').filter(Boolean).map((l) => l.slice(0, 60))).toEqual([
      "crewvault: skipped: line 2 'Personal mail': no issuer to use",
      'crewvault: skipped: line 11 \'Broken\': Secret key has "1" at ',
    ]);
    expect(done.stderr).not.toContain('JYNPKHC');
    expect(done.stdout).toBe('Imported 7 entries; skipped 2 entries.\n');
  });
});
