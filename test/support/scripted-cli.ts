/**
 * One CLI command run in-process with scripted answers: each answer is one secret prompt's line,
 * in order (a function is asked at the prompt, so a test can move the clock while "the person
 * types"). Used by the tests that drive the router and the CLI side by side.
 */
import { runCli } from '../../electron/cli/main';
import type { Clock } from '../../electron/vault/service';

export type ScriptedAnswer = string | (() => string);

export interface CliOutcome {
  readonly status: number;
  readonly stdout: string;
  /** Everything the command said to the person (prompts are the test's, not here). */
  readonly stderr: string;
  /** 'ok', or the stable error code the CLI printed. */
  readonly code: string;
  readonly message: string;
}

export async function runScripted(args: readonly string[], answers: readonly ScriptedAnswer[], clock: Clock, env: NodeJS.ProcessEnv = {}): Promise<CliOutcome> {
  const lines = [...answers];
  let stdout = '';
  let stderr = '';
  const status = await runCli([...args], {
    out: (text) => { stdout += text; },
    err: (text) => { stderr += text; },
    readStdin: () => Promise.resolve(Buffer.alloc(0)),
    readSecret: () => {
      const next = lines.shift();
      if (next === undefined) return Promise.reject(new Error('the test gave no more input'));
      return Promise.resolve(typeof next === 'function' ? next() : next);
    },
    interactive: false,
    now: () => clock.now(),
    env,
  });
  const error = /(?:^|\n)crewvault: ([A-Z_]+): (.*)\n$/.exec(stderr);
  return { status, stdout, stderr, code: status === 0 ? 'ok' : error?.[1] ?? stderr, message: error?.[2] ?? '' };
}
