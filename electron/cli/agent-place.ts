/**
 * Where an unlocked CLI session (`crewvault unlock`) is held: one Unix socket per vault and
 * terminal in a folder only this OS user may enter ($XDG_RUNTIME_DIR/crewvault, else
 * <tmp>/crewvault-<uid>, mode 0700), the socket itself 0600. A folder or socket that is not
 * private to this user (another owner, group or world bits, a symbolic link) is refused, never
 * repaired or used: another local user could have put it there to collect what is sent to it.
 * Must never put a secret in a path, a name or an error.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CrewvaultError } from '../../shared/errors';

/** The terminal a command runs in: its login session, and the process that leads it. */
export interface Terminal {
  /** Stable for every command typed in one terminal (a tab, an ssh login, a tmux pane). */
  readonly key: string;
  /** The session's leader (the shell) and its start time, so the agent ends with the terminal. */
  readonly leader?: { readonly pid: number; readonly start: string } | undefined;
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function procStat(pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** When process `pid` started (clock ticks since boot), or undefined if it is gone. */
export function processStart(pid: number): string | undefined {
  // Field 22 of stat; index 19 counting from field 3 (the state).
  return procStat(pid)?.[19];
}

/**
 * This process's terminal. On Linux: the session id and controlling tty from /proc (what
 * sudo's per-terminal tickets use), so two tabs of one user hold separate sessions. Elsewhere
 * the parent process (the shell that ran the command) stands for the terminal.
 */
export function currentTerminal(): Terminal {
  const stat = procStat('self');
  // state ppid pgrp session tty_nr …
  const sid = Number(stat?.[3]);
  const tty = Number(stat?.[4]);
  if (stat && Number.isInteger(sid) && sid > 0 && Number.isInteger(tty)) {
    const start = processStart(sid);
    return { key: `tty${tty}-sid${sid}-${start ?? '?'}`, leader: start === undefined ? undefined : { pid: sid, start } };
  }
  return { key: `ppid${process.ppid}` };
}

/** The folder that holds this user's agent sockets. */
export function agentFolder(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) return path.join(runtime, 'crewvault');
  return path.join(os.tmpdir(), `crewvault-${process.getuid?.() ?? 'user'}`);
}

/** The socket of the session unlocked for `vault` in `terminal`. */
export function agentSocket(env: NodeJS.ProcessEnv, vault: string, terminal: Terminal): string {
  const name = createHash('sha256').update(`${path.resolve(vault)}\0${terminal.key}`).digest('hex').slice(0, 24);
  return path.join(agentFolder(env), `agent-${name}.sock`);
}

function ownedPrivately(stats: Stats): string | undefined {
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) return `is owned by user ${stats.uid}, not you (${uid})`;
  if ((stats.mode & 0o077) !== 0) return `has mode ${(stats.mode & 0o777).toString(8)}; only you may have access (700 for a folder, 600 for a socket)`;
  return undefined;
}

/** Throws FORBIDDEN unless `folder` is a real folder of this user that nobody else can enter. */
export function checkPrivateFolder(folder: string): void {
  const stats = lstatSync(folder);
  if (stats.isSymbolicLink() || !stats.isDirectory()) throw new CrewvaultError('FORBIDDEN', `${folder} is not a folder: the unlocked session is not used.`);
  const why = ownedPrivately(stats);
  if (why) throw new CrewvaultError('FORBIDDEN', `${folder} ${why}: the unlocked session is not used.`);
}

/** Creates the agent folder (0700) if missing, then checks it as checkPrivateFolder does. */
export function makePrivateFolder(folder: string): void {
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  checkPrivateFolder(folder);
}

/**
 * The socket's state: absent, or present and private (FORBIDDEN when present and anything else:
 * a file, a link, another owner's, readable by others).
 */
export function checkSocket(socket: string): 'absent' | 'present' {
  let stats: Stats;
  try {
    checkPrivateFolder(path.dirname(socket));
    stats = lstatSync(socket);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  if (!stats.isSocket()) throw new CrewvaultError('FORBIDDEN', `${socket} is not a socket: the unlocked session is not used.`);
  const why = ownedPrivately(stats);
  if (why) throw new CrewvaultError('FORBIDDEN', `${socket} ${why}: the unlocked session is not used.`);
  return 'present';
}
