/** `crewvault list`: the entries you can see, one per line or as JSON. */
import { parseArgs } from 'node:util';
import { unexpectedArgument, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = 'crewvault list [--vault PATH] [--user NAME] [--customer C] [--search TEXT] [--json]';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...VAULT_OPTIONS, customer: { type: 'string' }, search: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw unexpectedArgument();
  const entries = await withSession(values, io, (session) =>
    session.listEntries({
      ...(values.customer === undefined ? {} : { customer: values.customer }),
      ...(values.search === undefined ? {} : { search: values.search }),
    }),
  );
  if (values.json) {
    io.out(`${JSON.stringify(entries)}\n`);
  } else {
    for (const e of entries) io.out(`${e.customer}/${e.title}\t${e.username}\t${e.url}\t${e.otp ? e.otp.kind.toUpperCase() : ''}\n`);
  }
  return 0;
}

export const listCommand: CliCommand = { summary: 'list entries (filter by customer or search text)', usage: USAGE, run };
