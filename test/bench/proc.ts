/**
 * Another process's CPU time and memory, read from Linux's /proc, for the server bench: the
 * server runs as a child process so the clients' work (in the bench process) never lands in
 * its numbers, and process.cpuUsage() only sees its own process.
 *
 * CPU time is utime + stime of /proc/PID/stat (every thread of the process, in clock ticks:
 * 10 ms steps at the usual 100 Hz, fine over thousands of sign-ins). A PostgreSQL cluster is a
 * tree of processes: the postmaster's own time, plus the time of children it has already
 * reaped (cutime + cstime), plus each live child's. Peak memory is VmHWM of /proc/PID/status;
 * writing 5 to /proc/PID/clear_refs starts it again from the current RSS (Linux 4.0+).
 * Must never: write anything under /proc but clear_refs of a process this bench started.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_SECOND = clockTicksPerSecond();

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, ms. */
  readonly ownMs: number;
  /** cutime + cstime (children already waited for), ms. */
  readonly reapedMs: number;
}

/** /proc/PID/stat, or undefined when the process is gone (or not readable). */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const at = (field: number): number => Number(fields[field - 3]);
  const ms = (ticks: number): number => (ticks * 1000) / TICKS_PER_SECOND;
  return { ppid: at(4), ownMs: ms(at(14) + at(15)), reapedMs: ms(at(16) + at(17)) };
}

/** CPU time (user + system) of one process so far, ms; NaN once it is gone. */
export function processCpuMs(pid: number): number {
  return readStat(pid)?.ownMs ?? Number.NaN;
}

/** The parent of `pid`, or undefined. */
export function parentOf(pid: number): number | undefined {
  return readStat(pid)?.ppid;
}

/** CPU time of `root` and every child it started, live or reaped, ms; NaN when `root` is not readable. */
export function processTreeCpuMs(root: number): number {
  const own = readStat(root);
  if (own === undefined) return Number.NaN;
  let total = own.ownMs + own.reapedMs;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const child = readStat(Number(name));
    if (child?.ppid === root) total += child.ownMs;
  }
  return total;
}

function statusKiB(pid: number, key: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** Peak resident set size since the process started (or since resetPeakRss), KiB. */
export function peakRssKiB(pid: number): number | null {
  return statusKiB(pid, 'VmHWM');
}

export function rssKiB(pid: number): number | null {
  return statusKiB(pid, 'VmRSS');
}

/** Starts the peak RSS again from the current RSS; false when the kernel did not let us. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
