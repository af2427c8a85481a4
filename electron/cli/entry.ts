/** The process-facing end of the CLI: wires real stdio, the clock and prompts into runCli. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from './io';
import { runCli } from './main';

let stdinText: Promise<string> | undefined;
function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return Promise.reject(new UsageError('"-" reads from standard input, which is a terminal here: pipe the value in'));
  stdinText ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  })();
  return stdinText;
}

let pipedLines: string[] | undefined;
async function nextPipedLine(): Promise<string> {
  pipedLines ??= (await readStdin()).split(/\r?\n/);
  const line = pipedLines.shift();
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

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readStdin,
  readSecret: (prompt) => (process.stdin.isTTY ? promptHidden(prompt) : nextPipedLine()),
  interactive: Boolean(process.stdin.isTTY),
  now: () => Date.now(),
  env: process.env,
});
process.exitCode = code;
