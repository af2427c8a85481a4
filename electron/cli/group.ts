/**
 * `crewvault group …`: access groups and their members (groups.manage): leads made and unmade,
 * groups renamed and deleted. The rules (a group keeps a lead, names stay unique, only an empty
 * group that is neither the default nor the last is deleted) are TeamService's.
 */
import { parseArgs } from 'node:util';
import { SERVER_CODES_NOTE } from '../../shared/sync/server-codes-note';
import { IF_REVISION_OPTION, ifRevision } from './if-revision';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault group add NAME | list [--json] | grant GROUP USER [--lead] | revoke GROUP USER | members GROUP [--json]
                | lead GROUP USER | unlead GROUP USER | rename GROUP NEWNAME [--if-revision N] | delete GROUP
                | set GROUP --server-codes {on|off} | rotate GROUP    [--vault PATH] [--as USER]
  lead, unlead    make a member a lead of the group, or no longer one; a group's last lead is neither
                  unmade nor revoked (make another member a lead first).
  delete          delete an empty group (move its entries to another group first); never the
                  vault's default group nor its last one. Its keys and name are wiped.
  rename          prints the revision the rename was based on; --if-revision N renames only if the group
                  is still at revision N ("group list --json" shows it), else CONFLICT and nothing changes.
  rotate          change the group's key, nobody removed (its managers: owners, admins, its leads):
                  what is written there from then on opens only to those who hold the group now. For
                  a key change owed (\`crewvault sync\` tells one: a removal whose key change never came).
  set --server-codes  owners and admins: the team server computes the group's TOTP codes (on), or
                  the group is end-to-end encrypted again (off). ${SERVER_CODES_NOTE}`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, lead: { type: 'boolean' }, json: { type: 'boolean' }, 'server-codes': { type: 'string' }, ...IF_REVISION_OPTION }, allowPositionals: true });
  const [sub, group, user, ...rest] = positionals;
  if (rest.length > 0) throw unexpectedArgument();
  // Each subcommand checks the names it needs before signing in: a usage mistake asks no password.
  const needGroup = (): string => {
    if (!group) throw new UsageError(`"group ${sub ?? ''}" needs a GROUP`);
    return group;
  };
  const needUser = (): string => {
    if (!user) throw new UsageError(`"group ${sub ?? ''}" needs a GROUP and a USER`);
    return user;
  };
  switch (sub) {
    case 'add': {
      needGroup();
      const created = await withSession(values, io, async (session) => session.team.createGroup(needGroup()));
      io.out(`Created group ${created.name}; you lead it.\n`);
      return 0;
    }
    case 'list': {
      const groups = await withSession(values, io, (session) => session.team.listGroups());
      if (values.json) io.out(`${JSON.stringify(groups)}\n`);
      else for (const g of groups) io.out(`${g.name}\t${g.members} members\t${g.entries} entries${g.lead ? '\t(you lead)' : ''}${g.serverCodes ? '\t(server computes codes)' : ''}\n`);
      return 0;
    }
    case 'grant':
      needUser();
      await withSession(values, io, async (session) => {
        const groupId = await session.team.resolveGroup(needGroup());
        return session.team.grant(groupId, needUser(), values.lead ?? false, await session.team.groupRevision(groupId));
      });
      io.out(`${needUser()} is now ${values.lead ? 'a lead' : 'a member'} of ${needGroup()}.\n`);
      return 0;
    case 'revoke':
      needUser();
      await withSession(values, io, async (session) => {
        const groupId = await session.team.resolveGroup(needGroup());
        return session.team.revoke(groupId, needUser(), await session.team.memberRevision(groupId, needUser()));
      });
      io.out(`${needUser()} is no longer in ${needGroup()}; the group has a new key.\n`);
      return 0;
    case 'lead':
    case 'unlead': {
      needUser();
      const lead = sub === 'lead';
      await withSession(values, io, async (session) => {
        const groupId = await session.team.resolveGroup(needGroup());
        return session.team.setLead(groupId, needUser(), lead, await session.team.memberRevision(groupId, needUser()));
      });
      io.out(`${needUser()} ${lead ? 'now leads' : 'no longer leads'} ${needGroup()}.\n`);
      return 0;
    }
    case 'rename': {
      if (!user) throw new UsageError('"group rename" needs a GROUP and a NEWNAME');
      const given = ifRevision(values['if-revision']);
      const { base, renamed } = await withSession(values, io, async (session) => {
        const groupId = await session.team.resolveGroup(needGroup());
        const revision = given ?? (await session.team.groupRevision(groupId));
        return { base: revision, renamed: await session.team.renameGroup(groupId, user, revision) };
      });
      io.out(`Renamed ${needGroup()} to ${renamed.name} (based on revision ${base}).\n`);
      return 0;
    }
    case 'delete': {
      if (user) throw unexpectedArgument();
      needGroup();
      const { deleted } = await withSession(values, io, async (session) => {
        const groupId = await session.team.resolveGroup(needGroup());
        return session.team.deleteGroup(groupId, await session.team.groupRevision(groupId));
      });
      io.out(`Deleted group ${deleted}.\n`);
      return 0;
    }
    case 'set': {
      if (user) throw unexpectedArgument();
      needGroup();
      const setting = values['server-codes'];
      if (setting !== 'on' && setting !== 'off') throw new UsageError('"group set" takes --server-codes on or --server-codes off');
      const set = await withSession(values, io, async (session) => {
        const groupId = await session.team.resolveGroup(needGroup());
        return session.team.setServerCodes(groupId, setting === 'on', await session.team.groupRevision(groupId));
      });
      io.out(set.serverCodes
        ? `The team server now computes the TOTP codes of ${set.name} (its keys are handed to it at the next sync; the group's keys were changed).\n${SERVER_CODES_NOTE}\n`
        : `${set.name} is end-to-end encrypted again: the team server computes none of its codes (it is told to forget their keys at the next sync).\n`);
      return 0;
    }
    case 'rotate': {
      if (user) throw unexpectedArgument();
      needGroup();
      await withSession(values, io, async (session) => session.team.rotateKey(await session.team.resolveGroup(needGroup())));
      io.out(`${needGroup()} has a new key; the next sync sends it.\n`);
      return 0;
    }
    case 'members': {
      needGroup();
      const members = await withSession(values, io, async (session) => session.team.members(await session.team.resolveGroup(needGroup())));
      if (values.json) io.out(`${JSON.stringify(members)}\n`);
      else for (const m of members) io.out(`${m.name}\t${m.role}${m.lead ? '\tlead' : ''}\n`);
      return 0;
    }
    default:
      throw new UsageError('the subcommands are add, list, grant, revoke, members, lead, unlead, rename, delete, set, rotate');
  }
}

export const groupCommand: CliCommand = { summary: 'manage access groups and their members', usage: USAGE, run };
