// `crewvault backup`, `backup verify` and `restore` through the real binary: passwords piped on
// stdin (the vault password, then the backup password), cheap Argon2 settings, real files.
// The restored vault answers as the original did; every refusal is one line with its code.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const ALICE = 'alice pass 123';
const ONE_TIME = 'bob one-time 1';
const BOB = 'bob chose this';
const BACKUP = 'the backup password';
const ENTRY_PASSWORD = 'vpn-Pa55-only-in-the-vault';
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const CHEAP = ['--kdf-memory', '1024', '--kdf-iterations', '1'];
let folder: string;
let vault: string;
let backupFile: string;

function expectFailure(result: CliResult, code: string, status = 1): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^crewvault: ${code}: [^\\n]+\\n$`));
  expect(result.status).toBe(status);
}

function on(file: string, who: string, password: string, ...args: string[]): CliResult {
  const [command = '', ...rest] = args;
  return crewvault([command, '--vault', file, '--as', who, ...rest], { input: `${password}\n` });
}

function backUp(input: string, ...more: string[]): CliResult {
  return crewvault(['backup', backupFile, '--vault', vault, ...CHEAP, ...more], { input });
}

beforeEach(() => {
  folder = tempFolder();
  vault = path.join(folder, 'team.crewvault');
  backupFile = path.join(folder, 'team.cvbackup');
  expect(crewvault(['init', '--vault', vault, '--user', 'alice', ...CHEAP], { input: `${ALICE}\n` }).status).toBe(0);
  expect(crewvault(['user', 'add', 'bob', '--role', 'technician', '--vault', vault, '--as', 'alice'], { input: `${ALICE}\n${ONE_TIME}\n` }).status).toBe(0);
  expect(crewvault(['passwd', '--vault', vault, '--as', 'bob'], { input: `${ONE_TIME}\n${BOB}\n` }).status).toBe(0);
  const add = crewvault(['add', '--vault', vault, '--as', 'alice', '--customer', 'Acme', '--title', 'VPN', '--username', 'ops', '--password-prompt', '--otp', '-'],
    { input: `${ALICE}\n${ENTRY_PASSWORD}\n${RFC}\n` });
  expect(add.status).toBe(0);
});

describe('crewvault backup and restore', () => {
  it('backs up, verifies and restores; the copy signs in as alice and bob and answers as the original', () => {
    const made = backUp(`${ALICE}\n${BACKUP}\n`);
    expect(made.stderr).toBe('');
    expect(made.stdout).toBe(`Backed up ${vault} to ${backupFile}: 2 users, 1 group, 1 entry, ${made.stdout.match(/(\d+) audit rows/)?.[1]} audit rows. Keep the backup password apart from the file: without it nothing in the backup can be opened.\n`);
    expect(made.status).toBe(0);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(backupFile).includes(Buffer.from(ENTRY_PASSWORD))).toBe(false);

    const verified = crewvault(['backup', 'verify', backupFile], { input: `${BACKUP}\n` });
    expect(verified).toMatchObject({ status: 0, stderr: '' });
    expect(verified.stdout).toMatch(/^Backup intact: vault [0-9a-f]{32} \(schema \d+\) as of \d{4}-\d\d-\d\dT[\d:.]+Z: 2 users, 1 group, 1 entry, \d+ audit rows; SQLite's integrity check and every audit link verified\.\n$/);

    const restored = path.join(folder, 'restored.crewvault');
    const restore = crewvault(['restore', backupFile, '--vault', restored], { input: `${BACKUP}\n` });
    expect(restore).toMatchObject({ status: 0, stderr: '' });
    expect(restore.stdout).toMatch(new RegExp(`^Restored ${backupFile} to ${restored}: vault [0-9a-f]{32} as of [^,]+, 2 users, 1 group, 1 entry, \\d+ audit rows\\.\\n$`));
    expect(statSync(restored).mode & 0o777).toBe(0o600);

    for (const [who, password] of [['alice', ALICE], ['bob', BOB]] as const) {
      for (const args of [['list'], ['show', 'Acme/VPN', '--reveal'], ['otp', 'Acme/VPN', '--at', '59']]) {
        const original = on(vault, who, password, ...args);
        expect(original.status, `${who} ${args.join(' ')}`).toBe(0);
        expect(on(restored, who, password, ...args), `${who} ${args.join(' ')}`).toEqual(original);
      }
    }
    expect(on(restored, 'alice', ALICE, 'show', 'Acme/VPN', '--reveal').stdout).toContain(`Password:  ${ENTRY_PASSWORD}\n`);
    expect(on(restored, 'alice', ALICE, 'otp', 'Acme/VPN', '--at', '59').stdout).toBe('287082\n');
    expectFailure(on(restored, 'bob', ONE_TIME, 'list'), 'WRONG_PASSWORD');
    // The copy's log holds the backup's own row, and its chain verifies.
    expect(on(restored, 'alice', ALICE, 'audit').stdout).toMatch(/ alice {2}vault\.backup {2}to .+team\.cvbackup\n/);
    expect(crewvault(['audit', 'verify', '--vault', restored]).stdout).toMatch(/^Audit log intact: \d+ rows, every link verified\.\n$/);
  });

  it('refuses with one line and a stable code, and writes nothing', () => {
    expectFailure(backUp(`${BOB}\n${BACKUP}\n`, '--as', 'bob'), 'FORBIDDEN');
    expectFailure(backUp(`${ALICE}\nshort\n`), 'INVALID_INPUT');
    expectFailure(backUp(`not alice's\n${BACKUP}\n`), 'WRONG_PASSWORD');
    expect(existsSync(backupFile)).toBe(false);

    expect(backUp(`${ALICE}\n${BACKUP}\n`).status).toBe(0);
    // Checked before any password is read (there is none on stdin here).
    expectFailure(backUp(''), 'ALREADY_EXISTS');
    expectFailure(crewvault(['backup', 'verify', backupFile], { input: 'not the backup password\n' }), 'WRONG_PASSWORD');
    const restored = path.join(folder, 'restored.crewvault');
    expectFailure(crewvault(['restore', backupFile, '--vault', restored], { input: 'not the backup password\n' }), 'WRONG_PASSWORD');
    expectFailure(crewvault(['restore', backupFile, '--vault', vault]), 'VAULT_EXISTS');
    expectFailure(crewvault(['restore', backupFile, '--vault', path.join(folder, 'nowhere', 'v.crewvault')]), 'INVALID_INPUT');

    const bytes = readFileSync(backupFile);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 1] = (flipped[bytes.length - 1] ?? 0) ^ 0x80;
    const altered = path.join(folder, 'altered.cvbackup');
    writeFileSync(altered, flipped);
    expectFailure(crewvault(['restore', altered, '--vault', restored], { input: `${BACKUP}\n` }), 'WRONG_PASSWORD');
    writeFileSync(altered, 'not a backup');
    expectFailure(crewvault(['backup', 'verify', altered], { input: `${BACKUP}\n` }), 'VAULT_CORRUPT');
    expect(readdirSync(folder).sort()).toEqual(['altered.cvbackup', 'team.crewvault', 'team.cvbackup']);

    expectFailure(crewvault(['backup', '--vault', vault]), 'USAGE', 2);
    expectFailure(crewvault(['backup', 'verify', backupFile, '--vault', vault]), 'USAGE', 2);
    expectFailure(crewvault(['backup', 'a.cvbackup', 'b.cvbackup', '--vault', vault]), 'USAGE', 2);
    expectFailure(crewvault(['backup', path.join(folder, 'b.cvbackup'), '--vault', vault, '--kdf-memory', '8']), 'USAGE', 2);
    expectFailure(crewvault(['restore', backupFile]), 'USAGE', 2);
    expect(crewvault(['--help']).stdout).toMatch(/\n {2}backup {3}.+\n {2}restore {2}.+\n/);
  });
});
