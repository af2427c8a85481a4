/**
 * `crewvault policy mfa …`: who must (or may) use two-step sign-in, for everyone or per role.
 * Reading it needs only a sign-in; setting it needs users.manage. A change reads the policy's
 * revision first and sends it (#13): a policy changed in between is refused (CONFLICT).
 */
import { parseArgs } from 'node:util';
import { foldRoleName } from '../../shared/policy';
import { MFA_POLICIES, type MfaPolicy, type MfaPolicyLevel } from '../vault/mfa';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault policy mfa [${MFA_POLICIES.join('|')}] [--role ROLE] [--json]  [--vault PATH] [--as USER]
  With a level, sets two-step sign-in for everyone, or for one role (users.manage); a role with its own
  level keeps it when the level for everyone changes. Without one, prints the policy.
  off: no new authenticator is set up (one already set up still asks for its code). optional: each
  person chooses. required: every command asks for a code, and a person without an authenticator can
  run only "crewvault mfa begin" and "mfa confirm"; "mfa off" is refused.`;

function isLevel(value: string): value is MfaPolicyLevel {
  return (MFA_POLICIES as readonly string[]).includes(value);
}

/** The role as the vault names it; a misspelt one would otherwise set a policy that applies to nobody. */
function printPolicy(io: CliIo, policy: MfaPolicy & { readonly revision: number }, json: boolean): void {
  if (json) {
    io.out(`${JSON.stringify({ global: policy.global, roles: policy.roles, revision: policy.revision })}\n`);
    return;
  }
  io.out(`everyone\t${policy.global}\n`);
  for (const [role, level] of Object.entries(policy.roles).sort(([a], [b]) => a.localeCompare(b))) io.out(`${role}\t${level}\n`);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, role: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true });
  const [sub, level, ...rest] = positionals;
  if (sub !== 'mfa') throw new UsageError('the only policy is "mfa"');
  if (rest.length > 0) throw unexpectedArgument();
  if (level === undefined) {
    if (values.role !== undefined) throw new UsageError('--role goes with a level: policy mfa LEVEL --role ROLE');
    const policy = await withSession(values, io, (session) => session.mfa.policy());
    printPolicy(io, policy, values.json ?? false);
    return 0;
  }
  if (!isLevel(level)) throw new UsageError(`LEVEL is one of ${MFA_POLICIES.join(', ')}`);
  if (values.role !== undefined && values.role.trim() === '') throw new UsageError('--role needs a ROLE');
  const roleOption = values.role;
  const policy = await withSession(values, io, async (session) => session.mfa.setPolicy(level, roleOption, (await session.mfa.policy()).revision));
  // The service stores the role under its defined name; say that one (found by the vault's own
  // reading of a role name: "Team lead" is team_lead).
  const wanted = roleOption === undefined ? undefined : foldRoleName(roleOption);
  const role = wanted === undefined ? undefined : (Object.keys(policy.roles).find((name) => foldRoleName(name) === wanted) ?? roleOption);
  if (values.json) printPolicy(io, policy, true);
  else io.out(`Two-step sign-in is now ${level} for ${role ?? 'everyone'}${role === undefined && Object.keys(policy.roles).length > 0 ? ' (roles with a level of their own keep it)' : ''}.\n`);
  return 0;
}

export const policyCommand: CliCommand = { summary: 'show or set the two-step sign-in policy', usage: USAGE, run };
