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
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type net from 'node:net';

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

/** `ss -xH`: for each Unix socket, "... LOCAL_INODE PEER_ADDRESS PEER_INODE" (the local path may hold spaces). */
function peerInode(ours: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ss', ['-xH'], { timeout: 3_000, maxBuffer: 16 * 1024 * 1024, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (error, stdout) => {
      if (error) {
        resolve(undefined);
        return;
      }
      for (const line of stdout.split('\n')) {
        const fields = line.trim().split(/\s+/);
        if (fields.length >= 3 && fields[fields.length - 3] === ours) {
          const peer = fields[fields.length - 1];
          resolve(peer !== undefined && /^\d+$/.test(peer) && peer !== '0' ? peer : undefined);
          return;
        }
      }
      resolve(undefined);
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
export async function peerSessions(socket: net.Socket): Promise<number[] | undefined> {
  if (process.platform !== 'linux') return undefined;
  const fd = descriptorOf(socket);
  const ours = fd === undefined ? undefined : socketInode(fd);
  if (ours === undefined) return undefined;
  const peer = await peerInode(ours);
  if (peer === undefined) return undefined;
  const holders = holdersOf(peer);
  // The peer in this very process (an in-process client: tests) is never in another's /proc.
  const own = readdirSync('/proc/self/fd').some((n) => Number(n) !== fd && socketInode(Number(n)) === peer);
  if (own) holders.push(process.pid);
  const sessions = holders.map((pid) => sessionOf(pid === process.pid ? 'self' : pid));
  return sessions.every((sid): sid is number => sid !== undefined) && sessions.length > 0 ? sessions : undefined;
}
