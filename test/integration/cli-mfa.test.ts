// `crewvault mfa` and `crewvault policy mfa` on real vault files. Setup as two processes of the
// real binary; everything else in-process through runCli with a clock the test moves (codes
// need later steps, emergency codes expire), never the wall clock. TOTP codes come from
// oathtool (OATH Toolkit), independent of the engine under test.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/main';
import { crewvault, type CliResult } from '../support/cli';
import { manualClock, tempFolder } from '../support/vault';
import { holdsSecret } from '../support/secrets';

const ALICE = 'alice pass 123';
const BOB = 'bob chose this';
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // a step boundary
const STEP_MS = 30_000;
const RECOVERY = /^[A-Z2-9]{5}-[A-Z2-9]{5}$/;
const SEE_AGAIN = 'They stay viewable with "crewvault mfa recovery-codes" until you run "crewvault mfa recovery-codes --seen".\n';
const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');

let vault: string;
let clock: ReturnType<typeof manualClock>;

/** The TOTP code (SHA-1, 6 digits, 30 s) for a key at a time, from oathtool. */
function totp(key: string, atMs: number): string {
  return execFileSync('oathtool', ['--totp', '-b', '--now', `@${Math.floor(atMs / 1000)}`, key.replace(/\s/g, '')], { encoding: 'utf8' }).trim();
}

/** A 6-digit code no step around `atMs` yields, so it is wrong for certain. */
function wrongCode(key: string, atMs: number): string {
  const near = new Set([-1, 0, 1].map((s) => totp(key, atMs + s * STEP_MS)));
  let guess = 0;
  while (near.has(String(guess).padStart(6, '0'))) guess++;
  return String(guess).padStart(6, '0');
}

/** One command, in-process: each line of `input` answers one secret prompt, in order. */
async function cli(args: readonly string[], input: readonly string[] = []): Promise<CliResult> {
  const lines = [...input];
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, {
    out: (text) => { stdout += text; },
    err: (text) => { stderr += text; },
    readStdin: () => Promise.resolve(Buffer.from(lines.join('\n'))),
    // Not a usage error, so a test that expects exit 2 also proves no password was asked.
    readSecret: () => (lines.length > 0 ? Promise.resolve(lines.shift() ?? '') : Promise.reject(new Error('the test gave no more input'))),
    interactive: false,
    now: () => clock.now(),
    env: {},
  });
  return { status, stdout, stderr };
}

/** `crewvault COMMAND --vault … --as WHO REST…`, with WHO's password on "stdin". */
function as(who: string, password: string, command: string, ...rest: string[]): Promise<CliResult> {
  return cli([command, '--vault', vault, '--as', who, ...rest], [password]);
}

