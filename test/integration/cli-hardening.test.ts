// Issue #10's "Low" findings and #11, end to end through the real binary: bounded import
// input (files, devices, stdin) with every problem named by its line; secrets refused as
// arguments; damaged KDF records and non-file vault paths as clear errors; a closed stdout
// pipe; our own one-line message for a bad option. Secrets go on stdin or in files; the only
// key ever put in an argument is RFC 6238's public test key, to prove it is refused unechoed.
import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/main';
import { crewvault, type CliResult } from '../support/cli';
import { crewvaultStreamed } from '../support/cli-stream';
import { tempFolder } from '../support/vault';

const PW = 'pw for the hardening tests';
/** RFC 6238's published test key ("12345678901234567890"): public, so safe to show it is refused. */
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const MiB = 1024 * 1024;
let folder: string;
let vault: string;

function as(input: string, command: string, ...rest: string[]): CliResult {
  return crewvault([command, '--vault', vault, ...rest], { input });
}

function expectOneLineFailure(result: { status: number | null; stdout: string; stderr: string }, code: string, status: number): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^crewvault: ${code}: [^\\n]+\\n$`));
  expect(result.status).toBe(status);
}

/** How many audit rows the vault holds (no password needed): proves nothing was written. */
function auditRows(): number {
  const verify = as('', 'audit', 'verify');
  const rows = /intact: (\d+) rows/.exec(verify.stdout)?.[1];
  if (rows === undefined) throw new Error(`audit verify failed: ${verify.stderr}`);
  return Number(rows);
}

beforeEach(() => {
  folder = tempFolder();
  vault = path.join(folder, 'team.crewvault');
  expect(as(`${PW}\n`, 'init', '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1').status).toBe(0);
});

describe('import reads a bounded stream and names every bad line', () => {
  it('stops reading /dev/zero at 64 MiB and writes nothing', () => {
    const before = auditRows();
    const result = as(`${PW}\n`, 'import', '--format', 'otpauth', '/dev/zero');
    expect(result).toEqual({ status: 1, stdout: '', stderr: 'crewvault: INVALID_INPUT: /dev/zero is larger than 64 MiB; nothing was imported.\n' });
    expect(auditRows()).toBe(before);
  });

  it('refuses a regular file over 64 MiB before reading it', () => {
    const file = path.join(folder, 'huge.txt');
    writeFileSync(file, '');
    truncateSync(file, 64 * MiB + 1);
    expect(as(`${PW}\n`, 'import', '--format', 'otpauth', file)).toEqual({
      status: 1, stdout: '', stderr: `crewvault: INVALID_INPUT: ${file} is larger than 64 MiB; nothing was imported.\n`,
    });
  });

  it('refuses a folder given as FILE in one line', () => {
    expectOneLineFailure(as(`${PW}\n`, 'import', '--format', 'otpauth', folder), 'INVALID_INPUT', 1);
    expect(as(`${PW}\n`, 'import', '--format', 'otpauth', folder).stderr).toContain(`${folder} is a folder, not a file`);
  });

  it('reads "-" from stdin after the password line', () => {
    const input = `${PW}\notpauth://totp/GitHub:octo?secret=${RFC}\n# a comment\notpauth://totp/Bank:me?secret=${RFC}\n`;
    expect(as(input, 'import', '--format', 'otpauth', '-')).toEqual({ status: 0, stdout: 'Imported 2 entries; skipped 0 lines.\n', stderr: '' });
    expect(as(`${PW}\n`, 'list').stdout).toBe('Bank/Bank\tme\t\tTOTP\nGitHub/GitHub\tocto\t\tTOTP\n');
  });

  it('stops reading an endless stdin at 64 MiB, having written nothing', async () => {
    const before = auditRows();
    const line = `otpauth://totp/Gen:x?secret=${RFC}\n`;
    const chunk = line.repeat(Math.floor(MiB / line.length));
    const offered = 512 * MiB;
    function* endless(): Generator<string> {
      yield `${PW}\n`;
      for (let sent = 0; sent < offered; sent += chunk.length) yield chunk;
    }
    const result = await crewvaultStreamed(['import', '--vault', vault, '--format', 'otpauth', '-'], { input: endless() });
    expect(result).toMatchObject({ status: 1, stdout: '', stderr: 'crewvault: INVALID_INPUT: Standard input is larger than 64 MiB; nothing was imported.\n' });
    // It stopped near the bound instead of draining what it was offered (pipe buffers aside).
    expect(result.bytesFed).toBeLessThan(96 * MiB);
    expect(auditRows()).toBe(before);
  });

  it('checks every field per line: bad lines are named, the good ones commit together', () => {
    const file = path.join(folder, 'codes.txt');
    writeFileSync(file, [
      `otpauth://totp/GitHub:octo?secret=${RFC}`,
      `otpauth://totp/${'C'.repeat(201)}:me?secret=${RFC}`,
      `otpauth://totp/Acme:${'u'.repeat(501)}?secret=${RFC}`,
      `otpauth://totp/Ac%07me:bell?secret=${RFC}`,
      `otpauth://totp/Acme:${'x'.repeat(70_000)}?secret=${RFC}`,
      `otpauth://totp/Bank:me?secret=${RFC}`,
    ].join('\n'));
    // A file is taken whole or not at all: every bad line is named, nothing is written.
    const refused = as(`${PW}\n`, 'import', '--format', 'otpauth', file);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    const refusedLines = refused.stderr.split('\n').filter(Boolean);
    expect(refusedLines.slice(0, 4).map((l) => l.slice(0, 41))).toEqual(['crewvault: cannot import: Line 2: Custome', 'crewvault: cannot import: Line 3: Usernam', 'crewvault: cannot import: Line 4: Custome', 'crewvault: cannot import: Line 5: the lin']);
    expect(refusedLines[4]).toBe('crewvault: INVALID_INPUT: 4 lines cannot be imported (listed above), so nothing was imported: fix them, or pass --skip-bad to import the other 2 entries without them.');
    expect(refusedLines).toHaveLength(5);
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
    const dryRun = as(`${PW}\n`, 'import', '--format', 'otpauth', file, '--dry-run');
    expect(dryRun).toMatchObject({ status: 1, stdout: 'Would import nothing: 4 lines cannot be imported (listed above); with --skip-bad, would import the other 2 entries into Default. Nothing was written.\n' });
    // Told to, it imports the rest: the same lines named, as skipped.
    const result = as(`${PW}\n`, 'import', '--format', 'otpauth', file, '--skip-bad');
    expect(result.stdout).toBe('Imported 2 entries; skipped 4 lines.\n');
    // The field's own message (service.ts field()), after the line it came from.
    const problems = result.stderr.split('\n').filter(Boolean);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe('crewvault: skipped: Line 2: Customer is longer than 200 characters.');
    expect(problems[1]).toBe('crewvault: skipped: Line 3: Username is longer than 500 characters.');
    expect(problems[2]).toMatch(/^crewvault: skipped: Line 4: Customer [^\n]*(control|U\+0007)/);
    expect(problems[3]).toBe('crewvault: skipped: Line 5: the line is longer than 65536 characters (not an otpauth URI).');
    expect(result.status).toBe(1);
    expect(as(`${PW}\n`, 'list').stdout).toBe('Bank/Bank\tme\t\tTOTP\nGitHub/GitHub\tocto\t\tTOTP\n');
  });

  it('names the line of a bad title even with --customer', () => {
    const file = path.join(folder, 'codes.txt');
    writeFileSync(file, `otpauth://totp/${'T'.repeat(201)}:me?secret=${RFC}\notpauth://totp/Ok:me?secret=${RFC}\n`);
    const result = as(`${PW}\n`, 'import', '--format', 'otpauth', file, '--customer', 'Acme', '--skip-bad');
    expect(result).toEqual({ status: 1, stdout: 'Imported 1 entry; skipped 1 line.\n', stderr: 'crewvault: skipped: Line 1: Title is longer than 200 characters.\n' });
  });
});

