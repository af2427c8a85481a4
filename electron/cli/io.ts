/**
 * What a CLI command may touch of the outside world, passed in so tests can run commands
 * in-process with a pinned clock and captured output. Commands never read process.* directly.
 */
import type { VaultSession } from '../vault/service';
import type { SignInAttempt } from '../vault/sign-in-flow';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /**
   * What is left of piped standard input after the lines readSecret took (`import -`), as the
   * bytes given — not decoded here: the importer decodes (and refuses what is not UTF-8) as it
   * does a file's, and a binary export stays whole — or undefined when it holds more than
   * `maxBytes`: reading stops at that bound.
   */
  readonly readStdin: (maxBytes: number) => Promise<Uint8Array | undefined>;
  /**
   * Asks for one secret line: on a terminal, prompts on stderr without echo; otherwise takes
   * the next line of standard input (so `printf 'pw\nentry-pw\n' | crewvault …` works).
   * The only way a command takes a secret: never as an argument, where the process list and
   * shell history keep it.
   */
  readonly readSecret: (prompt: string) => Promise<string>;
  /** True when secrets would be typed at a terminal (so a new password is asked twice). */
  readonly interactive: boolean;
  /** Milliseconds since the Unix epoch. */
  readonly now: () => number;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Set only inside the unlock agent (`crewvault unlock`): the session it holds, which
   * withSession uses instead of signing in.
   */
  readonly held?: HeldSession | undefined;
}

/** A session `crewvault unlock` began, held by its agent for the commands sent to it. */
export interface HeldSession {
  readonly session: VaultSession;
  readonly attempt: SignInAttempt;
  /** Ends the agent (the session was locked under it: a password changed, an account disabled). */
  readonly ended: (reason: string) => void;
}

/** A mistake in how the command was called: exit 2, with a one-line hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * An argument a command does not take. It is not quoted back: a secret typed in the wrong
 * place (`crewvault passwd NEWPASSWORD`, a password after `--password-prompt`) would otherwise
 * land in the terminal's scrollback and in logs of the script that ran it.
 */
export function unexpectedArgument(): UsageError {
  return new UsageError('unexpected extra argument (not shown, in case it is a secret)');
}

export interface CliCommand {
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: string[], io: CliIo) => Promise<number>;
}

/** Resolves at the first Ctrl+C or SIGTERM (a long-running command's way to stop cleanly). */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
