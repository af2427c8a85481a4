// `crewvault unlock` / `crewvault lock` (#11): real processes of the real binary for the flow a
// person types (unlock once with password and code, then commands with neither, then lock), the
// agent's socket folder and its permissions, another terminal and another user; in-process
// agents with a clock the test moves for the idle timeout, a private D-Bus session bus for the
// screen lock, and a real process standing in for the terminal's shell. TOTP codes come from
// oathtool, independent of the engine under test.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentSocket, currentTerminal, processStart } from '../../electron/cli/agent-place';
import { UnlockAgent } from '../../electron/cli/agent';
import type { CliIo } from '../../electron/cli/io';
import { runCli } from '../../electron/cli/main';
import { runUnlocked } from '../../electron/cli/agent-commands';
import { SignInAttempt } from '../../electron/vault/sign-in-flow';
import { Vault } from '../../electron/vault/vault';
import { crewvault, type CliResult } from '../support/cli';
import { manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';
import { holdsSecret } from '../support/secrets';

const PW = 'unlock test password';
/** RFC 6238's published test key: public, so fine in a test's stdin. */
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');

let folder: string;
let runtime: string;
let vault: string;
let env: NodeJS.ProcessEnv;

function totp(key: string, atMs: number): string {
  return execFileSync('oathtool', ['--totp', '-b', '--now', `@${Math.floor(atMs / 1000)}`, key.replace(/\s/g, '')], { encoding: 'utf8' }).trim();
}

/** `crewvault COMMAND --vault VAULT …` as a real process in this test's runtime folder. */
function cv(input: string, command: string, ...rest: string[]): CliResult {
  return crewvault([command, '--vault', vault, ...rest], { input, env });
}

/** The agents serving this test's runtime folder: their pids, read from /proc. */
function agentPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.includes('__agent') && args.some((a) => a.startsWith(runtime));
    } catch {
      return false;
    }
  });
}