describe('secrets are never arguments', () => {
  it.each([
    [['--otp', RFC]],
    [[`--otp=otpauth://totp/Acme:me?secret=${RFC}`]],
  ])('add %j is refused with exit 2, unechoed, and adds nothing', (otp) => {
    const result = as(`${PW}\n`, 'add', '--customer', 'Acme', '--title', 'VPN', ...otp);
    expectOneLineFailure(result, 'USAGE', 2);
    expect(result.stderr).toContain('--otp takes only "-"');
    expect(result.stderr).not.toContain(RFC);
    expect(as(`${PW}\n`, 'list').stdout).toBe('');
  });

  it('add takes the OTP key from stdin with --otp -', () => {
    expect(as(`${PW}\n${RFC}\n`, 'add', '--customer', 'Acme', '--title', 'VPN', '--otp', '-').status).toBe(0);
    expect(as(`${PW}\n`, 'otp', 'Acme/VPN', '--at', '59').stdout).toBe('287082\n');
  });

  it.each([
    [[RFC]],
    [[`otpauth://totp/Acme:me?secret=${RFC}`]],
    [[`steam://${RFC}`]],
  ])('code %j is refused with exit 2, unechoed', (secret) => {
    const result = crewvault(['code', ...secret, '--at', '59']);
    expectOneLineFailure(result, 'USAGE', 2);
    expect(result.stderr).toContain('code -');
    expect(result.stderr).not.toContain(RFC);
  });

  it.each([
    ['passwd', 'placeholder-new-password'],
    ['add', '--customer', 'Acme', '--title', 'VPN', '--password-prompt', 'placeholder-entry-password'],
    ['list', 'placeholder-stray-value'],
  ])('%s: a stray argument (perhaps a secret in the wrong place) is refused without being shown', (command, ...rest) => {
    const result = as(`${PW}\n`, command, ...rest);
    expectOneLineFailure(result, 'USAGE', 2);
    expect(result.stderr).not.toContain('placeholder');
  });

  it('code reads the key or URI from stdin with "-"', () => {
    expect(crewvault(['code', '-', '--at', '59'], { input: `${RFC}\n` })).toEqual({ status: 0, stdout: '287082\n', stderr: '' });
    expect(crewvault(['code', '-', '--at', '59'], { input: `otpauth://totp/A:b?secret=${RFC}&digits=8\n` }).stdout).toBe('94287082\n');
  });
});

