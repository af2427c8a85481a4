/**
 * A Crewvault server for the server bench, started exactly as an admin starts one —
 * `crewvault server --data DIR --listen 127.0.0.1:0 [--database URL]` from the built CLI — as
 * a child process, so its CPU time and memory can be read apart from the clients' (proc.ts).
 * Its request log (JSON lines on stdout) is written, as in production, to `DIR/server.log` (or a name given);
 * when something fails, its error lines are what the bench prints.
 *
 * Must never: put the database password on the command line (others can read the process
 * list): it goes through PGPASSWORD, as the CLI's usage says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { nowMs } from './measure';

const LISTENING = /listening on (http:\/\/\S+)/;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

export interface BenchServer {
  readonly url: string;
  readonly pid: number;
  /** Spawn → "listening" on stderr, ms (migrations and key creation included). */
  readonly startMs: number;
  readonly ownerInviteFile: string;
  /** The last few error lines of the server's log (its own words, never a secret: server/log.ts). */
  errors(): string[];
  /** SIGTERM, as Ctrl+C would; SIGKILL if it has not exited within 20 s. */
  stop(): Promise<void>;
}

/** The URL without its password, and the password for PGPASSWORD. */
function splitPassword(databaseUrl: string): { url: string; password: string | undefined } {
  const url = new URL(databaseUrl);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  url.password = '';
  return { url: url.toString(), password };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** The last five lines of pino's levels error (50) and fatal (60). */
function errorLines(logFile: string): string[] {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((line) => /"level":(50|60)\b/.test(line)).slice(-5);
  } catch {
    return [];
  }
}

/**
 * Starts the server on PGlite in `dataDir/pglite`, or on `databaseUrl`. Several processes of
 * one team server share `dataDir` (its keys) and the database, each with a log of its own (`logName`).
 */
export async function startBenchServer(dataDir: string, databaseUrl: string | undefined, logName = 'server.log'): Promise<BenchServer> {
  // CREWVAULT_BENCH_SERVER_PROFILE (a folder): each server process writes its CPU profile there when it stops.
  const profileDir = process.env.CREWVAULT_BENCH_SERVER_PROFILE;
  const profile = profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)];
  const args = [...profile, path.resolve('bin/crewvault.mjs'), 'server', '--data', dataDir, '--listen', '127.0.0.1:0'];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CREWVAULT_SERVER_DATABASE;
  if (databaseUrl !== undefined) {
    const { url, password } = splitPassword(databaseUrl);
    args.push('--database', url);
    if (password !== undefined) env.PGPASSWORD = password;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dataDir, logName);
  const log = openSync(logFile, 'w', 0o600);
  const started = nowMs();
  const child = spawn(process.execPath, args, { stdio: ['ignore', log, 'pipe'], env });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('crewvault server did not start');
  // Should the bench die on its way out, the server goes with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    const gone = exited(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`crewvault server did not listen within ${START_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), START_TIMEOUT_MS);
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const match = LISTENING.exec(stderr);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`crewvault server exited (${code ?? signal ?? '?'}) before listening: ${stderr.trim()}`));
      });
    });
    return { url, pid, startMs: nowMs() - started, ownerInviteFile: path.join(dataDir, 'owner-invite.txt'), errors: () => errorLines(logFile), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
