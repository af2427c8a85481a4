/**
 * What a CLI command may touch of the outside world, passed in so tests can run commands
 * in-process with a pinned clock and captured output. Commands never read process.* directly.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Reads all of standard input (for secrets piped in rather than put on the command line). */
  readonly readStdin: () => Promise<string>;
  /** Milliseconds since the Unix epoch. */
  readonly now: () => number;
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
