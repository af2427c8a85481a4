// `crewvault export` (issue #12, plain exports for leaving) through the real binary, secrets on
// stdin: who may export (both reveal permissions), the explicit --plaintext, the password asked
// again, a new 0600 file or nothing (never an overwrite, nothing partial), standard output for
// the text formats, and one audit row with the counts.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXPORTERS } from '../../electron/cli/export';
import { IMPORT_FORMATS } from '../../electron/cli/import-usage';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const BOB = 'bob chose this';
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
let folder: string;
let vault: string;
let out: string;

function as(who: string, input: string, ...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, '--as', who, ...args.slice(1)], { input });
}

function alice(input: string, ...args: string[]): CliResult {
  return as('alice', input, ...args);
}

/** Files in the folder besides the vault (and its WAL): an export, or a partial one left behind. */
function written(): string[] {
  return readdirSync(folder).filter((name) => !name.startsWith('team.crewvault'));
}

beforeEach(() => {
  folder = tempFolder();
  vault = path.join(folder, 'team.crewvault');
  out = path.join(folder, 'export.txt');
  expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
  expect(alice(`${PW}\n${RFC}\n`, 'add', '--customer', 'Acme', '--title', 'VPN', '--username', 'ops', '--otp', '-').status).toBe(0);
  expect(alice(`${PW}\nmail-pw\n`, 'add', '--customer', 'Globex', '--title', 'Mail', '--password-prompt').status).toBe(0);
});

