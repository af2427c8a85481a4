/** The process-facing end of the CLI: wires real stdio and the clock into runCli. */
import { UsageError } from './io';
import { runCli } from './main';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('"-" reads from standard input, which is a terminal here: pipe the value in');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readStdin,
  now: () => Date.now(),
});
process.exitCode = code;
