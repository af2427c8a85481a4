/** `crewvault move "Customer/Title" --group GROUP`: re-seals an entry under another group's key. */
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand, type CliIo } from './io';
import { readRevision } from './rm';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = 'crewvault move [--vault PATH] [--as USER] "Customer/Title" --group GROUP';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, group: { type: 'string' } }, allowPositionals: true });
  const [path, ...rest] = positionals;
  if (path === undefined || rest.length > 0) throw new UsageError('name exactly one entry as "Customer/Title"');
  const group = values.group;
  if (!group) throw new UsageError('--group GROUP names where the entry goes');
  const moved = await withSession(values, io, async (session) => {
    const entry = await session.resolvePath(path);
    // The revision just read: a move between this read and the write is CONFLICT, not undone.
    await session.team.moveEntry(entry.id, await session.team.resolveGroup(group), readRevision(entry.revision));
    return entry;
  });
  io.out(`Moved ${moved.customer}/${moved.title} to ${group}.\n`);
  return 0;
}

export const moveCommand: CliCommand = { summary: 'move an entry to another access group', usage: USAGE, run };