function expectFailure(result: CliResult, code: string, status = 1): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^crewvault: ${code}: [^\\n]+\\n$`));
  expect(result.status).toBe(status);
}

/** Sets up an authenticator for `who` with begin and confirm; returns its key and recovery codes. */
async function enrol(who: string, password: string, ...signIn: string[]): Promise<{ key: string; recovery: string[] }> {
  const begin = await as(who, password, 'mfa', 'begin', ...signIn);
  expect(begin.status).toBe(0);
  const key = /^Key: ([A-Z2-7 ]+)$/m.exec(begin.stdout)?.[1] ?? '';
  clock.advance(STEP_MS);
  const confirm = await as(who, password, 'mfa', 'confirm', '--code', totp(key, clock.now()));
  expect(confirm.status).toBe(0);
  return { key, recovery: confirm.stdout.split('\n').filter((line) => RECOVERY.test(line)) };
}

/** The next step's code: each code is accepted once, so every use moves the clock on a step. */
function nextCode(key: string): string {
  clock.advance(STEP_MS);
  return totp(key, clock.now());
}

beforeEach(async () => {
  clock = manualClock(T0);
  vault = path.join(tempFolder(), 'team.crewvault');
  expect((await cli(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], [ALICE])).status).toBe(0);
  expect((await cli(['user', 'add', 'bob', '--role', 'technician', '--vault', vault, '--as', 'alice'], [ALICE, 'one-time 1'])).status).toBe(0);
  expect((await cli(['passwd', '--vault', vault, '--as', 'bob'], ['one-time 1', BOB])).status).toBe(0);
});

describe('setting up an authenticator', () => {
  it('begins and confirms in two runs of the real binary', () => {
    const run = (...args: string[]): CliResult => crewvault([args[0] ?? '', '--vault', vault, '--as', 'bob', ...args.slice(1)], { input: `${BOB}\n` });
    const begin = run('mfa', 'begin');
    expect(begin).toMatchObject({ status: 0, stderr: '' });
    const [uri = '', keyLine = '', ...instructions] = begin.stdout.split('\n');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Crewvault:bob\?/);
    expect(keyLine).toMatch(/^Key: ([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const key = keyLine.slice('Key: '.length);
    expect(new URL(uri).searchParams.get('secret')).toBe(key.replace(/ /g, ''));
    expect(instructions.join('\n')).toContain('within 30 minutes run:\n  crewvault mfa confirm --code CODE\n');

    // The wall clock here (a separate process), so allow the ±1 step the service allows.
    const wrong = run('mfa', 'confirm', '--code', wrongCode(key, Date.now()));
    expect(wrong).toMatchObject({ status: 1, stdout: '', stderr: 'crewvault: WRONG_CODE: That code is not right (or was already used).\n' });
    expect(JSON.parse(run('mfa', 'status', '--json').stdout)).toEqual({ enabled: false, recoveryCodesLeft: 0, policy: 'optional' });

    const confirm = run('mfa', 'confirm', '--code', totp(key, Date.now()));
    expect(confirm).toMatchObject({ status: 0, stderr: SEE_AGAIN });
    const lines = confirm.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Two-step sign-in is on for bob.');
    expect(lines.slice(2)).toHaveLength(10);
    for (const code of lines.slice(2)) expect(code).toMatch(RECOVERY);
    expect(run('list')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^crewvault: MFA_REQUIRED: /) as string });
  });

  it('loses no recovery code to a reader that stops early (mfa confirm | head -3): they stay viewable until marked seen', () => {
    const run = (...args: string[]): CliResult => crewvault([args[0] ?? '', '--vault', vault, '--as', 'bob', ...args.slice(1)], { input: `${BOB}\n` });
    const key = /^Key: (.+)$/m.exec(run('mfa', 'begin').stdout)?.[1] ?? '';
    // A real pipe: head takes three lines and exits, closing it; what the vault committed after is not lost.
    const piped = spawnSync('bash', ['-o', 'pipefail', '-c', `"$0" "$@" | head -3`, process.execPath, BIN, 'mfa', 'confirm', '--code', totp(key, Date.now()), '--vault', vault, '--as', 'bob'],
      { input: `${BOB}\n`, encoding: 'utf8' });
    expect(piped).toMatchObject({ status: 0, stderr: SEE_AGAIN });
    const shown = piped.stdout.trimEnd().split('\n');
    expect(shown.slice(0, 2)).toEqual(['Two-step sign-in is on for bob.', 'Recovery codes: each works once in place of a code. Keep them safe.']);
    const first = shown[2] ?? '';
    expect(first).toMatch(RECOVERY);

    // Shown again, all ten, in full: signing in with the one head let through, so nine are left.
    const again = crewvault(['mfa', 'recovery-codes', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], { input: `${BOB}\n${first}\n` });
    expect(again).toMatchObject({ status: 0, stderr: 'Once they are kept safe, run "crewvault mfa recovery-codes --seen".\n' });
    const [heading = '', ...codes] = again.stdout.trimEnd().split('\n');
    expect(heading).toBe('9 of 10 recovery codes left. Not yet marked seen; each works once:');
    expect(codes).toHaveLength(9);
    for (const code of codes) expect(code).toMatch(RECOVERY);
    expect(codes).not.toContain(first);
    // Each of them works (one shown here only by "recovery-codes" proves it), and is then used up.
    const second = codes[8] ?? '';
    const seen = crewvault(['mfa', 'recovery-codes', '--seen', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], { input: `${BOB}\n${second}\n` });
    expect(seen).toEqual({ status: 0, stderr: '', stdout: '8 of 10 recovery codes left. Marked seen: they are kept only as hashes now and cannot be shown again.\n' });
    const third = codes[0] ?? '';
    expect(crewvault(['mfa', 'recovery-codes', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], { input: `${BOB}\n${third}\n` })).toEqual({
      status: 0, stderr: '', stdout: '7 of 10 recovery codes left. They are kept only as hashes, so they cannot be shown again: "crewvault mfa regenerate" prints new ones.\n',
    });
    // Nothing of them is left in the file but the hashes.
    const file = readFileSync(vault);
    for (const code of codes) expect(file.includes(Buffer.from(code))).toBe(false);
    expect(run('mfa', 'recovery-codes', '--seen', '--json')).toMatchObject({ status: 2 });
  });

  it('keeps MFA off after a wrong confirmation code, and the setup waits 30 minutes', async () => {
    const begin = await as('bob', BOB, 'mfa', 'begin');
    const key = /^Key: (.+)$/m.exec(begin.stdout)?.[1] ?? '';
    expectFailure(await as('bob', BOB, 'mfa', 'confirm', '--code', wrongCode(key, clock.now())), 'WRONG_CODE');
    expect((await as('bob', BOB, 'mfa', 'status')).stdout).toBe('Two-step sign-in: off.\nPolicy for your role: optional.\n');
    expect((await as('bob', BOB, 'list')).status).toBe(0);
    clock.advance(30 * 60_000 + 1);
    expectFailure(await as('bob', BOB, 'mfa', 'confirm', '--code', totp(key, clock.now())), 'INVALID_INPUT');
    expect(JSON.parse((await as('bob', BOB, 'mfa', 'status', '--json')).stdout)).toMatchObject({ enabled: false });
  });

  it('moves to a new device: begin with the current code, confirm with the new one', async () => {
    const old = await enrol('bob', BOB);
    expectFailure(await as('bob', BOB, 'mfa', 'begin'), 'MFA_REQUIRED');
    const begin = await as('bob', BOB, 'mfa', 'begin', '--code', nextCode(old.key));
    expect(begin.stdout).toContain('Your current authenticator keeps working until then.\n');
    const key = /^Key: (.+)$/m.exec(begin.stdout)?.[1] ?? '';
    expect((await as('bob', BOB, 'list', '--code', nextCode(old.key))).status).toBe(0);
    const confirm = await as('bob', BOB, 'mfa', 'confirm', '--code', nextCode(key));
    expect(confirm.stdout).toMatch(/^Two-step sign-in is on for bob with the new authenticator; the old one and its recovery codes no longer work\.\n/);
    expectFailure(await as('bob', BOB, 'list', '--code', nextCode(old.key)), 'WRONG_CODE');
    expectFailure(await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, old.recovery[0] ?? '']), 'WRONG_CODE');
    expect((await as('bob', BOB, 'list', '--code', nextCode(key))).status).toBe(0);
    // Without a started setup, "confirm" proves nothing: a code alone opens no session.
    expectFailure(await as('bob', BOB, 'mfa', 'confirm', '--code', nextCode(key)), 'INVALID_INPUT');
  });

  it('is refused where the policy turns two-step sign-in off', async () => {
    expect((await as('alice', ALICE, 'policy', 'mfa', 'off', '--role', 'technician')).status).toBe(0);
    expectFailure(await as('bob', BOB, 'mfa', 'begin'), 'FORBIDDEN');
  });
});

describe('signing in with an authenticator', () => {
  it('asks for a code, refuses a wrong one, and takes each recovery code once', async () => {
    const { key, recovery } = await enrol('bob', BOB);
    expect(recovery).toHaveLength(10);
    const missing = await as('bob', BOB, 'list');
    expectFailure(missing, 'MFA_REQUIRED');
    expect(missing.stderr).toContain('--code CODE');
    const wrong = wrongCode(key, clock.now());
    const refused = await as('bob', BOB, 'list', '--code', wrong);
    expectFailure(refused, 'WRONG_CODE');
    expect(refused.stderr).not.toContain(wrong);
    expect((await as('bob', BOB, 'list', '--code', nextCode(key))).status).toBe(0);
    // A code already used is not accepted again.
    expectFailure(await as('bob', BOB, 'list', '--code', totp(key, clock.now())), 'WRONG_CODE');

    expect((await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, recovery[0] ?? ''])).status).toBe(0);
    expectFailure(await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, recovery[0] ?? '']), 'WRONG_CODE');
    const unseen = await as('bob', BOB, 'mfa', 'recovery-codes', '--code', nextCode(key));
    expect(unseen.stdout).toBe(`9 of 10 recovery codes left. Not yet marked seen; each works once:\n${recovery.slice(1).join('\n')}\n`);
    expect((await as('bob', BOB, 'mfa', 'recovery-codes', '--seen', '--code', nextCode(key))).stdout)
      .toBe('9 of 10 recovery codes left. Marked seen: they are kept only as hashes now and cannot be shown again.\n');
    expect((await as('bob', BOB, 'mfa', 'recovery-codes', '--code', nextCode(key))).stdout)
      .toBe('9 of 10 recovery codes left. They are kept only as hashes, so they cannot be shown again: "crewvault mfa regenerate" prints new ones.\n');
    expect(JSON.parse((await as('bob', BOB, 'mfa', 'status', '--json', '--code', nextCode(key))).stdout)).toEqual({ enabled: true, recoveryCodesLeft: 9, policy: 'optional' });
    // "-" reads it after the password, so a recovery code never sits in the process list.
    expect((await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, recovery[1] ?? ''])).status).toBe(0);
    expectFailure(await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, recovery[1] ?? '']), 'WRONG_CODE');
    expect((await cli(['list', '--vault', vault, '--as', 'bob', '--code', '-'], [BOB, nextCode(key)])).status).toBe(0);
  });

  it('regenerates recovery codes: ten new ones, the old ones stop working', async () => {
    const { key, recovery } = await enrol('bob', BOB);
    const regenerate = await as('bob', BOB, 'mfa', 'regenerate', '--code', nextCode(key));
    expect(regenerate.status).toBe(0);
    const fresh = regenerate.stdout.split('\n').filter((line) => RECOVERY.test(line));
    expect(fresh).toHaveLength(10);
    expect(fresh.some((code) => recovery.includes(code))).toBe(false);
    expectFailure(await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, recovery[1] ?? '']), 'WRONG_CODE');
    expect((await cli(['list', '--vault', vault, '--as', 'bob', '--recovery-code', '-'], [BOB, (fresh[0] ?? '').toLowerCase()])).status).toBe(0);
  });

  it('turns off, unless the policy requires it', async () => {
    const { key } = await enrol('bob', BOB);
    expect((await as('alice', ALICE, 'policy', 'mfa', 'required', '--role', 'technician')).status).toBe(0);
    expectFailure(await as('bob', BOB, 'mfa', 'off', '--code', nextCode(key)), 'FORBIDDEN');
    expect((await as('alice', ALICE, 'policy', 'mfa', 'optional', '--role', 'technician')).status).toBe(0);
    expect((await as('bob', BOB, 'mfa', 'off', '--code', nextCode(key))).stdout)
      .toBe('Two-step sign-in is off for bob: its key, recovery codes and trusted computers are gone.\n');
    expect((await as('bob', BOB, 'list')).status).toBe(0);
    expect((await as('bob', BOB, 'mfa', 'off')).stdout).toBe('Two-step sign-in was not on for bob.\n');
  });
});

describe('the policy', () => {
  it('required for a role: its people can only set up an authenticator, then need a code', async () => {
    expect((await as('alice', ALICE, 'policy', 'mfa', 'required', '--role', 'Technician')).stdout).toBe('Two-step sign-in is now required for technician.\n');
    expect((await as('alice', ALICE, 'policy', 'mfa')).stdout).toBe('everyone\toptional\ntechnician\trequired\n');
    expect(JSON.parse((await as('alice', ALICE, 'policy', 'mfa', '--json')).stdout)).toEqual({ global: 'optional', roles: { technician: 'required' }, revision: 1 });
    expect((await as('alice', ALICE, 'list')).status).toBe(0); // the owner's role follows "optional"
    // Any spelling of a role is the role, and is said as the vault names it.
    expect((await as('alice', ALICE, 'policy', 'mfa', 'optional', '--role', 'Team lead')).stdout).toBe('Two-step sign-in is now optional for team_lead.\n');
    expect((await as('alice', ALICE, 'policy', 'mfa')).stdout).toBe('everyone\toptional\nteam_lead\toptional\ntechnician\trequired\n');

    // Nothing but begin and confirm until the technician has an authenticator.
    expectFailure(await as('bob', BOB, 'policy', 'mfa'), 'MFA_REQUIRED');
    const refused = await as('bob', BOB, 'list');
    expectFailure(refused, 'MFA_REQUIRED');
    expect(refused.stderr).toContain('crewvault mfa begin');
    expectFailure(await as('bob', BOB, 'mfa', 'status'), 'MFA_REQUIRED');
    const { key } = await enrol('bob', BOB);
    expectFailure(await as('bob', BOB, 'list'), 'MFA_REQUIRED');
    expect((await as('bob', BOB, 'list', '--code', nextCode(key))).status).toBe(0);
  });

  it('lets a newcomer on a one-time password set up first, then choose a password', async () => {
    await as('alice', ALICE, 'policy', 'mfa', 'required', '--role', 'auditor');
    expect((await cli(['user', 'add', 'carol', '--role', 'auditor', '--vault', vault, '--as', 'alice'], [ALICE, 'one-time 2'])).status).toBe(0);
    expectFailure(await cli(['passwd', '--vault', vault, '--as', 'carol'], ['one-time 2', 'carol chose']), 'MFA_REQUIRED');
    const { key } = await enrol('carol', 'one-time 2');
    expectFailure(await as('carol', 'one-time 2', 'list', '--code', nextCode(key)), 'PASSWORD_CHANGE_REQUIRED');
    expect((await cli(['passwd', '--vault', vault, '--as', 'carol', '--code', nextCode(key)], ['one-time 2', 'carol chose'])).status).toBe(0);
    expect((await as('carol', 'carol chose', 'list', '--code', nextCode(key))).status).toBe(0);
  });

  it('is set only with users.manage, for a role that exists', async () => {
    expectFailure(await as('bob', BOB, 'policy', 'mfa', 'required'), 'FORBIDDEN');
    expectFailure(await as('bob', BOB, 'policy', 'mfa', 'off', '--role', 'technician'), 'FORBIDDEN');
    const unknown = await as('alice', ALICE, 'policy', 'mfa', 'required', '--role', 'technicain');
    expect(unknown).toMatchObject({ status: 1, stderr: 'crewvault: INVALID_INPUT: Unknown role "technicain": one of owner, admin, team_lead, technician, codes_only, auditor.\n' });
    expect((await as('alice', ALICE, 'policy', 'mfa', 'off', '--role', 'auditor')).stdout).toBe('Two-step sign-in is now off for auditor.\n');
    expect((await as('alice', ALICE, 'policy', 'mfa', 'required')).stdout).toBe('Two-step sign-in is now required for everyone (roles with a level of their own keep it).\n');
    // Now the owner has to set one up too: everything else waits for it.
    expectFailure(await as('alice', ALICE, 'policy', 'mfa'), 'MFA_REQUIRED');
    const { key } = await enrol('alice', ALICE);
    expect(JSON.parse((await as('alice', ALICE, 'policy', 'mfa', '--json', '--code', nextCode(key))).stdout)).toEqual({ global: 'required', roles: { auditor: 'off' }, revision: 2 });
  });
});

describe('an admin helping someone in', () => {
  it('resets another user\'s MFA with their own password and code; the user then needs no code', async () => {
    await enrol('bob', BOB);
    expectFailure(await as('bob', BOB, 'list'), 'MFA_REQUIRED');
    expect((await as('alice', ALICE, 'mfa', 'reset', 'bob')).stdout)
      .toBe('Reset the two-step sign-in of bob: their authenticator, recovery codes and trusted computers are gone.\n');
    expect((await as('bob', BOB, 'list')).status).toBe(0);

    // An admin with an authenticator proves it is them with it, in this very command.
    const admin = await enrol('alice', ALICE);
    await enrol('bob', BOB);
    expectFailure(await as('alice', ALICE, 'mfa', 'reset', 'bob'), 'MFA_REQUIRED');
    expectFailure(await as('alice', ALICE, 'mfa', 'reset', 'bob', '--recovery-code', admin.recovery[0] ?? ''), 'USAGE', 2);
    expect((await as('alice', ALICE, 'mfa', 'reset', 'bob', '--code', nextCode(admin.key))).status).toBe(0);
    expect((await as('bob', BOB, 'list')).status).toBe(0);
    expectFailure(await as('bob', BOB, 'mfa', 'reset', 'alice'), 'FORBIDDEN');
    expectFailure(await as('alice', ALICE, 'mfa', 'reset', 'nobody', '--code', nextCode(admin.key)), 'NOT_FOUND');
  });

  it('issues an emergency code: it works once, and only for 2 minutes', async () => {
    const bob = await enrol('bob', BOB);
    const issued = await as('alice', ALICE, 'mfa', 'emergency', 'bob');
    expect(issued.status).toBe(0);
    const code = /^Emergency code for bob: ([A-Z]{6})$/m.exec(issued.stdout)?.[1] ?? '';
    expect(code).toMatch(/^[A-Z]{6}$/);
    expect(issued.stdout).toContain('It works once, within 2 minutes, in place of their authenticator: --emergency-code CODE.\n');

    clock.advance(2 * 60_000); // the last moment it is valid
    expect((await as('bob', BOB, 'list', '--emergency-code', code)).status).toBe(0);
    const again = await as('bob', BOB, 'list', '--emergency-code', code);
    expectFailure(again, 'WRONG_CODE');
    expect(holdsSecret(again.stderr, code)).toBe(false);

    const late = /: ([A-Z]{6})$/m.exec((await as('alice', ALICE, 'mfa', 'emergency', 'bob')).stdout)?.[1] ?? '';
    clock.advance(2 * 60_000 + 1);
    expectFailure(await as('bob', BOB, 'list', '--emergency-code', late), 'WRONG_CODE');
    expectFailure(await as('bob', BOB, 'mfa', 'emergency', 'alice', '--code', nextCode(bob.key)), 'FORBIDDEN');
  });
});

describe('usage mistakes exit 2 before any password is asked', () => {
  it.each([
    [['mfa']],
    [['mfa', 'frob']],
    [['mfa', 'reset']],
    [['mfa', 'emergency']],
    [['mfa', 'begin', 'bob']],
    [['mfa', 'begin', '--json']],
    [['mfa', 'confirm']],
    [['mfa', 'confirm', '--code', '123456', '--recovery-code', 'AAAAA-BBBBB']],
    [['mfa', 'status', '--shout']],
    [['policy']],
    [['policy', 'mfa', 'sometimes']],
    [['policy', 'mfa', '--role', 'technician']],
    [['policy', 'mfa', 'required', 'extra']],
    [['list', '--code', '123456', '--emergency-code', 'ABCDEF']],
  ])('crewvault %j', async (args) => {
    const [command = '', ...rest] = args;
    expectFailure(await cli([command, '--vault', vault, ...rest]), 'USAGE', 2);
  });
});
