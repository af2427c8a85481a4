// Review round nine's probes that held (#11, #13): an unlocked CLI session (`crewvault unlock`)
// whose person is demoted to codes-only, or disabled, by someone else while it is held. Every
// later command sent to the agent is checked in the vault against the person's row as it is
// now: no password or OTP key through show --reveal/--json, export, a code at another time or
// import, and a disabled person's next command ends the agent. In-process agents on real Unix
// sockets and real vault files, with a clock the test moves.
// Must never print a secret: the entry password is a test value, and only its absence is checked.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UnlockAgent } from '../../electron/cli/agent';
import { runUnlocked } from '../../electron/cli/agent-commands';
import { agentSocket, currentTerminal } from '../../electron/cli/agent-place';
import type { CliIo } from '../../electron/cli/io';
import { runCli } from '../../electron/cli/main';
import { SignInAttempt } from '../../electron/vault/sign-in-flow';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri } from '../../shared/otp';
import { FAST_KDF, manualClock, newVault, tempFolder } from '../support/vault';

const ENTRY_PASSWORD = 'round nine router password';
/** RFC 6238's published test key: public. */
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

const agents: UnlockAgent[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.stop('test over');
});

/** Tom (a technician) unlocked in an in-process agent; the owner's session stays open to act on him. */
async function tomUnlocked() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  await owner.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD, notes: 'rack 4', otp: parseOtpUri(`otpauth://totp/Acme:admin?secret=${RFC}`) });
  await owner.createUser('tom', 'technician', 'tom one-time password', FAST_KDF);
  const vault = Vault.open(file, clock);
  const first = await vault.signIn('tom', 'tom one-time password');
  await first.changePassword('tom one-time password', 'tom own password', FAST_KDF);
  first.lock();
  const session = await vault.signIn('tom', 'tom own password');
  const runtime = path.join(tempFolder(), 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const env = { XDG_RUNTIME_DIR: runtime };
  const agent = new UnlockAgent(vault, { session, attempt: await SignInAttempt.afterPassword(session, clock) }, {
    vaultPath: file, socket: agentSocket(env, file, currentTerminal()), idleMs: 10 * 60_000, now: () => clock.now(), runCli, env, watchScreen: false,
  });
  await agent.listen();
  agents.push(agent);
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (text) => { stdout += text; }, err: (text) => { stderr += text; },
    // `import -` reads its input; export asks the person's own password again (given here).
    readStdin: () => Promise.resolve(Buffer.from('customer,title,username,password\nAcme,Planted,x,y\n')),
    readSecret: () => Promise.resolve('tom own password'),
    interactive: false, now: () => clock.now(), env,
  };
  const run = async (...argv: string[]): Promise<{ status: number | undefined; stdout: string; stderr: string }> => {
    const [name = '', ...args] = argv;
    const status = await runUnlocked(name, [...args, '--vault', file], io);
    const result = { status, stdout, stderr };
    stdout = '';
    stderr = '';
    return result;
  };
  return { agent, clock, file, owner, run };
}

describe('an unlocked session follows the person\'s row, command by command', () => {
  it('demoted to codes-only while held: no password, OTP key or notes through any command the agent runs; the live code still comes', async () => {
    const { owner, run, clock } = await tomUnlocked();
    const before = await run('show', 'Acme/Router', '--reveal', '--json');
    expect(before.status).toBe(0);
    expect(before.stdout.includes(ENTRY_PASSWORD)).toBe(true); // the probe can see it while allowed

    await owner.team.changeRole('tom', 'codes_only', await owner.team.userRevision('tom'));
    const attempts = [
      await run('show', 'Acme/Router', '--reveal', '--json'),
      await run('show', 'Acme/Router', '--reveal'),
      await run('export', '--format', 'keepassxc-csv', '--plaintext', '-'),
      await run('otp', 'Acme/Router', '--at', String(Math.floor(clock.now() / 1000) + 3600)),
      await run('import', '--format', 'csv', '--map', 'customer=customer,title=title,username=username,password=password', '-'),
    ];
    for (const a of attempts) {
      expect(a.status).not.toBe(0);
      expect(a.stdout.includes(ENTRY_PASSWORD) || a.stderr.includes(ENTRY_PASSWORD)).toBe(false);
      expect(a.stdout.includes(RFC) || a.stderr.includes(RFC)).toBe(false);
      expect(a.stderr).toMatch(/^crewvault: FORBIDDEN: [^\n]+\n$/);
    }
    const plain = await run('show', 'Acme/Router', '--json');
    expect(plain.status).toBe(0);
    const shown = JSON.parse(plain.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ title: 'Router', notes: null });
    expect(plain.stdout.includes(ENTRY_PASSWORD) || plain.stdout.includes(RFC) || plain.stdout.includes('rack 4')).toBe(false);
    expect((await run('otp', 'Acme/Router')).stdout).toMatch(/^\d{6}\n$/);
    expect((await run('list')).stdout).not.toContain('Planted');
  });

  it('disabled while held: the next command is LOCKED and the agent ends, its socket gone', async () => {
    const { agent, owner, run } = await tomUnlocked();
    expect((await run('list')).status).toBe(0);
    await owner.team.disableUser('tom', await owner.team.userRevision('tom'));
    const next = await run('show', 'Acme/Router', '--reveal');
    expect(next.status).toBe(1);
    expect(next.stderr).toBe('crewvault: LOCKED: Your account was disabled: the session has ended.\n');
    expect(await agent.stopped).toBe('Your account was disabled: the session has ended.');
    expect((await run('list')).status).toBeUndefined();
  });
});
