/**
 * What a CLI command may touch of the outside world, passed in so tests can run commands
 * in-process with a pinned clock and captured output. Commands never read process.* directly.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Reads all of standard input (for secrets piped in rather than put on the command line). */
  readonly readStdin: () => Promise<string>;
  /**
   * Asks for one secret line: on a terminal, prompts on stderr without echo; otherwise takes
   * the next line of standard input (so `printf 'pw\nentry-pw\n' | crewvault …` works).
   */
  readonly readSecret: (prompt: string) => Promise<string>;
  /** True when secrets would be typed at a terminal (so a new password is asked twice). */
  readonly interactive: boolean;
  /** Milliseconds since the Unix epoch. */
  readonly now: () => number;
  readonly env: NodeJS.ProcessEnv;
}

/** A mistake in how the command was called: exit 2, with a one-line hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliCommand {
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: string[], io: CliIo) => Promise<number>;
}
