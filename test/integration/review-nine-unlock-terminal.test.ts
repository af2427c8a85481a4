// Review round nine, hole 1 (#11/#13): the unlocked session is bound to the terminal that
// unlocked, not to the OS user. On Linux the agent finds the processes at the other end of each
// connection (agent-peer.ts: ss pairs the sockets, /proc names their holders and sessions) and
// serves only a peer whose every process runs in that terminal's session. Real processes (one
// in this session, one in a new one by setsid), real sockets and vault files; no clock is read.
// Must never print a secret (the values below are test values, compared, not logged).
import { describe, expect, it } from 'vitest';
import { ENTRY_PASSWORD, holdInAgent, inAnotherTerminal, inThisTerminal, Vault, manualClock, newVault, OWNER, PASSWORD } from '../support/unlocked-agent';

/** A raw client of the agent's protocol, as any process of the user could write one. */
function rawClient(message: object): string {
  return `
    const fs = require('node:fs'), net = require('node:net'), path = require('node:path');
    const dir = path.join(process.env.XDG_RUNTIME_DIR, 'crewvault');
    const sock = path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.sock')));
    const s = net.createConnection(sock, () => s.write(${JSON.stringify(JSON.stringify(message))} + '\\n'));
    let buf = '';
    s.on('data', (d) => { buf += d; });
    s.on('end', () => { process.stdout.write(buf); });
    s.on('error', (e) => { process.stdout.write('error ' + e.code); });`;
}

async function ownerUnlocked() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  await owner.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
  owner.lock();
  const vault = Vault.open(file, clock);
  const session = await vault.signIn(OWNER, PASSWORD);
  return holdInAgent(vault, file, session, clock);
}

const reveal = { t: 'run', argv: ['show', 'Acme/Router', '--reveal', '--json'], cwd: '/', interactive: false };

describe.runIf(process.platform === 'linux')('only the terminal that unlocked is served (hole 1)', () => {
  it('a process in another session (another tab, a cron job) is declined: no password leaves', async () => {
    const { env } = await ownerUnlocked();
    const got = await inAnotherTerminal(rawClient(reveal), env);
    expect(got.includes(ENTRY_PASSWORD)).toBe(false);
    expect(got).toContain('"t":"declined"');
  });

  it('the same raw request from a process in the unlocking terminal\'s session is served (the check is not a blanket refusal)', async () => {
    const { env } = await ownerUnlocked();
    const got = await inThisTerminal(rawClient(reveal), env);
    expect(got.includes(ENTRY_PASSWORD)).toBe(true);
    expect(got).toContain('"t":"exit","code":0');
  });

  it('another session cannot read who is unlocked or for how long (status is declined too)', async () => {
    const { env } = await ownerUnlocked();
    const got = await inAnotherTerminal(rawClient({ t: 'status' }), env);
    expect(got).not.toContain(OWNER);
    expect(got).toContain('"t":"declined"');
    const here = await inThisTerminal(rawClient({ t: 'status' }), env);
    expect(here).toContain(`"user":"${OWNER}"`);
  });
});
