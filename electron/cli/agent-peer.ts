/**
 * Who is at the other end of a connection to the unlock agent (Linux): the processes holding the
 * peer of the accepted Unix socket, and the login session (terminal) each runs in. Node exposes
 * no SO_PEERCRED, so the peer's socket is found as `ss` (iproute2, the kernel's sock_diag) pairs
 * it with ours, and its holders by their /proc/PID/fd links; the session id is /proc/PID/stat's.
 * The agent serves only a peer all of whose holders are in the terminal that unlocked
 * (agent.ts), so another tab, a cron job or a daemon of the same OS user is turned away.
 * Answers undefined wherever it cannot tell (not Linux, no `ss`, no /proc): the caller decides.
 * Must never read, log or pass on what travels over the socket; it looks only at names in /proc.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/** The inode of the socket behind file descriptor `fd` of this process. */
function socketInode(fd: number): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  } catch {
    return undefined;
  }
}

/** The connection's file descriptor (libuv's, on its handle: Node has no public accessor). */
function descriptorOf(socket: net.Socket): number | undefined {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/**
 * The peer's inode from `ss -xH` text, trusting only what ss itself prints (review round eleven):
 * each record ends "LOCAL_NAME LOCAL_INODE PEER_NAME PEER_INODE" (iproute2 prints PEER_NAME "*"),
 * and LOCAL_NAME is printed raw, so any process can bind a name holding spaces and newlines that
 * reads as whole records of its choosing. Lines and field positions are therefore never trusted;
 * instead: the agent's inode must occur as a whole token exactly twice in the whole text (its own
 * record "OURS * PEER" and its peer's "PEER * OURS", the tokens beside each printed by ss, not
 * taken from any name), the two must agree, and anything else (a name repeating the inode, a peer
 * name printed, no peer) answers undefined: the request is then declined, never guessed.
 */
export function peerFromSs(text: string, ours: string): string | undefined {
  if (!/^\d+$/.test(ours)) return undefined;
  const tokens = text.split(/\s+/);
  const at = tokens.flatMap((token, i) => (token === ours ? [i] : []));
  if (at.length !== 2) return undefined;
  const [first = -1, second = -1] = at;
  const after = (i: number): string | undefined => (tokens[i + 1] === '*' ? tokens[i + 2] : undefined);
  const before = (i: number): string | undefined => (tokens[i - 1] === '*' ? tokens[i - 2] : undefined);
  // Either order: ss lists sockets in the kernel's order, the agent's record first or not.
  const pairs: [string | undefined, string | undefined][] = [[after(first), before(second)], [after(second), before(first)]];
  const found = pairs.filter(([mine, theirs]) => mine !== undefined && mine === theirs && /^[1-9]\d*$/.test(mine) && mine !== ours);
  return found.length === 1 ? found[0]?.[0] : undefined;
}

/** The peer of socket `ours` as `ss` (the program `ss`, found on a fixed PATH) reports it (peerFromSs), or undefined. */
function peerInode(ours: string, ss: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(ss, ['-xH'], { timeout: 3_000, maxBuffer: 16 * 1024 * 1024, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (error, stdout) => {
      resolve(error ? undefined : peerFromSs(stdout, ours));
    });
  });
}

/** The processes (of those this user may look at) with a descriptor on socket `inode`. */
function holdersOf(inode: string): number[] {
  const link = `socket:[${inode}]`;
  const holders: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${name}/fd/${fd}`) === link) {
          holders.push(Number(name));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return holders;
}

/** The login session id of process `pid` (field 6 of /proc/PID/stat), or undefined if gone. */
export function sessionOf(pid: number | 'self'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const sid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[3]);
    return Number.isInteger(sid) && sid > 0 ? sid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The session ids of the processes at the other end of `socket`: one per holder (a process that
 * passed the descriptor on to a child counts both), the agent's own process counted as itself.
 * Undefined when this system cannot tell.
 */
export async function peerSessions(socket: net.Socket, ss = 'ss'): Promise<number[] | undefined> {
  if (process.platform !== 'linux') return undefined;
  const fd = descriptorOf(socket);
  const ours = fd === undefined ? undefined : socketInode(fd);
  if (ours === undefined) return undefined;
  const peer = await peerInode(ours, ss);
  if (peer === undefined) return undefined;
  const holders = holdersOf(peer);
  // The peer in this very process (an in-process client: tests) is never in another's /proc.
  const own = readdirSync('/proc/self/fd').some((n) => Number(n) !== fd && socketInode(Number(n)) === peer);
  if (own) holders.push(process.pid);
  const sessions = holders.map((pid) => sessionOf(pid === process.pid ? 'self' : pid));
  return sessions.every((sid): sid is number => sid !== undefined) && sessions.length > 0 ? sessions : undefined;
}

/**
 * Whether this system can tell who is at the other end of a connection (Linux: `ss` and /proc): a
 * connection of this process to itself, on an abstract socket of a random name, must come out as
 * this process's own session. `crewvault unlock` asks before starting an agent that would
 * otherwise decline every command. True elsewhere (no check is made there). `ss` is for tests only.
 */
export async function canTellPeers(ss = 'ss'): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  const name = `\0crewvault-peer-check-${randomBytes(12).toString('hex')}`;
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  let client: net.Socket | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
    const first = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    client = net.createConnection(name);
    client.on('error', () => undefined);
    const socket = await first;
    const sessions = await peerSessions(socket, ss);
    const own = sessionOf('self');
    return own !== undefined && sessions !== undefined && sessions.length > 0 && sessions.every((sid) => sid === own);
  } catch {
    return false;
  } finally {
    client?.destroy();
    for (const s of accepted) s.destroy();
    server.close();
  }
}
