/** `crewvault rm`: deletes one entry, found by exact "Customer/Title". */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault rm [--vault PATH] [--user NAME] "Customer/Title" [--if-revision N]
  --if-revision N  delete only if the entry is still at revision N (from "show"): CONFLICT if
                   someone changed it since, and nothing is deleted.`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, 'if-revision': { type: 'string' } }, allowPositionals: true });
  const [path, ...rest] = positionals;
  if (path === undefined || rest.length > 0) throw new UsageError('name exactly one entry as "Customer/Title"');
  const typed = values['if-revision'];
  if (typed !== undefined && !/^[1-9]\d{0,14}$/.test(typed)) throw new UsageError('--if-revision is a revision number, as "show" prints it');
  const removed = await withSession(values, io, async (session) => {
    const entry = await session.resolvePath(path);
    // The vault takes no delete without a base revision: the one typed, else the one just read.
    await session.deleteEntry(entry.id, typed === undefined ? readRevision(entry.revision) : Number(typed));
    return entry;
  });
  io.out(`Deleted ${removed.customer}/${removed.title} and its secrets.\n`);
  return 0;
}

/** The revision a read handed back (resolvePath always gives one; its absence is a defect). */
export function readRevision(revision: number | undefined): number {
  if (revision === undefined) throw new CrewvaultError('INTERNAL', 'The entry was read without its revision: nothing was changed.');
  return revision;
}

export const rmCommand: CliCommand = { summary: 'delete an entry', usage: USAGE, run };
