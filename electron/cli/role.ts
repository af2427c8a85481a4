/** `crewvault role …`: the built-in roles and custom ones defined from the same permissions. */
import { parseArgs } from 'node:util';
import { PERMISSIONS } from '../../shared/policy';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault role list [--json] | define NAME PERMISSION[,PERMISSION…]  [--vault PATH] [--as USER]
  Permissions: ${PERMISSIONS.join(', ')}.`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' } }, allowPositionals: true });
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
    const role = await withSession(values, io, async (session) => session.team.defineRole(name, permissions.split(',').map((p) => p.trim()).filter(Boolean), await session.team.roleRevision(name)));
    io.out(`Defined ${role.name}: ${role.permissions.join(', ') || '(no permissions)'}.\n`);
    return 0;
  }
  throw new UsageError('the subcommands are list and define');
}

export const roleCommand: CliCommand = { summary: 'list roles, or define a custom one', usage: USAGE, run };
