/** `crewvault list`: the entries you can see, one per line or as JSON. */
import { parseArgs } from 'node:util';
import { printable } from '../../shared/text';
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
  const { customer, search } = values;
  const { entries, elsewhere } = await withSession(values, io, async (session) => {
    const entries = await session.listEntries({ ...(customer === undefined ? {} : { customer }), ...(search === undefined ? {} : { search }) });
    // A customer filter and a search that find nothing together: how many the search finds
    // without the filter, so the empty answer is not taken for "the vault lacks it" (as the
    // page says its filter is on).
    const elsewhere = entries.length === 0 && customer !== undefined && search !== undefined ? (await session.listEntries({ search })).length : undefined;
    return { entries, elsewhere };
  });
  if (values.json) {
    io.out(`${JSON.stringify(entries)}\n`);
  } else {
    for (const e of entries) io.out(`${e.customer}/${e.title}\t${e.username}\t${e.url}\t${e.otp ? e.otp.kind.toUpperCase() : ''}\n`);
  }
  if (elsewhere !== undefined) {
    const nothing = `crewvault: nothing of customer "${printable(customer ?? '', 80)}" matches "${printable(search ?? '', 80)}"`;
    io.err(elsewhere === 0 ? `${nothing}, nor of any other customer.\n` : `${nothing}; without --customer, ${elsewhere} ${elsewhere === 1 ? 'entry does' : 'entries do'}.\n`);
  }
  return 0;
}

export const listCommand: CliCommand = { summary: 'list entries (filter by customer or search text)', usage: USAGE, run };