beforeEach(() => {
  folder = tempFolder();
  runtime = path.join(folder, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  vault = path.join(folder, 'team.crewvault');
  env = { XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: '' };
  expect(cv(`${PW}\n`, 'init', '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1').status).toBe(0);
});

afterEach(() => {
  // Agents this test started, if an assertion failed before "lock".
  for (const pid of agentPids()) process.kill(pid, 'SIGTERM');
});

describe('unlock once, then commands without password or code, then lock (real processes)', () => {
  it('with an authenticator: list, add, otp and show run on the held session; the agent holds no secret in its arguments or environment; lock refuses the next', async () => {
    // The authenticator is set up in-process at a past instant, so unlock's code (now) is another step.
    const clock = manualClock();
    const lines: string[] = [];
    const io: CliIo = {
      out: (text) => { lines.push(text); }, err: () => undefined,
      readStdin: () => Promise.resolve(undefined),
      readSecret: () => Promise.resolve(PW),
      interactive: false, now: () => clock.now(), env: {},
    };
    expect(await runCli(['mfa', 'begin', '--vault', vault], io)).toBe(0);
    const key = /Key: ([A-Z2-7 ]+)/.exec(lines.join(''))?.[1] ?? '';
    expect(await runCli(['mfa', 'confirm', '--vault', vault, '--code', totp(key, clock.now())], io)).toBe(0);

    // Without the code, unlock is refused as any sign-in is.
    const noCode = cv(`${PW}\n`, 'unlock');
    expect(noCode.status).toBe(1);
    expect(noCode.stderr).toMatch(/^crewvault: MFA_REQUIRED: [^\n]+\n$/);
    expect(agentPids()).toEqual([]);

    const code = totp(key, Date.now());
    const unlocked = cv(`${PW}\n${code}\n`, 'unlock', '--code', '-');
    expect(unlocked.stderr).toBe('');
    expect(unlocked.stdout).toMatch(/^Unlocked for alice in this terminal until "crewvault lock", 10 minutes without a command/);
    expect(unlocked.status).toBe(0);

    // The socket: 0600 in a 0700 folder.
    const socketFolder = path.join(runtime, 'crewvault');
    expect(statSync(socketFolder).mode & 0o777).toBe(0o700);
    const [socketName] = readdirSync(socketFolder);
    expect(statSync(path.join(socketFolder, socketName ?? '')).mode & 0o777).toBe(0o600);

    // Neither the password nor the code is in the agent's arguments or environment.
    const [agent] = agentPids();
    expect(agent).toBeDefined();
    for (const file of ['cmdline', 'environ']) {
      const text = readFileSync(`/proc/${agent}/${file}`, 'utf8');
      expect(text).not.toContain(PW);
      expect(holdsSecret(text, code)).toBe(false);
    }

    // No input at all: nothing asks for a password or a code.
    expect(cv('', 'add', '--customer', 'Acme', '--title', 'Mail', '--username', 'ops', '--otp', '-').status).toBe(2); // --otp - needs its line
    const added = cv(`${RFC}\n`, 'add', '--customer', 'Acme', '--title', 'Mail', '--username', 'ops', '--otp', '-');
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    expect(cv('', 'list')).toEqual({ status: 0, stdout: 'Acme/Mail\tops\t\tTOTP\n', stderr: '' });
    const otp = cv('', 'otp', 'Acme/Mail', '--at', '59');
    expect(otp).toEqual({ status: 0, stdout: `${totp(RFC, 59_000)}\n`, stderr: '' });
    expect(JSON.parse(cv('', 'show', 'Acme/Mail', '--json').stdout)).toMatchObject({ customer: 'Acme', title: 'Mail', username: 'ops' });
    // Commands that change the password or the second step still sign in here.
    expect(cv('', 'passwd').stderr).toContain('standard input ended before every password was given');
    expect(cv('', 'unlock', '--status').stdout).toMatch(/^Unlocked for alice in this terminal; it locks after 10 more minutes/);

    expect(cv('', 'lock')).toEqual({ status: 0, stdout: 'Locked.\n', stderr: '' });
    expect(readdirSync(socketFolder)).toEqual([]);
    const refused = cv('', 'list');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe('crewvault: USAGE: standard input ended before every password was given (see "crewvault list --help")\n');
    expect(cv('', 'lock').stdout).toBe('Nothing was unlocked in this terminal.\n');
  });

  it('a wrong password starts no agent, in one line', () => {
    const wrong = cv('not the password\n', 'unlock');
    expect(wrong).toEqual({ status: 1, stdout: '', stderr: 'crewvault: WRONG_PASSWORD: Wrong user name or password.\n' });
    expect(agentPids()).toEqual([]);
  });

  it('another terminal (a new session), another user named with --as, and another vault sign in as usual', () => {
    expect(cv(`${PW}\n`, 'unlock').status).toBe(0);
    // setsid: a new session, as a new terminal tab or ssh login has.
    const elsewhere = spawnSync('setsid', [process.execPath, BIN, 'list', '--vault', vault], { input: '', env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(elsewhere.stderr).toContain('standard input ended before every password was given');
    expect(elsewhere.status).toBe(2);
    expect(cv('', 'list', '--as', 'bob').stderr).toContain('standard input ended before every password was given');
    expect(cv('', 'list', '--as', 'ALICE').status).toBe(0);
    const other = path.join(folder, 'other.crewvault');
    expect(crewvault(['list', '--vault', other], { input: '', env }).stderr).toMatch(/^crewvault: VAULT_MISSING: /);
    expect(cv('', 'lock').status).toBe(0);
  });

  it('import - takes no password line once unlocked: the first line piped in is imported like the rest', () => {
    expect(cv(`${PW}\n`, 'unlock').status).toBe(0);
    const lines = [`otpauth://totp/First:one?secret=${RFC}`, `otpauth://totp/Second:two?secret=${RFC}`];
    expect(cv(`${lines.join('\n')}\n`, 'import', '--format', 'otpauth', '-')).toEqual({ status: 0, stdout: 'Imported 2 entries; skipped 0 lines.\n', stderr: '' });
    // A spreadsheet keeps its header row: it is the header, not a password.
    const csv = 'customer,title,username\nAcme,Mail,ops\n';
    expect(cv(csv, 'import', '--format', 'csv', '--map', 'customer=customer,title=title,username=username', '-')).toEqual({ status: 0, stdout: 'Imported 1 entry; skipped 0 entries.\n', stderr: '' });
    expect(cv('', 'list').stdout).toBe('Acme/Mail\tops\t\t\nFirst/First\tone\t\tTOTP\nSecond/Second\ttwo\t\tTOTP\n');
    expect(cv('', 'lock').status).toBe(0);
    // Locked again, the password's line comes first as before.
    expect(cv(`${PW}\notpauth://totp/Third:three?secret=${RFC}\n`, 'import', '--format', 'otpauth', '-').stdout).toBe('Imported 1 entry; skipped 0 lines.\n');
  });

  it('unlocked, list | head -1 and export - | head -1 through a real shell pipe end quietly, and the session stays', () => {
    expect(cv(`${PW}\n`, 'unlock').status).toBe(0);
    // About 150 KiB of list: more than a pipe holds, so the agent is still sending when head exits.
    const lines = Array.from({ length: 1500 }, (_, i) => `otpauth://totp/Issuer${String(i).padStart(4, '0')}:${'account-'.repeat(8)}${i}?secret=${RFC}`);
    expect(cv(`${lines.join('\n')}\n`, 'import', '--format', 'otpauth', '-')).toEqual({ status: 0, stdout: 'Imported 1500 entries; skipped 0 lines.\n', stderr: '' });
    const first = `${cv('', 'list').stdout.split('\n')[0] ?? ''}\n`;
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['list --vault "$V" < /dev/null', first, ''],
      // export asks the person's password again, even unlocked: one line.
      ['export --vault "$V" --format otpauth --plaintext - <<< "$PW"', `otpauth://totp/Issuer0000:${'account-'.repeat(8)}0?secret=${RFC}&issuer=Issuer0000&algorithm=SHA1&digits=6&period=30\n`, 'Exported 1500 entries (otpauth).\n'],
    ];
    for (const [command, shown, said] of cases) {
      for (let run = 0; run < 8; run++) {
        const out = spawnSync('bash', ['-c', `"$NODE" "$BIN" ${command} | head -1; echo "crewvault exited \${PIPESTATUS[0]}" >&2`], {
          encoding: 'utf8', env: { ...process.env, ...env, NODE: process.execPath, BIN, V: vault, PW }, timeout: 60_000,
        });
        expect(out.stderr, `${command} run ${run}`).toBe(`${said}crewvault exited 0\n`);
        expect(out.stdout, `${command} run ${run}`).toBe(shown);
      }
    }
    expect(cv('', 'unlock', '--status').status).toBe(0);
    expect(cv('', 'lock').stdout).toBe('Locked.\n');
  }, 240_000);
});

describe('the agent folder and socket must be private to this user', () => {
  it('refuses a folder others may enter, and a socket others may open, in one line, and uses neither', () => {
    expect(cv(`${PW}\n`, 'unlock').status).toBe(0);
    const socketFolder = path.join(runtime, 'crewvault');
    chmodSync(socketFolder, 0o755);
    const open = cv('', 'list');
    expect(open).toEqual({ status: 1, stdout: '', stderr: `crewvault: FORBIDDEN: ${socketFolder} has mode 755; only you may have access (700 for a folder, 600 for a socket): the unlocked session is not used.\n` });
    chmodSync(socketFolder, 0o700);
    const [socketName = ''] = readdirSync(socketFolder);
    chmodSync(path.join(socketFolder, socketName), 0o666);
    expect(cv('', 'list').stderr).toMatch(/^crewvault: FORBIDDEN: \S+agent-[0-9a-f]{24}\.sock has mode 666; [^\n]+\n$/);
    // unlock will not start an agent into it either.
    expect(cv(`${PW}\n`, 'unlock').stderr).toMatch(/^crewvault: FORBIDDEN: /);
    chmodSync(path.join(socketFolder, socketName), 0o600);
    expect(cv('', 'lock').stdout).toBe('Locked.\n');
  });

  it.runIf(process.getuid?.() === 0)('refuses a folder another user owns; another user cannot connect to the socket', () => {
    expect(cv(`${PW}\n`, 'unlock').status).toBe(0);
    const socketFolder = path.join(runtime, 'crewvault');
    const [socketName = ''] = readdirSync(socketFolder);
    const socket = path.join(socketFolder, socketName);
    // "nobody" (uid 65534) tries the socket: the 0700 folder stops it before the socket does.
    chmodSync(folder, 0o755);
    chmodSync(runtime, 0o755);
    const probe = `require('node:net').createConnection(${JSON.stringify(socket)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
    const nobody = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8' });
    expect(nobody.stdout.trim()).toBe('EACCES');
    chmodSync(runtime, 0o700);
    chownSync(socketFolder, 65534, 65534);
    expect(cv('', 'list').stderr).toBe(`crewvault: FORBIDDEN: ${socketFolder} is owned by user 65534, not you (0): the unlocked session is not used.\n`);
    chownSync(socketFolder, 0, 0);
    expect(cv('', 'lock').stdout).toBe('Locked.\n');
  });
});

/** An agent in this process, for the current terminal, with the test's clock. */
async function inProcessAgent(options: { env?: NodeJS.ProcessEnv; watchScreen?: boolean; leader?: { pid: number; start: string } } = {}) {
  const { file } = await newVault();
  const clock = manualClock();
  const opened = Vault.open(file, clock);
  const session = await opened.signIn(OWNER, PASSWORD);
  const agentEnv = { XDG_RUNTIME_DIR: runtime, ...options.env };
  const agent = new UnlockAgent(opened, { session, attempt: await SignInAttempt.afterPassword(session, clock) }, {
    vaultPath: file, socket: agentSocket(agentEnv, file, currentTerminal()), idleMs: 10 * 60_000, now: () => clock.now(),
    runCli, env: agentEnv, watchScreen: options.watchScreen ?? false, leader: options.leader,
  });
  await agent.listen();
  let stderr = '';
  let stdout = '';
  const io: CliIo = {
    out: (text) => { stdout += text; }, err: (text) => { stderr += text; },
    readStdin: () => Promise.resolve(undefined), readSecret: () => Promise.reject(new Error('no password should be asked')),
    interactive: false, now: () => clock.now(), env: agentEnv,
  };
  const output = (): { stdout: string; stderr: string } => {
    const both = { stdout, stderr };
    stdout = '';
    stderr = '';
    return both;
  };
  return { agent, clock, file, io, output };
}

describe('the session ends by itself (in-process agents, real sockets and vaults)', () => {
  it('after the idle time with no command, by the injected clock; each command restarts the time', async () => {
    const { agent, clock, file, io, output } = await inProcessAgent();
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(0);
    clock.advance(9 * 60_000);
    expect(agent.check()).toBe(false);
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(0);
    clock.advance(9 * 60_000);
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(0);
    expect(output().stderr).toBe('');
    clock.advance(10 * 60_000);
    // The next command finds it ended, says so, and falls back to signing in.
    expect(await runUnlocked('list', ['--vault', file], io)).toBeUndefined();
    expect(output().stderr).toBe('crewvault: the unlocked session ended (no command for 10 minutes); signing in as usual.\n');
    expect(await agent.stopped).toBe('no command for 10 minutes');
    expect(existsSync(agentSocket(io.env, file, currentTerminal()))).toBe(false);
    expect(await runUnlocked('list', ['--vault', file], io)).toBeUndefined();
  });

  it('when the password is changed elsewhere: the next command is refused and the agent ends', async () => {
    const { agent, clock, file, io, output } = await inProcessAgent();
    const elsewhere = Vault.open(file, clock);
    try {
      const other = await elsewhere.signIn(OWNER, PASSWORD);
      await other.changePassword(PASSWORD, 'a new password for alice', { memory: 1024, iterations: 1, parallelism: 1 });
      other.lock();
    } finally {
      await elsewhere.close();
    }
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(1);
    expect(output().stderr).toBe('crewvault: LOCKED: Your password was changed: sign in again.\n');
    expect(await agent.stopped).toBe('Your password was changed: sign in again.');
    expect(await runUnlocked('list', ['--vault', file], io)).toBeUndefined();
  });

  it('after the vault\'s idle lock, lowered elsewhere while it runs, at its next command or check', async () => {
    const { agent, clock, file, io, output } = await inProcessAgent();
    const elsewhere = Vault.open(file, clock);
    try {
      const admin = await elsewhere.signIn(OWNER, PASSWORD);
      const { revision } = await admin.vaultSettings.read();
      await admin.vaultSettings.update({ idleLockMinutes: 2 }, revision);
      admin.lock();
    } finally {
      await elsewhere.close();
    }
    clock.advance(90_000);
    expect(await runUnlocked('list', ['--vault', file], io)).toBe(0);
    clock.advance(2 * 60_000);
    expect(await runUnlocked('list', ['--vault', file], io)).toBeUndefined();
    expect(output().stderr).toContain('the unlocked session ended (no command for 2 minutes)');
    expect(await agent.stopped).toBe('no command for 2 minutes');
    expect(agent.idleMinutes).toBe(2);
  });

  it('when the idle check runs with no command coming', async () => {
    const { agent, clock } = await inProcessAgent();
    clock.advance(10 * 60_000);
    expect(agent.check()).toBe(true);
    expect(await agent.stopped).toBe('no command for 10 minutes');
  });

  it('when the terminal\'s session leader exits', async () => {
    const shell = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    const pid = shell.pid ?? 0;
    const start = processStart(pid) ?? '';
    const { agent } = await inProcessAgent({ leader: { pid, start } });
    expect(agent.check()).toBe(false);
    const exited = new Promise((resolve) => shell.once('exit', resolve));
    shell.stdin.end();
    await exited;
    expect(agent.check()).toBe(true);
    expect(await agent.stopped).toBe('its terminal closed');
  });

  it('when the screen locks (ScreenSaver.ActiveChanged on a private session bus)', async () => {
    const [address = '', pid = ''] = execFileSync('dbus-daemon', ['--session', '--fork', '--nopidfile', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' }).trim().split('\n');
    try {
      const { agent } = await inProcessAgent({ env: { DBUS_SESSION_BUS_ADDRESS: address.trim() }, watchScreen: true });
      execFileSync('gdbus', ['emit', '--session', '--object-path', '/org/gnome/ScreenSaver', '--signal', 'org.gnome.ScreenSaver.ActiveChanged', 'true'], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address.trim() } });
      expect(await agent.stopped).toBe('the screen locked');
    } finally {
      process.kill(Number(pid.trim()));
    }
  });
});
