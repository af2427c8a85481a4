// The vault commands end to end through the real binary: init, add, list, otp, show, rm,
// import, audit — passwords piped on stdin, errors as one line with their stable code.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
let folder: string;
let vault: string;

function as(input: string, ...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, ...args.slice(1)], { input });
}

function expectFailure(result: CliResult, code: string, status = 1): void {
  expect(result.status).toBe(status);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^crewvault: ${code}: [^\\n]+\\n$`));
}

beforeEach(() => {
  folder = tempFolder();
  vault = path.join(folder, 'team.crewvault');
  const init = as(`${PW}\n`, 'init', '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1');
  expect(init).toMatchObject({ status: 0, stderr: '' });
  expect(init.stdout).toBe(`Created a vault at ${vault} owned by alice.\n`);
});

describe('crewvault vault commands', () => {
  it('adds an entry and prints its code, found case-insensitively', () => {
    const add = as(`${PW}\nentry-pass\notpauth://totp/Microsoft:admin?secret=${RFC}&digits=8\n`, 'add', '--customer', 'Acme Corp', '--title', 'M365 admin',
      '--username', 'admin@acme.com', '--url', 'https://portal.office.com', '--password-prompt', '--otp', '-');
    expect(add).toEqual({ status: 0, stdout: 'Added Acme Corp/M365 admin (id 1).\n', stderr: '' });
    expect(as(`${PW}\n`, 'otp', 'acme corp/M365 ADMIN', '--at', '59')).toEqual({ status: 0, stdout: '94287082\n', stderr: '' });
    const json = as(`${PW}\n`, 'otp', 'Acme Corp/M365 admin', '--at', '1111111109', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ code: '07081804', next: '14050471', period: 30, remaining: 1 });
  });

  it('takes the OTP from stdin with --otp -, keeping it out of the process list', () => {
    expect(as(`${PW}\n${RFC}\n`, 'add', '--customer', 'Acme', '--title', 'VPN', '--otp', '-').status).toBe(0);
    expect(as(`${PW}\n`, 'otp', 'Acme/VPN', '--at', '59').stdout).toBe('287082\n');
  });

  it('lists, searches and shows; the password only with --reveal', () => {
    as(`${PW}\nhunter2\n`, 'add', '--customer', 'Acme', '--title', 'Router', '--username', 'root', '--password-prompt');
    as(`${PW}\n`, 'add', '--customer', 'Beta', '--title', 'Mail', '--username', 'postmaster', '--url', 'https://mail.beta.example');
    expect(as(`${PW}\n`, 'list').stdout).toBe('Acme/Router\troot\t\t\nBeta/Mail\tpostmaster\thttps://mail.beta.example\t\n');
    expect(as(`${PW}\n`, 'list', '--search', 'BETA.EX').stdout).toBe('Beta/Mail\tpostmaster\thttps://mail.beta.example\t\n');
    expect(JSON.parse(as(`${PW}\n`, 'list', '--customer', 'acme', '--json').stdout)).toMatchObject([{ customer: 'Acme', title: 'Router' }]);
    const hidden = as(`${PW}\n`, 'show', 'Acme/Router');
    expect(hidden.stdout).toContain('Password:  (hidden: --reveal shows it)');
    expect(hidden.stdout).not.toContain('hunter2');
    expect(as(`${PW}\n`, 'show', 'Acme/Router', '--reveal').stdout).toContain('Password:  hunter2\n');
  });

  it('fails with one line and a stable code', () => {
    as(`${PW}\n`, 'add', '--customer', 'Beta', '--title', 'VPN');
    as(`${PW}\n`, 'add', '--customer', 'Beta', '--title', 'vpn');
    expectFailure(as('wrong password\n', 'list'), 'WRONG_PASSWORD');
    expectFailure(as(`${PW}\n`, 'otp', 'Acme/Nothing'), 'NOT_FOUND');
    expectFailure(as(`${PW}\n`, 'otp', 'Beta/VPN'), 'AMBIGUOUS');
    expectFailure(as(`${PW}\nJBSWY3D0EHPK3PXP\n`, 'add', '--customer', 'Acme', '--title', 'X', '--otp', '-'), 'INVALID_SECRET');
    expectFailure(crewvault(['list', '--vault', path.join(folder, 'missing.crewvault')], { input: `${PW}\n` }), 'VAULT_MISSING');
    writeFileSync(path.join(folder, 'not-a-vault'), 'hello');
    expectFailure(crewvault(['list', '--vault', path.join(folder, 'not-a-vault')], { input: `${PW}\n` }), 'VAULT_CORRUPT');
    expectFailure(as(`${PW}\n`, 'init', '--user', 'bob'), 'VAULT_EXISTS');
    expectFailure(as(`${PW}\n`, 'add', '--title', 'no customer'), 'USAGE', 2);
    expectFailure(as(`${PW}\n`, 'import', '--format', 'nosuch', 'x'), 'USAGE', 2);
  });

  it('changes nothing when the password is wrong', () => {
    const before = readFileSync(vault);
    expectFailure(as('wrong password\n', 'add', '--customer', 'Acme', '--title', 'X'), 'WRONG_PASSWORD');
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
    expect(before.length).toBeGreaterThan(0);
  });

  it('deletes an entry', () => {
    as(`${PW}\n`, 'add', '--customer', 'Acme', '--title', 'Old');
    expect(as(`${PW}\n`, 'rm', 'Acme/Old')).toEqual({ status: 0, stdout: 'Deleted Acme/Old and its secrets.\n', stderr: '' });
    expectFailure(as(`${PW}\n`, 'rm', 'Acme/Old'), 'NOT_FOUND');
  });

  it('imports otpauth lines, reporting bad ones by line number; commits the good ones when told to skip the bad', () => {
    const file = path.join(folder, 'codes.txt');
    writeFileSync(file, [
      '# from the old phone',
      `otpauth://totp/GitHub:octo?secret=${RFC}`,
      '',
      'otpauth://totp/no-issuer?secret=JBSWY3DPEHPK3PXP',
      'JBSWY3DPEHPK3PXP',
      `otpauth://hotp/Bank:me?secret=${RFC}&counter=0`,
    ].join('\n'));
    const stopped = as(`${PW}\n`, 'import', '--format', 'otpauth', file);
    expect(stopped.status).toBe(1);
    expect(stopped.stdout).toBe('');
    expect(stopped.stderr.split('\n')[0]).toBe('crewvault: cannot import: Line 4: no issuer to use as the customer (pass --customer).');
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
    const result = as(`${PW}\n`, 'import', '--format', 'otpauth', file, '--skip-bad');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('Imported 2 entries; skipped 2 lines.\n');
    expect(result.stderr).toBe('crewvault: skipped: Line 4: no issuer to use as the customer (pass --customer).\ncrewvault: skipped: Line 5: Not an otpauth:// URI: it should start with otpauth://totp/, otpauth://hotp/ or steam://.\n');
    expect(as(`${PW}\n`, 'list').stdout).toBe('Bank/Bank\tme\t\tHOTP\nGitHub/GitHub\tocto\t\tTOTP\n');
    expect(as(`${PW}\n`, 'otp', 'Bank/Bank').stdout).toBe('755224\n');
    expect(as(`${PW}\n`, 'otp', 'Bank/Bank').stdout).toBe('287082\n');
  });

  it('reads the audit log and verifies its chain without a password, and its keyed anchor with one', () => {
    as(`${PW}\n${RFC}\n`, 'add', '--customer', 'Acme', '--title', 'VPN', '--otp', '-');
    as(`${PW}\n`, 'otp', 'Acme/VPN');
    as('nope\n', 'otp', 'Acme/VPN');
    const log = as(`${PW}\n`, 'audit').stdout.split('\n').filter(Boolean).map((line) => line.split('  ').slice(1).join(' ').replace(/ \(step \d+\)$/, ' (step N)'));
    expect(log).toEqual([
      'alice vault.create alice', 'alice signin.ok alice', 'alice entry.create Acme/VPN', 'alice signin.ok alice',
      'alice otp.print Acme/VPN (step N)', 'alice signin.failed alice', 'alice signin.ok alice',
    ]);
    expect(as('', 'audit', 'verify')).toEqual({ status: 0, stdout: 'Audit log intact: 7 rows, every link verified.\n', stderr: '' });
    // With the key: the anchor was left at row 7 (the failed sign-in at 6 needed none); this
    // sign-in checks it before writing row 8.
    expect(as(`${PW}\n`, 'audit', 'verify', '--keyed')).toEqual({ status: 0, stdout: 'Audit log intact: 8 rows, every link verified; the keyed anchor at row 7 holds.\n', stderr: '' });
    expect(as('', 'audit', '--keyed').status).toBe(2);
  });

  it('uses $CREWVAULT_VAULT when --vault is absent', () => {
    const result = crewvault(['list'], { input: `${PW}\n`, env: { CREWVAULT_VAULT: vault } });
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
