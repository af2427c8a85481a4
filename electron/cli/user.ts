/** `crewvault user …`: people and their roles (users.manage). */
import { parseArgs } from 'node:util';
import { ROLES } from '../../shared/policy';
import { IF_REVISION_OPTION, ifRevision } from './if-revision';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { readNewPassword } from './new-password';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault user add NAME --role ROLE | list [--json] | disable NAME [--if-revision N] | role NAME ROLE [--if-revision N] | reset-password NAME
               | bind NAME --account SERVER-USER [--fingerprint FP] [--server URL]
               [--vault PATH] [--as USER]
  Roles: ${ROLES.join(', ')}, or a custom one ("crewvault role"). "add" and "reset-password" read, after your password, the
  one-time password to hand over (twice on a terminal).
  "disable" and "role" print the revision they were based on; --if-revision N changes the user only if they are
  still at revision N ("user list --json" shows it), else CONFLICT and nothing changes.
  "bind" (owners): NAME becomes SERVER-USER's account on the team server, re-keyed to that account's key, so they join
  with "crewvault join" on their own desktop. FP is the fingerprint they read to you from their screen at
  "crewvault login --invite" (asked for when not given); a key the server hands over with another is refused.`;

function role(value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`ROLE is one of ${ROLES.join(', ')} or a custom role`);
  return value.trim();
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args, options: { ...VAULT_OPTIONS, role: { type: 'string' }, json: { type: 'boolean' }, account: { type: 'string' }, fingerprint: { type: 'string' }, server: { type: 'string' }, ...IF_REVISION_OPTION }, allowPositionals: true,
  });
  const [sub, name, extra, ...rest] = positionals;
  if (rest.length > 0) throw unexpectedArgument();
  // Each subcommand checks the names it needs before signing in: a usage mistake asks no password.
  const needName = (): string => {
    if (!name) throw new UsageError(`"user ${sub ?? ''}" needs a NAME`);
    return name;
  };
  switch (sub) {
    case 'add': {
      needName();
      const newRole = role(values.role);
      const user = await withSession(values, io, async (session) => session.createUser(needName(), newRole, await readNewPassword(io, needName())));
      io.out(`Added ${user.name} (${user.role}).\n`);
      return 0;
    }
    case 'list': {
      const users = await withSession(values, io, (session) => session.team.listUsers());
      if (values.json) io.out(`${JSON.stringify(users)}\n`);
      else for (const u of users) io.out(`${u.name}\t${u.role}${u.disabled ? '\tdisabled' : ''}\n`);
      return 0;
    }
    case 'disable': {
      needName();
      const given = ifRevision(values['if-revision']);
      const base = await withSession(values, io, async (session) => {
        const revision = given ?? (await session.team.userRevision(needName()));
        await session.team.disableUser(needName(), revision);
        return revision;
      });
      io.out(`Disabled ${needName()} (based on revision ${base}); the groups they held have new keys.\n`);
      return 0;
    }
    case 'role': {
      needName();
      const newRole = role(extra);
      const given = ifRevision(values['if-revision']);
      const { base, user } = await withSession(values, io, async (session) => {
        const revision = given ?? (await session.team.userRevision(needName()));
        return { base: revision, user: await session.team.changeRole(needName(), newRole, revision) };
      });
      io.out(`${user.name} is now ${user.role} (based on revision ${base}).\n`);
      return 0;
    }
    case 'reset-password':
      needName();
      await withSession(values, io, async (session) => {
        const password = await readNewPassword(io, needName());
        // Read after the prompt: what is sent is the user as it stood when the password was typed.
        return session.team.resetPassword(needName(), password, await session.team.userRevision(needName()));
      });
      io.out(`${needName()} has a new password and new keys; hand the one-time password over in person.\n`);
      return 0;
    case 'bind': {
      if (values.account === undefined) throw new UsageError('user bind needs --account SERVER-USER');
      await (await import('./user-bind')).bindUser(needName(), values.account, values, io);
      return 0;
    }
    default:
      throw new UsageError('the subcommands are add, list, disable, role, reset-password, bind');
  }
}

export const userCommand: CliCommand = { summary: 'manage users and roles', usage: USAGE, run };
