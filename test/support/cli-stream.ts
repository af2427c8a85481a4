/**
 * Runs the real `crewvault` binary asynchronously, for what spawnSync cannot show: a standard
 * input fed from a bounded generator (how much of it the CLI took before it stopped), and a
 * standard output whose reader has gone away (`crewvault list | head -1`).
 * Never puts a secret in the arguments: secrets travel in `input`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');

export interface StreamedCliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Bytes of `input` the pipe accepted before the CLI closed it or the input ended. */
  readonly bytesFed: number;
}

export interface StreamedCliOptions {
  /** Chunks written to standard input, in order; the input ends when they do. */
  readonly input?: Iterable<string | Uint8Array>;
  /** Close our end of the stdout pipe at once, so every write the CLI makes meets EPIPE. */
  readonly closeStdout?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Writes the chunks, waiting for the pipe to drain; stops quietly when the CLI closes it. */
async function feed(stdin: NodeJS.WritableStream & { destroyed: boolean }, chunks: Iterable<string | Uint8Array>): Promise<number> {
  let fed = 0;
  for (const chunk of chunks) {
    if (stdin.destroyed) break;
    const ok = stdin.write(chunk);
    fed += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (!ok) {
      // Either the CLI reads on (drain) or it exits and the pipe breaks (close): both end the wait.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.removeListener('drain', done);
          stdin.removeListener('close', done);
          resolve();
        };
        stdin.once('drain', done);
        stdin.once('close', done);
      });
    }
  }
  if (!stdin.destroyed) stdin.end();
  return fed;
}

export function crewvaultStreamed(args: readonly string[], options: StreamedCliOptions = {}): Promise<StreamedCliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (options.closeStdout) child.stdout.destroy();
  // The CLI may stop reading and exit before the input ends: that EPIPE is the point, not a failure.
  child.stdin.on('error', () => undefined);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  const fed = feed(child.stdin, options.input ?? []);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      void fed.then((bytesFed) => resolve({ status, signal, stdout, stderr, bytesFed }), reject);
    });
  });
}
