// `crewvault import` through the registry (issue #12): the format recognised from the content,
// a preview that writes nothing, the target group chosen (never "Default" silently when there
// is a choice), duplicates of what the vault holds named and skipped, and an audit row with
// the counts. The real binary, a real vault file, secrets on stdin.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { IMPORTERS } from '../../electron/cli/import';
import { IMPORT_FORMATS } from '../../electron/cli/import-usage';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
let folder: string;
let vault: string;
let exportFile: string;

function as(input: string, ...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, ...args.slice(1)], { input });
}

beforeEach(() => {
  folder = tempFolder();
  vault = path.join(folder, 'team.crewvault');
  expect(as(`${PW}\n`, 'init', '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1').status).toBe(0);
  exportFile = path.join(folder, 'export.txt');
  writeFileSync(exportFile, [
    '# exported by an authenticator app',
    `otpauth://totp/GitHub:octo?secret=${RFC}&issuer=GitHub`,
    `otpauth://totp/Acme:admin?secret=JBSWY3DPEHPK3PXP&issuer=Acme`,
    `otpauth://hotp/Acme:vpn?secret=${RFC}&counter=3&issuer=Acme`,
  ].join('\n'));
});

describe('crewvault import', () => {
  it('names in its help exactly the formats it reads', () => {
    expect([...IMPORT_FORMATS]).toEqual(IMPORTERS.map((i) => i.name));
  });

  it('recognises the format, previews without writing, then imports into the one group', () => {
    const preview = as(`${PW}\n`, 'import', exportFile, '--dry-run');
    expect(preview).toEqual({ status: 0, stdout: 'Would import 3 entries into Default (Acme 2, GitHub 1); would skip 0 lines. Nothing was written.\n', stderr: '' });
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
    const done = as(`${PW}\n`, 'import', exportFile);
    expect(done).toEqual({ status: 0, stdout: 'Imported 3 entries; skipped 0 lines.\n', stderr: '' });
    expect(as(`${PW}\n`, 'list').stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual(['Acme/Acme', 'Acme/Acme', 'GitHub/GitHub']);
    const audit = as(`${PW}\n`, 'audit').stdout;
    expect(audit).toContain('entries.import  otpauth: 3 added, 0 skipped, 0 duplicates');
    // One row for the import, not one per entry.
    expect(audit).not.toContain('entry.create');
  });

  it('names and skips what the vault already holds (same key, issuer and account), and the same entry twice in one file', () => {
    expect(as(`${PW}\n`, 'import', exportFile).status).toBe(0);
    writeFileSync(exportFile, [
      `otpauth://totp/GitHub:octo?secret=${RFC}&issuer=GitHub`,
      `otpauth://totp/GitHub:OCTO?secret=${RFC.toLowerCase()}&issuer=github`,
      `otpauth://totp/GitHub:someone-else?secret=${RFC}&issuer=GitHub`,
      `otpauth://totp/Globex:ops?secret=JBSWY3DPEHPK3PXP&issuer=Globex`,
      `otpauth://totp/Globex:ops?secret=JBSWY3DPEHPK3PXP&issuer=Globex`,
    ].join('\n'));
    const again = as(`${PW}\n`, 'import', exportFile);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('Imported 2 entries; skipped 3 lines.\n');
    expect(again.stderr.split('\n').filter(Boolean)).toEqual([
      'crewvault: duplicate: Line 1: already in the vault (same OTP key, issuer and account): skipped.',
      'crewvault: duplicate: Line 2: already in the vault (same OTP key, issuer and account): skipped.',
      'crewvault: duplicate: Line 5: already in the vault (same OTP key, issuer and account): skipped.',
    ]);
  });

  it('with several groups, the person chooses one: nothing goes to Default silently', () => {
    expect(as(`${PW}\n`, 'group', 'add', 'Acme team').status).toBe(0);
    const refused = as(`${PW}\n`, 'import', exportFile);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe('crewvault: USAGE: choose the access group with --group (Acme team, Default) (see "crewvault import --help")\n');
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
    const done = as(`${PW}\n`, 'import', exportFile, '--group', 'acme team', '--dry-run');
    expect(done.stdout).toContain('into Acme team');
  });

  it('refuses an unknown format before reading anything, and content in no known format in one line', () => {
    const unknown = as(`${PW}\n`, 'import', '--format', 'lastpass', exportFile);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^crewvault: USAGE: --format is auto or one of aegis, 2fas, bitwarden, keepassxc-csv, 1password, ente, otpauth, csv, qr, kdbx/);
    writeFileSync(exportFile, '{"not": "an export"}');
    const garbage = as(`${PW}\n`, 'import', exportFile);
    expect(garbage.status).toBe(1);
    expect(garbage.stderr).toMatch(/^crewvault: INVALID_INPUT: The file is in no format Crewvault reads \(aegis[^\n]*\n$/);
  });
});

// Every format the registry knows, through the real binary, recognised by content: the counts
// per fixture are the fixtures' own (their unit tests check every field and code).
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
const EXPORT_PASSWORD = 'correct horse ✓ battery';
const KEEPASS_PASSWORD = 'fixture-pass';

describe('crewvault import of each format, recognised from its content', () => {
  it.each([
    ['aegis-plain.json', undefined, 'Acme'],
    ['aegis-encrypted.json', EXPORT_PASSWORD, 'Acme'],
    ['2fas-v4.2fas', undefined, 'Acme'],
    ['2fas-v4-encrypted.2fas', EXPORT_PASSWORD, 'Acme'],
    ['ente-plain.txt', undefined, 'Acme'],
    ['bitwarden-unencrypted.json', undefined, undefined],
    ['bitwarden-export.csv', undefined, undefined],
    ['keepassxc-export.csv', undefined, undefined],
    ['keepassxc-kdbx4-argon2id.kdbx', KEEPASS_PASSWORD, undefined],
    ['keepassxc-kdbx3-aeskdf.kdbx', KEEPASS_PASSWORD, undefined],
  ] as const)('%s', (fixture, exportPassword, _customer) => {
    const input = exportPassword === undefined ? `${PW}\n` : `${PW}\n${exportPassword}\n`;
    // Each fixture holds an entry that cannot be imported (no customer, a card): --skip-bad
    // takes the rest, as the person who saw the list chose to (without it, nothing goes in:
    // cli-hardening.test.ts).
    const preview = as(input, 'import', path.join(FIXTURES, fixture), '--dry-run', '--skip-bad');
    expect(preview.stdout, preview.stderr).toMatch(/^Would import [1-9]\d* entr(y|ies) into Default/);
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
    const done = as(input, 'import', path.join(FIXTURES, fixture), '--skip-bad');
    expect(done.stdout, done.stderr).toMatch(/^Imported [1-9]\d* entr(y|ies); skipped \d+ (line|entry|lines|entries)\.\n$/);
    expect(done.stderr).not.toContain(exportPassword ?? '\u0000');
    const listed = as(`${PW}\n`, 'list').stdout.split('\n').filter(Boolean);
    expect(listed.length).toBe(Number(/Imported (\d+)/.exec(done.stdout)?.[1]));
    // Imported again: every OTP entry is a duplicate now.
    const again = as(input, 'import', path.join(FIXTURES, fixture), '--dry-run');
    expect(again.stderr).toContain('duplicate');
  });

  it('a wrong export password is one line, and nothing is written', () => {
    const wrong = as(`${PW}\nnot the password\n`, 'import', path.join(FIXTURES, 'aegis-encrypted.json'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^crewvault: WRONG_PASSWORD: [^\n]+\n$/);
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
  });
});
