/**
 * The "server computes codes" setting of an access group, as its signed `group` record carries it
 * (`serverCodes`, schema 16; docs/SYNC.md "Server-computed codes"), applied in the push that brings
 * it (server/sync/records.ts, after who is who): the server, not a desktop's say-so, decides which
 * groups it takes sealed keys for and when it drops them.
 * - Only an owner or admin turns it on or off (a group new to the server too); a record without the
 *   field (a desktop from before it) leaves it as held.
 * - Turned off: every sealed key of the group is dropped in the same transaction, and audited; a
 *   group deleted loses its setting and keys once its record is stored (store/code-seals.ts).
 * - A push after which a group set so wraps its secret key for a role that may not hold it there is
 *   refused (shared/policy mayHoldSecretKeyIn, group-keys.ts needsSecretKeyIn on the desktop: only a
 *   role with otp.reveal_secret holds it; codes-only, an auditor, a role that reveals passwords but
 *   not OTP keys hold the list key alone): a member record granting it, the setting turned on without
 *   the rotation that re-wraps, a member given such a role without re-wrapping, a role record
 *   narrowing its holders so without re-wrapping. A member record carries the list key and the
 *   secret key as two fields, so the server tells them apart without opening either. The role is
 *   read off the permissions as the server holds them after the push: a built-in role's, a custom
 *   role's record (this push's, else the one stored), review 13a hole 1. Only a wrap the push adds
 *   counts: one held before (a vault set so before the rule) leaves the push be, else every people
 *   push of that vault would be refused; an owner's or admin's desktop rotates it away (CodesRulesInput).
 * - A push after which a member of a group set so holds the list key alone, having held the secret
 *   key at the group's current version or a later one, is refused (review 13a hole 5, finding D6):
 *   the key they hold would open everything written there from then on. Taking it away is a
 *   rotation (team.ts followRole). Judged on the state the push leaves, against the highest version
 *   each member held the secret key at (`sync_secret_key_held`, schema 30), not on what one push
 *   changed: a push in parts, a key taken then given back list-only, or the setting turned off and
 *   on again around a re-wrap, all leave the same state and are refused alike.
 * Must never: let anyone but an owner or admin change the setting, or store part of a push it refuses.
 */
import { CrewvaultError } from '../../shared/errors';
import { mayHoldSecretKeyIn, ROLE_PERMISSIONS, ROLES } from '../../shared/policy';
import type { PeopleRecord, RoleRecord } from '../../shared/sync/records';
import type { AuditEvent } from '../audit';
import { dropEndedSeals } from '../store/code-seals';
import { secretWrapsFor, serverCodeGroups, serverCodeGroupsOf, setServerCodeGroup } from '../store/codes';
import type { Transaction } from '../store/db';
import { holdsEveryGroup } from '../store/membership';
import { customRolesOf, secretsTakenAtCurrent } from '../store/secret-holders';

/** The built-in roles that hold no secret key in a group whose codes the server computes (shared/policy.ts mayHoldSecretKeyIn). */
const LIST_KEY_ONLY_ROLES: readonly string[] = ROLES.filter((role) => !mayHoldSecretKeyIn(ROLE_PERMISSIONS[role], true));

/**
 * Every role of the vault that may not hold a server-codes group's secret key, as the server will
 * hold it once this push is stored: the built-in ones, and each custom role by its permissions (the
 * push's own record of it first).
 */
async function listKeyOnlyRolesOf(tx: Transaction, vaultId: string, pushedRoles: readonly RoleRecord[]): Promise<string[]> {
  const custom = await customRolesOf(tx, vaultId);
  for (const role of pushedRoles) custom.set(role.name, role.permissions);
  return [...LIST_KEY_ONLY_ROLES, ...[...custom].flatMap(([name, permissions]) => (mayHoldSecretKeyIn(permissions, true) ? [] : [name]))];
}

/**
 * Before a push's people records are applied: the secret-key wraps held already by someone whose
 * role may not hold them, which a push leaves be.
 */
export async function codesRulesBefore(tx: Transaction, vaultId: string, records: readonly PeopleRecord[], roles: readonly RoleRecord[]): Promise<CodesRulesInput> {
  if (records.length === 0 && roles.length === 0) return { roles, forbiddenBefore: new Set() };
  return { roles, forbiddenBefore: await forbiddenWraps(tx, vaultId, await groupsToJudge(tx, vaultId, records, new Set(), roles), []) };
}

/** What applyServerCodesSetting judges beside the people records: the push's role records, and what codesRulesBefore read. */
export interface CodesRulesInput {
  readonly roles: readonly RoleRecord[];
  /**
   * Secret-key wraps ("group user keyVersion wrappedSecretKey": the wrap itself, byte for byte) in server-codes groups held before the push by
   * someone whose role may not hold them there: a vault set up before the rule (shared/policy
   * mayHoldSecretKeyIn) narrowed who holds it. The push is not refused for them (every push of
   * the vault would be, review of D2); an owner's or admin's desktop rotates them away
   * (team.ts takeStraySecretKeys). A wrap the push adds is refused.
   */
  readonly forbiddenBefore: ReadonlySet<string>;
}