describe('what is not a vault gives a clear line, not INTERNAL', () => {
  /** Replaces alice's stored KDF record with `kdf` (the real file, edited as an attacker or a bad disk would). */
  function setKdf(kdf: string): void {
    const db = new Database(vault);
    try {
      db.prepare('UPDATE users SET kdf = ? WHERE name = ?').run(kdf, 'alice');
    } finally {
      db.close();
    }
  }
  const good = { algorithm: 'argon2id', memory: 1024, iterations: 1, parallelism: 1, salt: Buffer.alloc(16, 7).toString('base64') };

  it.each([
    ['memory 0', JSON.stringify({ ...good, memory: 0 })],
    ['memory -1', JSON.stringify({ ...good, memory: -1 })],
    ['memory 1.5', JSON.stringify({ ...good, memory: 1.5 })],
    ['memory under 1024 KiB', JSON.stringify({ ...good, memory: 1023 })],
    ['memory 2^32-1', JSON.stringify({ ...good, memory: 2 ** 32 - 1 })],
    ['iterations 0', JSON.stringify({ ...good, iterations: 0 })],
    ['iterations 2^32-1', JSON.stringify({ ...good, iterations: 2 ** 32 - 1 })],
    ['parallelism 0', JSON.stringify({ ...good, parallelism: 0 })],
    ['parallelism 1.5', JSON.stringify({ ...good, parallelism: 1.5 })],
    ['parallelism 2^24', JSON.stringify({ ...good, parallelism: 2 ** 24 })],
    ['a short salt', JSON.stringify({ ...good, salt: Buffer.alloc(8, 7).toString('base64') })],
    ['a salt that is not base64', JSON.stringify({ ...good, salt: '!'.repeat(24) })],
    ['a string for memory', JSON.stringify({ ...good, memory: '1024' })],
    ['JSON null', 'null'],
    ['not JSON', '{"algorithm": "argon2id", '],
  ])('a KDF record with %s is VAULT_CORRUPT', (_name, kdf) => {
    setKdf(kdf);
    const result = as(`${PW}\n`, 'list');
    expectOneLineFailure(result, 'VAULT_CORRUPT', 1);
  });

  it('the intact KDF record still opens (the checks refuse only what is wrong)', () => {
    setKdf(JSON.stringify(good));
    // A different salt derives a different key: the password no longer opens it, and says so.
    expectOneLineFailure(as(`${PW}\n`, 'list'), 'WRONG_PASSWORD', 1);
  });

  it('a folder as --vault is one clear line', () => {
    const list = crewvault(['list', '--vault', folder], { input: `${PW}\n` });
    expectOneLineFailure(list, 'VAULT_MISSING', 1);
    expect(list.stderr).toContain(`${folder} is a folder, not a vault file`);
    const init = crewvault(['init', '--vault', folder, '--user', 'bob'], { input: `${PW}\n` });
    expectOneLineFailure(init, 'VAULT_EXISTS', 1);
    expect(init.stderr).toContain(`${folder} is a folder, not a vault file`);
  });

  it('a pipe or a device as --vault is refused without opening it', async () => {
    const fifo = path.join(folder, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading would wait for a writer for ever: it must not be opened at all.
    const result = await crewvaultStreamed(['list', '--vault', fifo], { input: [`${PW}\n`], timeoutMs: 20_000 });
    expectOneLineFailure(result, 'VAULT_MISSING', 1);
    expect(result.stderr).toContain('not a regular file');
    expectOneLineFailure(crewvault(['list', '--vault', '/dev/null'], { input: `${PW}\n` }), 'VAULT_MISSING', 1);
  });

  it('a path under a file is one clear line', () => {
    const file = path.join(folder, 'plain');
    writeFileSync(file, 'x');
    expectOneLineFailure(crewvault(['list', '--vault', path.join(file, 'v.crewvault')], { input: `${PW}\n` }), 'VAULT_MISSING', 1);
    expectOneLineFailure(crewvault(['init', '--vault', path.join(file, 'v.crewvault'), '--user', 'bob'], { input: `${PW}\n` }), 'INVALID_INPUT', 1);
  });

  it('init refuses KDF settings the vault would not open', () => {
    const other = path.join(folder, 'other.crewvault');
    expectOneLineFailure(crewvault(['init', '--vault', other, '--user', 'bob', '--kdf-memory', String(2 ** 32)], { input: `${PW}\n` }), 'USAGE', 2);
    expectOneLineFailure(crewvault(['init', '--vault', other, '--user', 'bob', '--kdf-iterations', '1000000'], { input: `${PW}\n` }), 'USAGE', 2);
  });
});

describe('a closed stdout pipe ends quietly (crewvault list | head -1)', () => {
  it.each([
    ['list', (): string[] => ['list', '--vault', vault], (): string => `${PW}\n`],
    ['audit', (): string[] => ['audit', '--vault', vault], (): string => `${PW}\n`],
    ['code -', (): string[] => ['code', '-', '--at', '59'], (): string => `${RFC}\n`],
    ['help', (): string[] => ['--help'], (): string => ''],
    ['list --json', (): string[] => ['list', '--vault', vault, '--json'], (): string => `${PW}\n`],
    ['show --json', (): string[] => ['show', '--vault', vault, 'Acme/Entry 0', '--json'], (): string => `${PW}\n`],
    ['audit --json', (): string[] => ['audit', '--vault', vault, '--json'], (): string => `${PW}\n`],
    ['export -', (): string[] => ['export', '--vault', vault, '--format', 'keepassxc-csv', '--plaintext', '-'], (): string => `${PW}\n${PW}\n`],
    ['completion bash', (): string[] => ['completion', 'bash'], (): string => ''],
    ['completion zsh', (): string[] => ['completion', 'zsh'], (): string => ''],
    ['completion fish', (): string[] => ['completion', 'fish'], (): string => ''],
  ])('%s: exit 0, nothing on stderr', async (name, args, input) => {
    for (let i = 0; i < 3; i++) as(`${PW}\n`, 'add', '--customer', 'Acme', '--title', `Entry ${i}`, '--username', 'u'.repeat(400));
    const result = await crewvaultStreamed(args(), { input: [input()], closeStdout: true });
    // export's summary is its own stderr line beside the export on stdout: nothing else.
    expect(result).toMatchObject({ status: 0, stderr: name === 'export -' ? 'Exported 3 entries (keepassxc-csv).\n' : '' });
  });
});

describe('crewvault … | head through a real shell pipe, eight runs each (the issue saw a stack trace in 4 of 8)', () => {
  it('list | head -1, audit | head -3, export - | head -1 and completion | head -1: only the lines head took, crewvault exits 0, nothing on stderr', () => {
    // 1,500 entries make list print about 150 KiB, more than a pipe holds, so crewvault is still
    // writing when head exits: every run meets the closed pipe, not only the unlucky ones.
    const lines = Array.from({ length: 1500 }, (_, i) => `otpauth://totp/Issuer${String(i).padStart(4, '0')}:${'account-'.repeat(8)}${i}?secret=${RFC}`);
    expect(as(`${PW}\n${lines.join('\n')}\n`, 'import', '--format', 'otpauth', '-').stdout).toBe('Imported 1500 entries; skipped 0 lines.\n');
    const passwordFile = path.join(folder, 'password');
    writeFileSync(passwordFile, `${PW}\n${PW}\n`, { mode: 0o600 });
    const full = as(`${PW}\n`, 'list').stdout;
    expect(full.length).toBeGreaterThan(128 * 1024);
    // export says what it wrote on stderr, beside the export itself on stdout.
    const cases: ReadonlyArray<readonly [string, number, string]> = [
      ['list --vault "$V"', 1, ''], ['audit --vault "$V"', 3, ''], ['--help', 1, ''],
      ['export --vault "$V" --format otpauth --plaintext -', 1, 'Exported 1500 entries (otpauth).\n'],
      ['completion bash', 1, ''], ['completion fish', 1, ''],
    ];
    for (const [command, keep, said] of cases) {
      for (let run = 0; run < 8; run++) {
        const out = spawnSync('bash', ['-c', `"$NODE" "$BIN" ${command} < "$PWFILE" | head -${keep}; echo "crewvault exited \${PIPESTATUS[0]}" >&2`], {
          encoding: 'utf8',
          env: { ...process.env, NODE: process.execPath, BIN: path.resolve(import.meta.dirname, '../../bin/crewvault.mjs'), V: vault, PWFILE: passwordFile },
          timeout: 60_000,
        });
        expect(out.stderr, `${command} run ${run}`).toBe(`${said}crewvault exited 0\n`);
        expect(out.stdout.split('\n'), `${command} run ${run}`).toHaveLength(keep + 1);
        if (command.startsWith('list')) expect(out.stdout).toBe(`${full.split('\n')[0] ?? ''}\n`);
      }
    }
  }, 240_000);
});

describe('a bad option is our one line, not parseArgs text', () => {
  it.each([
    [['list', '--frobnicate'], 'unknown option --frobnicate (see "crewvault list --help")'],
    [['list', '--frobnicate=some value'], 'unknown option --frobnicate (see "crewvault list --help")'],
    [['list', '-x'], 'unknown option -x (see "crewvault list --help")'],
    [['list', '--vault'], '--vault needs a value (see "crewvault list --help")'],
    [['list', '--vault', '--json'], '--vault needs a value (see "crewvault list --help")'],
    [['list', '--json=yes'], '--json takes no value (see "crewvault list --help")'],
    [['code', '-', '--steam=1'], '--steam takes no value (see "crewvault code --help")'],
  ])('%j', (args, message) => {
    expect(crewvault(args, { input: `${PW}\n` })).toEqual({ status: 2, stdout: '', stderr: `crewvault: USAGE: ${message}\n` });
  });
});

/**
 * One command in-process, in this test's folder (its own HOME, runtime and config folders, so
 * no login or agent of the machine is found). Any password asked fails the run with an error
 * that is not a usage mistake: an exit 2 also proves none was asked.
 */
async function inProcess(args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, {
    out: (text) => { stdout += text; },
    err: (text) => { stderr += text; },
    readStdin: () => Promise.reject(new Error('no input should be read')),
    readSecret: () => Promise.reject(new Error('no password should be asked')),
    interactive: false,
    now: () => Date.now(),
    env: { HOME: folder, XDG_RUNTIME_DIR: folder, XDG_CONFIG_HOME: folder, XDG_DATA_HOME: folder },
  });
  return { status, stdout, stderr };
}

