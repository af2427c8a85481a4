/**
 * Runs several real `crewvault` processes so that their sign-ins overlap: each is started with
 * its stdin held open, and only once every one of them has the vault file open (it then waits
 * for its password on stdin) is each given its input. Readiness is read from /proc/PID/fd, the
 * processes' own state, never guessed with a sleep. Where /proc is missing they start ungated.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { CliResult } from './cli';

const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');
/** How long the processes may take to start, together, before the test gives up. */
const START_LIMIT_MS = 30_000;

export interface CliRun {
  readonly args: readonly string[];
  readonly input: string;
}

function holdsFile(pid: number, file: string): boolean {
  try {
    const fdDir = `/proc/${pid}/fd`;
    return readdirSync(fdDir).some((fd) => {
      try {
        return readlinkSync(path.join(fdDir, fd)) === file;
      } catch {
        return false; // closed while we looked
      }
    });
  } catch {
    return false; // not started yet, or already gone
  }
}

/** Resolves once `ready()` holds, checking again each few milliseconds; rejects after `limitMs`. */
function until(ready: () => boolean, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (ready()) resolve();
      else if (performance.now() > deadline) reject(new Error('the crewvault processes did not all open the vault'));
      else setTimeout(check, 5);
    };
    check();
  });
}

export async function crewvaultTogether(runs: readonly CliRun[], vaultFile: string): Promise<CliResult[]> {
  const file = realpathSync(vaultFile);
  const children: Array<{ child: ChildProcessWithoutNullStreams; done: Promise<CliResult>; exited: boolean }> = runs.map((run) => {
    const child = spawn(process.execPath, [BIN, ...run.args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.stdin.on('error', () => undefined);
    const entry = { child, exited: false, done: Promise.resolve<CliResult>({ status: null, stdout: '', stderr: '' }) };
    entry.done = new Promise((resolve) => {
      child.on('close', (status) => {
        entry.exited = true;
        resolve({ status, stdout, stderr });
      });
    });
    return entry;
  });
  try {
    if (existsSync('/proc/self/fd')) {
      await until(() => children.every((c) => c.exited || (c.child.pid !== undefined && holdsFile(c.child.pid, file))), START_LIMIT_MS);
    }
  } catch (error) {
    for (const c of children) c.child.kill('SIGKILL');
    throw error;
  }
  children.forEach((c, i) => c.child.stdin.end(runs[i]?.input ?? ''));
  return Promise.all(children.map((c) => c.done));
}
