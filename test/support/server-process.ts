/**
 * Team servers as real child processes for the fault tests: `crewvault server --database …
 * --listen 127.0.0.1:PORT` (the built CLI, as an administrator runs it), several on one
 * PostgreSQL database, each killable with any signal (SIGKILL: no cleanup at all) and startable
 * again on the same port. The database's password travels in PGPASSWORD, never in the
 * arguments (anyone can read those in the process list). Each process's JSON log lines are
 * kept, so a test can act at a point of a request (`waitForLog`) instead of guessing a time.
 * `ServerProcesses.killAll()` belongs in afterAll: nothing outlives the test file.
 * Must never: leave a process running, or wait without a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');

/** A port nobody listens on now, on 127.0.0.1 (kept for a process and its restarts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Waits for `condition` (a look at real state: a file, a table, a log) to hold, looking again
 * after each turn of the event loop and at least every `everyMs`; rejects with `what` at the deadline.
 */
export async function until(what: string, condition: () => boolean | Promise<boolean>, deadlineMs = 20_000, everyMs = 20): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`gave up after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** False once the process has exited. */
  readonly running: boolean;
  /** Every log line so far (JSON, as the server writes them to stdout). */
  readonly logs: readonly string[];
  /** Resolves when the process has exited, with its status or signal. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Resolves once `count` log lines match `pattern` (counting from the start), or rejects at the deadline or exit. */
  waitForLog(pattern: RegExp, count: number, deadlineMs?: number): Promise<void>;
  /** Sends `signal` and waits until the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface ServerProcessOptions {
  /** postgres://user@host:port/db, with its password in `password` (PGPASSWORD), not in the URL. */
  readonly database: string;
  readonly password: string;
  /** The server's folder (its keys): the same for every process of one team server. */
  readonly dataDir: string;
  readonly port: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** A URL without its password, and the password apart (for PGPASSWORD). */
export function splitDatabaseUrl(url: string): { readonly database: string; readonly password: string } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { database: parsed.toString(), password };
}

export class ServerProcesses {
  private readonly children = new Set<ChildProcess>();

  /** Starts `crewvault server`; resolves once it says where it listens. */
  async start(options: ServerProcessOptions, deadlineMs = 30_000): Promise<ServerProcess> {
    const args = [BIN, 'server', '--database', options.database, '--data', options.dataDir, '--listen', `127.0.0.1:${options.port}`];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...options.env, PGPASSWORD: options.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error('crewvault server did not start');
    const logs: string[] = [];
    const watchers = new Set<() => void>();
    const wake = (): void => {
      for (const watcher of [...watchers]) watcher();
    };
    let pending = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        logs.push(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      wake();
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      wake();
    });
    let gone = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        gone = true;
        this.children.delete(child);
        wake();
        resolve({ code, signal });
      });
    });
    /** Resolves when `ready()` holds; rejects when the process is gone first or at the deadline. */
    const waitFor = (what: string, ready: () => boolean, ms: number): Promise<void> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`gave up after ${ms} ms waiting for ${what}; stderr: ${stderr.slice(-500)}`)), ms);
      const check = (): void => {
        if (ready()) done();
        else if (gone) done(new Error(`crewvault server exited while waiting for ${what}; stderr: ${stderr.slice(-500)}`));
      };
      const done = (error?: Error): void => {
        clearTimeout(timer);
        watchers.delete(check);
        if (error) reject(error);
        else resolve();
      };
      watchers.add(check);
      check();
    });
    const url = `http://127.0.0.1:${options.port}`;
    try {
      await waitFor('the server to listen', () => stderr.includes(`listening on ${url}`), deadlineMs);
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw error;
    }
    return {
      url,
      port: options.port,
      pid,
      get running() {
        return !gone;
      },
      logs,
      exited,
      waitForLog: (pattern, count, ms = 20_000) => waitFor(`${count} log lines like ${pattern.source}`, () => logs.filter((line) => pattern.test(line)).length >= count, ms),
      async kill(signal) {
        if (!gone) child.kill(signal);
        await exited;
      },
    };
  }

  /** Kills every process still running (SIGKILL) and waits for each to go. */
  async killAll(): Promise<void> {
    const running = [...this.children];
    await Promise.all(running.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    this.children.clear();
  }
}