/** The groups whose secret-key wraps a push may change the standing of: the ones its records name, and every server-codes group when it changes a user or a role. */
async function groupsToJudge(tx: Transaction, vaultId: string, records: readonly PeopleRecord[], stale: ReadonlySet<string>, roles: readonly RoleRecord[]): Promise<string[]> {
  const touched = new Set(records.flatMap((r) => (stale.has(r.id) ? [] : r.kind === 'group' ? [r.id] : r.kind === 'member' ? [r.group] : [])));
  if (roles.length > 0 || records.some((r) => r.kind === 'user' && !stale.has(r.id))) for (const group of await serverCodeGroupsOf(tx, vaultId)) touched.add(group);
  return [...touched];
}

/** The secret-key wraps among these groups, those set to server codes, held by someone whose role (as the push leaves it) may not hold them. */
async function forbiddenWraps(tx: Transaction, vaultId: string, groups: readonly string[], pushedRoles: readonly RoleRecord[]): Promise<Set<string>> {
  const setOn = await serverCodeGroups(tx, vaultId, groups);
  return setOn.size === 0 ? new Set() : secretWrapsFor(tx, vaultId, [...setOn], await listKeyOnlyRolesOf(tx, vaultId, pushedRoles));
}

/**
 * Returns the audit events of what it changed, for the caller to append once the push can no longer
 * be refused or meet conflicts (records.ts storePush): a signed row appended here and then rolled back
 * with the push would be a signature of the server's the audit never holds.
 */
export async function applyServerCodesSetting(
  tx: Transaction, vaultId: string, pusher: { readonly role: string | null }, records: readonly PeopleRecord[], stale: ReadonlySet<string>, actorId: string, source: string,
  input: CodesRulesInput = { roles: [], forbiddenBefore: new Set() },
): Promise<AuditEvent[]> {
  // A group deleted has no setting left to change: its end (the setting and its keys) follows its stored record (records.ts storePush).
  const groups = records.flatMap((r) => (r.kind === 'group' && !stale.has(r.id) && r.deletedAt === null && r.serverCodes !== undefined ? [{ id: r.id, on: r.serverCodes }] : []));
  const held = await serverCodeGroups(tx, vaultId, groups.map((g) => g.id));
  const events: AuditEvent[] = [];
  for (const group of groups) {
    if (group.on === held.has(group.id)) continue;
    if (!holdsEveryGroup(pusher.role)) {
      throw new CrewvaultError('FORBIDDEN', 'Only an owner or admin turns "server computes codes" on or off for a group: nothing was stored.');
    }
    // Turned off: the setting and every sealed key of the group go together (store/code-seals.ts).
    if (group.on) await setServerCodeGroup(tx, vaultId, group.id, true);
    else events.push(...await dropEndedSeals(tx, vaultId, { entries: [], groups: [group.id] }, { id: actorId, source }));
  }
  // After this push: no group set so may hold a secret-key wrap it did not hold before for a member
  // whose role may not hold it there, whether the push granted it (a member record), turned the
  // setting on (without a rotation that re-wraps), gave a member such a role (a user record) or
  // narrowed a role so (a role record) — each refused whole. A wrap held so before the push (a vault
  // from before the rule) does not refuse it: an owner's or admin's desktop rotates it away (CodesRulesInput).
  const after = await forbiddenWraps(tx, vaultId, await groupsToJudge(tx, vaultId, records, stale, input.roles), input.roles);
  if ([...after].some((wrap) => !input.forbiddenBefore.has(wrap))) {
    throw new CrewvaultError('FORBIDDEN', 'This would give a group\'s secret key to someone whose role may not reveal its OTP keys (otp.reveal_secret), in a group whose codes the team server computes: nothing was stored.');
  }
  if (records.length > 0) await refuseSecretTakenWithoutRotation(tx, vaultId);
  return events;
}

/**
 * Review 13a hole 5 and finding D6: in a group whose codes the server computes (after this push), a
 * member who held the secret key at the group's current version, now wrapped there without it,
 * keeps the key that opens everything written there next: the version must move (a rotation).
 * Judged on the state the push leaves, so no split of it into parts, and no way round through the
 * setting turned off and on, takes the key without the rotation. Only a push with people records
 * changes a wrap, a group's version or its setting: the others are not asked.
 */
async function refuseSecretTakenWithoutRotation(tx: Transaction, vaultId: string): Promise<void> {
  const taken = await secretsTakenAtCurrent(tx, vaultId);
  if (taken.length > 0) {
    throw new CrewvaultError('FORBIDDEN', 'This takes a group\'s secret key from someone who holds it at the group\'s current key version, without moving the group to a new key version: they would keep a key that opens what is written there next. Nothing was stored; rotate the group\'s keys in the same push (a current desktop does so).');
  }
}