describe('crewvault export', () => {
  it('writes a new file readable by its owner only, and audits the format and counts', () => {
    const done = alice(`${PW}\n${PW}\n`, 'export', '--format', 'otpauth', '--plaintext', out);
    expect(done).toEqual({ status: 0, stdout: `Exported 1 entry (otpauth) to ${out}; left out 1 entry without a one-time password.\n`, stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(`otpauth://totp/Acme:ops?secret=${RFC}&issuer=Acme&algorithm=SHA1&digits=6&period=30\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(written()).toEqual(['export.txt']);
    const audit = alice(`${PW}\n`, 'audit').stdout;
    expect(audit).toContain('entries.export  otpauth: 1 exported (1 with a one-time password), 1 without one left out');
    expect(audit).not.toContain(RFC);
  });

  it('"-" writes a text format to standard output, the summary to stderr; a .kdbx only to a file', () => {
    const csv = alice(`${PW}\n${PW}\n`, 'export', '--format', 'keepassxc-csv', '--plaintext', '-');
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('"Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created","Formula guard"');
    expect(csv.stdout).toContain('"Root/Globex","Mail","","mail-pw"');
    expect(csv.stderr).toBe('Exported 2 entries (keepassxc-csv).\n');
    const kdbx = alice(`${PW}\n${PW}\n`, 'export', '--format', 'kdbx', '--plaintext', '-');
    expect(kdbx.status).toBe(2);
    expect(kdbx.stderr).toBe('crewvault: USAGE: a kdbx export is a binary file: give a FILE name, not - (see "crewvault export --help")\n');
  });

  it('without --plaintext is a usage error saying what it would write, before any password', () => {
    const refused = alice('', 'export', '--format', 'aegis', out);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(`crewvault: USAGE: the export writes every OTP key you can reveal to ${out} unencrypted: add --plaintext if that is what you want (see "crewvault export --help")\n`);
    const kdbx = alice('', 'export', '--format', 'kdbx', path.join(folder, 'out.kdbx'));
    expect(kdbx.stderr).toContain('protected only by a new password you choose: add --plaintext');
    expect(alice('', 'export', '--format', 'lastpass', '--plaintext', out).stderr).toBe('crewvault: USAGE: --format is one of otpauth, aegis, keepassxc-csv, kdbx (see "crewvault export --help")\n');
    expect(alice('', 'export', '--plaintext', out).status).toBe(2);
    expect(alice('', 'export', '--format', 'aegis', '--plaintext').status).toBe(2);
    expect(written()).toEqual([]);
  });

  it('a wrong password given again is WRONG_PASSWORD, and nothing is written or audited as exported', () => {
    const wrong = alice(`${PW}\nnot my password\n`, 'export', '--format', 'keepassxc-csv', '--plaintext', out);
    expect(wrong).toEqual({ status: 1, stdout: '', stderr: 'crewvault: WRONG_PASSWORD: Your password is wrong.\n' });
    expect(existsSync(out)).toBe(false);
    expect(written()).toEqual([]);
    const audit = alice(`${PW}\n`, 'audit').stdout;
    expect(audit).toContain('password.confirm_failed');
    expect(audit).not.toContain('entries.export');
  });

  it('refuses a file that exists, before signing in, and leaves it as it was', () => {
    writeFileSync(out, 'mine');
    const refused = alice(`${PW}\n${PW}\n`, 'export', '--format', 'otpauth', '--plaintext', out);
    expect(refused).toEqual({ status: 1, stdout: '', stderr: `crewvault: ALREADY_EXISTS: ${out} already exists: give a new file name (an export never overwrites).\n` });
    expect(readFileSync(out, 'utf8')).toBe('mine');
    expect(alice(`${PW}\n`, 'audit').stdout).not.toContain('entries.export');
    const noFolder = alice(`${PW}\n${PW}\n`, 'export', '--format', 'otpauth', '--plaintext', path.join(folder, 'missing', 'x.txt'));
    expect(noFolder.status).toBe(1);
    expect(noFolder.stderr).toMatch(/^crewvault: INVALID_INPUT: Cannot write [^\n]*x\.txt \(ENOENT\); nothing was written\.\n$/);
  });

  it('a .kdbx needs a new password of at least 8 characters', () => {
    const kdbx = path.join(folder, 'out.kdbx');
    const short = alice(`${PW}\n${PW}\nshort\n`, 'export', '--format', 'kdbx', '--plaintext', kdbx);
    expect(short.stderr).toBe('crewvault: INVALID_INPUT: A password needs at least 8 characters.\n');
    expect(written()).toEqual([]);
  });

  it.each([
    ['codes_only', 'passwords.reveal'],
    ['auditor', 'passwords.reveal'],
  ])('a %s user gets FORBIDDEN and nothing is written', (role, permission) => {
    expect(alice(`${PW}\nbob one-time 1\n`, 'user', 'add', 'bob', '--role', role).status).toBe(0);
    expect(crewvault(['passwd', '--vault', vault, '--as', 'bob'], { input: `bob one-time 1\n${BOB}\n` }).status).toBe(0);
    const refused = as('bob', `${BOB}\n${BOB}\n`, 'export', '--format', 'otpauth', '--plaintext', out);
    expect(refused).toEqual({ status: 1, stdout: '', stderr: `crewvault: FORBIDDEN: Your role may not do this (needs permission ${permission}).\n` });
    expect(written()).toEqual([]);
  });

  it('a custom role with passwords.reveal but not otp.reveal_secret gets FORBIDDEN too', () => {
    expect(alice(`${PW}\n`, 'role', 'define', 'Helpdesk', 'entries.view,passwords.reveal,otp.view').status).toBe(0);
    expect(alice(`${PW}\nbob one-time 1\n`, 'user', 'add', 'bob', '--role', 'helpdesk').status).toBe(0);
    expect(crewvault(['passwd', '--vault', vault, '--as', 'bob'], { input: `bob one-time 1\n${BOB}\n` }).status).toBe(0);
    const refused = as('bob', `${BOB}\n${BOB}\n`, 'export', '--format', 'keepassxc-csv', '--plaintext', '-');
    expect(refused.stderr).toBe('crewvault: FORBIDDEN: Your role may not do this (needs permission otp.reveal_secret).\n');
    expect(refused.stdout).toBe('');
  });

  it('names in its help every format it writes, each one an import format too', () => {
    const help = crewvault(['export', '--help']).stdout;
    for (const exporter of EXPORTERS) expect(help).toContain(exporter.name);
    expect(IMPORT_FORMATS).toEqual(expect.arrayContaining(EXPORTERS.map((e) => e.name)));
    expect(crewvault(['--help']).stdout).toMatch(/\n {2}export +export every entry you can reveal/);
  });
});