/** Every command, and every subcommand with options of its own, as far as its options are read. */
const EVERY_COMMAND: readonly (readonly string[])[] = [
  ['code', '-'], ['init'], ['add'], ['list'], ['otp'], ['show'], ['rm'], ['import'], ['export'], ['audit'], ['audit', 'verify'],
  ['backup'], ['backup', 'verify'], ['restore'], ['move'], ['passwd'], ['role', 'list'], ['role', 'define'],
  ...['add', 'list', 'disable', 'role', 'reset-password', 'bind'].map((sub) => ['user', sub]),
  ...['add', 'list', 'grant', 'revoke', 'members', 'lead', 'unlead', 'rename', 'delete', 'set'].map((sub) => ['group', sub]),
  ...['begin', 'confirm', 'status', 'recovery-codes', 'regenerate', 'off', 'reset', 'emergency'].map((sub) => ['mfa', sub]),
  ['policy', 'mfa'], ['settings'], ['serve'], ['server'], ['server', 'code-key', 'show'], ['server', 'code-key', 'rotate'], ['server', 'code-key', 'delete-old'],
  ['login'], ['whoami'], ['logout'], ['sync'], ['join'],
  ['team', 'token', 'create'], ['team', 'token', 'list'], ['team', 'token', 'revoke'], ['team', 'mfa', 'list'], ['team', 'mfa', 'reset'],
  ['team', 'mfa', 'grant'], ['team', 'mfa', 'policy'], ['team', 'devices'], ['team', 'forget'], ['team', 'key'],
  ['unlock'], ['lock'], ['completion', 'bash'],
];

