/**
 * Measuring for the vault bench: percentiles, and one child process's wall time and peak
 * memory. Peak memory is GNU time's %M (the child's ru_maxrss from wait4, in KiB), read from
 * a file (`time -o`) so the child's own stderr stays apart; wall time is taken around the
 * spawn with the high-resolution clock (GNU time's %e has 10 ms steps), so it includes
 * time's own fork and exec, well under a millisecond here.
 *
 * Measured processes are started by a small helper process (Spawner), never by the bench
 * process itself: after building a 100,000-entry vault the bench holds gigabytes, and a fork
 * from it copies their page tables — ~150 ms per spawn at 5 GiB, which would land in the
 * measured wall time.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

/** True when GNU time (Debian package `time`) is installed; peak memory is n/a without it. */
export function hasGnuTime(): boolean {
  if (!existsSync(GNU_TIME)) return false;
  const probe = spawnSync(GNU_TIME, ['--version'], { encoding: 'utf8' });
  return `${probe.stdout}${probe.stderr}`.includes('GNU');
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Wall time of `work` in ms. */
export async function timed<T>(work: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = nowMs();
  const value = await work();
  return { ms: nowMs() - start, value };
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 10_000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatMiB(kib: number | null): string {
  return kib === null ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`;
}

export interface ProcessRun {
  readonly wallMs: number;
  /** Date.now() just before the spawn and just after it returned (to check a TOTP code). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Peak resident set size in KiB, or null without GNU time. */
  readonly peakRssKiB: number | null;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface SpawnJob {
  readonly file: string;
  readonly args: readonly string[];
  readonly input: string;
}

interface SpawnResult {
  readonly wallMs: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: string | null;
}

// The helper: one JSON job per line in, one JSON result per line out, each job run with
// spawnSync and timed around it. Plain CommonJS for `node -e`.
const SPAWNER_SOURCE = `
const { spawnSync } = require('node:child_process');
const lines = require('node:readline').createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const job = JSON.parse(line);
  const startedAt = Date.now();
  const start = process.hrtime.bigint();
  const r = spawnSync(job.file, job.args, { input: job.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(JSON.stringify({ wallMs, startedAt, endedAt: Date.now(), status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error ? String(r.error) : null }) + '\\n');
});
`;

function isSpawnResult(value: unknown): value is SpawnResult {
  return typeof value === 'object' && value !== null && 'wallMs' in value && typeof value.wallMs === 'number' && 'stdout' in value && typeof value.stdout === 'string';
}

/** A small Node process that starts the measured processes (see the file comment). Start it
 * while the bench process is still small; run jobs one at a time. */
export class Spawner {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(line: string) => void> = [];

  constructor() {
    this.child = spawn(process.execPath, ['-e', SPAWNER_SOURCE], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.pipe(process.stderr);
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  run(job: SpawnJob): Promise<SpawnResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const parsed: unknown = JSON.parse(line);
        if (isSpawnResult(parsed)) resolve(parsed);
        else reject(new Error('the spawner answered something unexpected'));
      });
      this.child.stdin.write(`${JSON.stringify(job)}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Runs `command args` once with `input` on stdin, through `spawner`; `statsFile` is a
 * scratch path for time -o. */
export async function runMeasured(spawner: Spawner, command: string, args: readonly string[], input: string, statsFile: string, gnuTime: boolean): Promise<ProcessRun> {
  rmSync(statsFile, { force: true });
  const [file, argv] = gnuTime ? [GNU_TIME, ['-o', statsFile, '-f', '%e %M', command, ...args]] : [command, [...args]];
  const result = await spawner.run({ file, args: argv, input });
  if (result.error !== null) throw new Error(result.error);
  let peakRssKiB: number | null = null;
  if (gnuTime && existsSync(statsFile)) {
    // The last line is ours ("Command exited with non-zero status" may come first).
    const last = readFileSync(statsFile, 'utf8').trim().split('\n').pop() ?? '';
    const kib = Number(last.split(' ')[1]);
    if (Number.isFinite(kib)) peakRssKiB = kib;
  }
  return { wallMs: result.wallMs, startedAt: result.startedAt, endedAt: result.endedAt, peakRssKiB, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RepeatedRuns {
  readonly runs: readonly ProcessRun[];
  readonly wallMs: number;
  readonly peakRssKiB: number | null;
  /** The first failure's stderr (first line), when a run failed. */
  readonly failure?: string;
}

export interface Contender {
  /** Measured runs after the warm-up. */
  readonly rounds: number;
  readonly run: () => Promise<ProcessRun>;
  /** null when the run did the right work, else what was wrong (the contender stops). */
  readonly check: (run: ProcessRun) => string | null;
}

/** Runs the contenders in turns, so a busy machine slows them alike: one warm-up each
 * (discarded: it fills the page cache for all alike), then round after round, each contender
 * once per round until it has its `rounds`. Reports median wall and median peak RSS per
 * contender, or its first failure. */
export async function measureInTurns(contenders: readonly Contender[]): Promise<RepeatedRuns[]> {
  const runs: ProcessRun[][] = contenders.map(() => []);
  const failures: Array<string | undefined> = contenders.map(() => undefined);
  const turn = async (i: number, keep: boolean): Promise<void> => {
    const contender = contenders[i];
    if (!contender || failures[i] !== undefined) return;
    const r = await contender.run();
    const problem = contender.check(r);
    if (problem) failures[i] = problem;
    else if (keep) runs[i]?.push(r);
  };
  for (let i = 0; i < contenders.length; i++) await turn(i, false);
  const most = Math.max(0, ...contenders.map((c) => c.rounds));
  for (let round = 0; round < most; round++) {
    for (let i = 0; i < contenders.length; i++) if (round < (contenders[i]?.rounds ?? 0)) await turn(i, true);
  }
  return contenders.map((_, i): RepeatedRuns => {
    const mine = runs[i] ?? [];
    const failure = failures[i];
    if (failure !== undefined) return { runs: mine, wallMs: Number.NaN, peakRssKiB: null, failure };
    const rss = mine.map((r) => r.peakRssKiB).filter((k): k is number => k !== null);
    return { runs: mine, wallMs: median(mine.map((r) => r.wallMs)), peakRssKiB: rss.length === mine.length ? median(rss) : null };
  });
}

/** Median and worst of `rounds` 4 KiB write + fsync in `file`: what one durable commit waits
 * for at least, so a busy disk shows up beside the numbers it slows. */
export function fsyncProbe(file: string, rounds = 20): { p50: number; max: number } {
  const fd = openSync(file, 'w', 0o600);
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const start = nowMs();
      writeSync(fd, block, 0, block.length, 0);
      fsyncSync(fd);
      times.push(nowMs() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return { p50: median(times), max: Math.max(...times) };
}
