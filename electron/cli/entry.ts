/**
 * The process-facing end of the CLI: wires real stdio, the clock and prompts into runCli.
 * Standard input is read only as far as asked and never past a bound (a password line, or
 * what `import -` allows), so `crewvault list < /dev/zero` cannot fill memory.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { LineReader, MAX_SECRET_LINE_BYTES } from './bounded-input';
import { UsageError } from './io';
import { runCli } from './main';

let stdin: LineReader | undefined;
function pipedStdin(): LineReader {
  if (process.stdin.isTTY) throw new UsageError('"-" reads from standard input, which is a terminal here: pipe the value in');
  stdin ??= new LineReader(process.stdin);
  return stdin;
}

function readStdin(maxBytes: number): Promise<Uint8Array | undefined> {
  return pipedStdin().rest(maxBytes);
}

async function nextPipedLine(): Promise<string> {
  const line = await pipedStdin().line(MAX_SECRET_LINE_BYTES);
  if (line === undefined) throw new UsageError('standard input ended before every password was given');
  return line;
}

/** Prompts on stderr and reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve, reject) => {
    rl.once('line', (line) => {
      rl.close();
      process.stderr.write('\n');
      resolve(line);
    });
    rl.once('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      reject(new UsageError('cancelled'));
    });
  });
}

/**
 * A reader that stops early (`crewvault list | head -1`) closes the pipe under us: the next
 * write fails with EPIPE, an 'error' event that would otherwise end the process with a stack
 * trace. Output nobody reads is dropped, and the command still finishes what it began (an
 * import commits, an HOTP counter is saved, the vault is closed cleanly). The exit status is
 * the command's own — 0 when it succeeded — not the 141 of a process killed by SIGPIPE (what
 * `yes | head -1` gives): the reader chose to stop, the work was done, and a status saying it
 * failed would break `set -o pipefail` scripts that only wanted the first line.
 */
const gone = { stdout: false, stderr: false };
let outputFailed = false;
function watchOutput(stream: NodeJS.WriteStream, name: keyof typeof gone): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    gone[name] = true;
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    // Anything else (a full disk behind a redirect, EIO) lost output the user expected.
    outputFailed = true;
    if (name === 'stdout' && !gone.stderr) process.stderr.write(`crewvault: INTERNAL: cannot write to standard output (${error.code ?? error.name})\n`);
  });
}
watchOutput(process.stdout, 'stdout');
watchOutput(process.stderr, 'stderr');

const code = await runCli(process.argv.slice(2), {
  out: (text) => {
    if (!gone.stdout) process.stdout.write(text);
  },
  err: (text) => {
    if (!gone.stderr) process.stderr.write(text);
  },
  readStdin,
  readSecret: (prompt) => (process.stdin.isTTY ? promptHidden(prompt) : nextPipedLine()),
  interactive: Boolean(process.stdin.isTTY),
  now: () => Date.now(),
  env: process.env,
});
process.exitCode = outputFailed && code === 0 ? 1 : code;
