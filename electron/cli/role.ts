/**
 * `crewvault role …`: the built-in roles and custom ones defined from the same permissions.
 * `define` creates only (base 0): a name that exists is refused, never silently redefined (review
 * round eleven hole 5); `--redefine` or `--if-revision N` replace one, printing what they replaced.
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { PERMISSIONS } from '../../shared/policy';
import { IF_REVISION_OPTION, ifRevision } from './if-revision';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault role list [--json] | define NAME PERMISSION[,PERMISSION…] [--redefine | --if-revision N]  [--vault PATH] [--as USER]
  Permissions: ${PERMISSIONS.join(', ')}.
  define          creates a custom role; a name that exists is refused (ALREADY_EXISTS). To replace an
                  existing role's permissions: --redefine (whatever it is now), or --if-revision N (only
                  if it is still at revision N, as "role list --json" showed; else CONFLICT). Either
                  prints the permissions it replaced and the revision it was based on.`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' }, redefine: { type: 'boolean' }, ...IF_REVISION_OPTION }, allowPositionals: true });
  const [sub, name, permissions, ...rest] = positionals;
  if (rest.length > 0) throw unexpectedArgument();
  if (sub === 'list') {
    const roles = await withSession(values, io, (session) => session.team.listRoles());
    if (values.json) io.out(`${JSON.stringify(roles)}\n`);
    else for (const r of roles) io.out(`${r.name}${r.builtIn ? '' : ' (custom)'}\t${r.permissions.join(', ')}\n`);
    return 0;
  }
  if (sub === 'define') {
    if (!name || permissions === undefined) throw new UsageError('"role define" needs a NAME and a comma-separated PERMISSION list');
    const given = ifRevision(values['if-revision']);
    if (given !== undefined && values.redefine) throw new UsageError('give --redefine or --if-revision N, not both');
    const wanted = permissions.split(',').map((p) => p.trim()).filter(Boolean);
    const { before, role } = await withSession(values, io, async (session) => {
      const existing = (await session.team.listRoles()).find((r) => !r.builtIn && r.name.toLowerCase() === name.trim().toLowerCase());
      // A creation names base 0, so a role made meanwhile (here or by a colleague) is a CONFLICT in
      // the write itself; one already there is refused before anything is sent.
      if (given === undefined && !values.redefine && existing) {
        throw new CrewvaultError('ALREADY_EXISTS', `The role "${existing.name}" already exists (revision ${existing.revision}: ${existing.permissions.join(', ') || 'no permissions'}): to replace its permissions, run again with --redefine or --if-revision ${existing.revision}.`);
      }
      const base = given ?? (values.redefine ? (existing?.revision ?? 0) : 0);
      return { before: base > 0 && existing?.revision === base ? existing : undefined, role: await session.team.defineRole(name, wanted, base) };
    });
    const now = role.permissions.join(', ') || '(no permissions)';
    if (before) io.out(`Redefined ${role.name} (based on revision ${before.revision}): ${now}; it was ${before.permissions.join(', ') || '(no permissions)'}.\n`);
    else io.out(`Defined ${role.name} (new, based on revision 0): ${now}.\n`);
    return 0;
  }
  throw new UsageError('the subcommands are list and define');
}

export const roleCommand: CliCommand = { summary: 'list roles, or define a custom one', usage: USAGE, run };
