/** `crewvault otp`: the live code of one entry, found by exact "Customer/Title". Audited. */
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = 'crewvault otp [--vault PATH] [--user NAME] "Customer/Title" [--at UNIX_SECONDS] [--json]';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, at: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [path, ...rest] = positionals;
  if (path === undefined || rest.length > 0) throw new UsageError('name exactly one entry as "Customer/Title"');
  if (values.at !== undefined && !/^\d{1,12}$/.test(values.at)) throw new UsageError('--at must be a whole number of seconds since 1970');
  // Without --at, "now" is the vault's, read when the code is computed: one read here would be
  // a sign-in earlier, a step before for someone who may see the current code only.
  const atMs = values.at === undefined ? undefined : Number(values.at) * 1000;
  // 'print': a code handed to a terminal, pipe or script is an act, audited every time.
  const result = await withSession(values, io, async (session) => session.otpCode((await session.resolvePath(path)).id, atMs, 'print'));
  if (values.json) {
    io.out(`${JSON.stringify('counter' in result
      ? { code: result.code, next: result.next, counter: result.counter }
      : { code: result.code, next: result.next, period: result.period, remaining: result.remainingSeconds })}\n`);
  } else {
    io.out(`${result.code}\n`);
  }
  return 0;
}

export const otpCommand: CliCommand = { summary: 'print the current code of an entry', usage: USAGE, run };