describe('every command: a usage mistake (a bad option, a missing name) is one USAGE line, before any password, session or server', () => {
  it('the list below names every command "crewvault --help" lists', async () => {
    const help = (await inProcess(['--help'])).stdout;
    const listed = [...help.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]);
    expect(new Set(EVERY_COMMAND.map(([name]) => name))).toEqual(new Set(listed));
  });

  it.each(EVERY_COMMAND.map((words) => [words.join(' '), words] as const))('%s --frob', async (_name, words) => {
    expect(await inProcess([...words, '--frob', '--vault', vault])).toEqual({
      status: 2, stdout: '', stderr: `crewvault: USAGE: unknown option --frob (see "crewvault ${words[0] ?? ''} --help")\n`,
    });
  });

  it.each([
    [['group', 'add'], '"group add" needs a GROUP'],
    [['group', 'members'], '"group members" needs a GROUP'],
    [['group', 'delete'], '"group delete" needs a GROUP'],
    [['group', 'set', '--server-codes', 'on'], '"group set" needs a GROUP'],
    [['user', 'add', '--role', 'technician'], '"user add" needs a NAME'],
    [['user', 'disable'], '"user disable" needs a NAME'],
    [['user', 'role'], '"user role" needs a NAME'],
    [['user', 'role', 'bob'], 'ROLE is one of owner, admin, team_lead, technician, codes_only, auditor or a custom role'],
    [['user', 'reset-password'], '"user reset-password" needs a NAME'],
  ])('%j names what is missing without asking for the password first', async (words, message) => {
    expect(await inProcess([...words, '--vault', vault])).toEqual({
      status: 2, stdout: '', stderr: `crewvault: USAGE: ${message} (see "crewvault ${words[0] ?? ''} --help")\n`,
    });
  });
});
