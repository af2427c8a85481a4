/**
 * The parent's side of the sign-in race children (signin-race-child.ts): bundles the child the
 * way global-setup.ts bundles the vault writer, spawns it, and matches replies to commands in
 * order. `allAtOnce` writes one command to every child before awaiting any reply, so N processes
 * make the same attempt together — a moment set by the children being idle, never by a sleep.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { bundleChild } from './bundle-child';
import type { RaceCommand, RaceReply } from './signin-race-protocol';

export const RACE_CHILD_SCRIPT = path.resolve(import.meta.dirname, '../../dist/test/signin-race-child.mjs');

/** Bundles the child (native modules left external), as scripts/build.mjs bundles the CLI. */
export async function buildRaceChild(): Promise<void> {
  await bundleChild(path.resolve(import.meta.dirname, 'signin-race-child.ts'), RACE_CHILD_SCRIPT);
}

export class RaceChild {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(reply: RaceReply) => void> = [];
  private pending = '';
  private stderrText = '';
  readonly exited: Promise<number | null>;

  constructor() {
    this.child = spawn(process.execPath, [RACE_CHILD_SCRIPT], { stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      const lines = (this.pending + chunk).split('\n');
      this.pending = lines.pop() ?? '';
      for (const line of lines) this.waiting.shift()?.(JSON.parse(line) as RaceReply);
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrText += chunk;
    });
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on('close', (status) => {
        // A child that died must not leave a test waiting for its answer.
        for (const answer of this.waiting.splice(0)) answer({ ok: false, code: 'CHILD_EXITED', message: `status ${status}: ${this.stderrText}` });
        resolve(status);
      });
    });
  }

  send(command: RaceCommand): Promise<RaceReply> {
    const answered = new Promise<RaceReply>((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    return answered;
  }

  /** Ends the child's input: it locks, closes its vaults and exits. */
  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

/** Every child gets its command before any reply is awaited: the attempts overlap. */
export function allAtOnce(children: readonly RaceChild[], command: (index: number) => RaceCommand): Promise<RaceReply[]> {
  return Promise.all(children.map((child, i) => child.send(command(i))));
}

/** One child after another, each after the previous answered (sign-ins before a race). */
export async function oneByOne(children: readonly RaceChild[], command: (index: number) => RaceCommand): Promise<RaceReply[]> {
  const replies: RaceReply[] = [];
  for (const [i, child] of children.entries()) replies.push(await child.send(command(i)));
  return replies;
}

/** How many replies had each outcome ("ok" or an error code). */
export function tally(replies: readonly RaceReply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const key = reply.ok ? 'ok' : reply.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
