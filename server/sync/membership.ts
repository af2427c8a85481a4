/**
 * Who a pushing or pulling account is in a team vault, and what it may change of the vault's
 * people, groups and memberships (#15, docs/SYNC.md). The server decides from what it holds
 * (server/store/membership.ts): the account's vault user, set by an owner's desktop or — once —
 * by the vault's creator binding itself as its owner; never by whoever pushes first.
 * Must never: let an account act as a vault user it is not bound to, or a disabled one act.
 */
import { createHash } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { builtInRoleNamed, isBuiltInRole, mayHoldSecretKeyIn, OWNER_GRANTED_ROLES, whyNotActOn, whyNotAssignRole, whyNotManageVault, type Permission } from '../../shared/policy';
import { entryWriteNeeds, makesGroups, managesLedGroups } from '../../shared/policy-writes';
import { memberRecordId, vaultObjectId, type EntryRecord, type MfaPolicyRecord, type PeopleRecord, type ReplicaRecord, type VaultObjectKind, type VaultObjectRecord, VAULT_OBJECT_KINDS } from '../../shared/sync/records';
import { findUserById } from '../store/accounts';
import { serverCodeGroups } from '../store/codes';
import { entryShapesOf, groupHoldsEntries, vaultObjectBody } from '../store/sync';
import type { Queryable, Transaction } from '../store/db';
import { endClaims } from '../store/rotation-claims';
import {
  deletedGroupsHeld, dropMembership, dropMembershipsBelow, getGroup, getMembership, getPerson, groupsOf, groupsWithMembership, holdsEveryGroup, type GroupReads, leadsOf, ownerBound, personOfAccount, putGroup, putMembership, putPerson,
  rolePermissionsOf,
} from '../store/membership';

/** The account in this vault: the vault user it acts as (null: the creator, not bound yet), and their role. */
export interface InVault {
  readonly vaultUser: string | null;
  readonly role: string | null;
  /** The vault's creator binding itself in this very push (its role is taken from its own user record, if the push carries one). */
  readonly justBound?: boolean;
}

/**
 * A vault the server does not hold, as told to `role` (the account's server role): only an owner of
 * this server, who may move a vault here (and so learns by a push which ids are held), is told so;
 * anyone else gets the answer of a vault they are not a person of (review 13a hole 4: no vault ids told).
 */
export function noSuchVaultFor(role: string): CrewvaultError {
  return role === 'owner' ? new CrewvaultError('NOT_FOUND', 'This server holds no such vault: an owner moves it here first.') : notAPerson();
}

/** The one answer to an account that is not a person of a vault (the stream gives it for a vault the server does not hold, too). */
export function notAPerson(): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', 'This account is not a person of this vault: an owner adds you to it from their desktop.');
}

/** The savepoint a creator's binding is written after (actingPerson), undone with what follows when its push meets conflicts. */
export const BINDING_SAVEPOINT = 'binding';

/**
 * The pushing account as a person of the vault. Bound already: that person (refused when
 * disabled). Not bound: only the vault's creator (an owner of this server, who moved the vault
 * here) binds itself, once, as an owner, to the one vault user its records are signed by — and
 * only to a vault user no other account holds and no owner's desktop gave another role.
 */
export async function actingPerson(tx: Transaction, vaultId: string, createdBy: string, accountId: string, signedBy: ReadonlySet<string>): Promise<InVault> {
  const person = await personOfAccount(tx, vaultId, accountId);
  if (person !== undefined) {
    if (person.disabled) throw new CrewvaultError('FORBIDDEN', 'Your vault user is disabled: nothing was stored.');
    return person;
  }
  // The creator is an owner by having moved the vault only until an owner is bound: then (its own
  // vault user bound to another account, say) it is a person of the vault only if bound again.
  if (accountId !== createdBy || (await ownerBound(tx, vaultId))) throw notAPerson();
  if (signedBy.size === 0) return { vaultUser: null, role: 'owner' };
  const [author] = [...signedBy];
  if (signedBy.size !== 1 || author === undefined) throw new CrewvaultError('FORBIDDEN', 'These records are signed in more than one person\'s name.');
  const existing = await getPerson(tx, vaultId, author);
  if (existing !== undefined && (existing.accountId !== null || (existing.role !== null && existing.role !== 'owner') || existing.disabled)) {
    throw new CrewvaultError('FORBIDDEN', 'These records are signed in another person\'s name.');
  }
  const bound = { vaultUser: author, accountId, role: 'owner', disabled: false };
  // The one write a push makes before its conflicts are known without people records: storePush
  // rolls back to here when the push meets conflicts (it then binds nobody, as it changes nothing).
  await tx.query(`SAVEPOINT ${BINDING_SAVEPOINT}`);
  await putPerson(tx, vaultId, bound);
  return { ...bound, justBound: true };
}

/** The pulling account as a person of the vault (read-only: a pull binds nobody). */
export async function pullingPerson(db: Queryable, vaultId: string, createdBy: string, accountId: string): Promise<InVault> {
  const person = await personOfAccount(db, vaultId, accountId);
  if (person !== undefined) {
    if (person.disabled) throw new CrewvaultError('FORBIDDEN', 'Your vault user is disabled.');
    return person;
  }
  if (accountId === createdBy && !(await ownerBound(db, vaultId))) return { vaultUser: null, role: 'owner' };
  throw notAPerson();
}

// ---- who may change who is who ------------------------------------------------------------------

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** What a push's people records changed, for what comes after them in the same push. */
export interface PeopleOutcome {
  /** Records older than what the server holds (a key version since replaced): not stored, not an error. */
  readonly stale: ReadonlySet<string>;
  /** Groups someone joined in this push: their entries are stored again after it, so the new member's next pull brings them. */
  readonly joined: ReadonlySet<string>;
  /** Groups deleted by this push (by someone who managed them): its entries may leave them in it. */
  readonly deleted: ReadonlySet<string>;
  /** Memberships this push made (not a rotation's re-wraps of members it cut off): dated after the push's records once they are stored (datePushedJoins). */
  readonly joins: ReadonlyArray<{ readonly groupId: string; readonly vaultUser: string }>;
  /** Groups this push moves to a new key version (a rotation), each with that version: records.ts judges what it leaves under the old one (review R1). */
  readonly rotated: ReadonlyMap<string, number>;
  /**
   * Groups this push sends a live record of (a rotation, a rename) that the server holds deleted: stale, stored as nothing.
   * records.ts names the deletion as a conflict when it was stored after what the pusher pulled: told nothing, its desktop
   * marked the record sent and then judged the deletion older than its own record (the group stayed there for good).
   */
  readonly deletedBefore: ReadonlySet<string>;
  /**
   * Groups this push revokes a member of at a key version below the one the server holds, and does not move to a new
   * one itself (a revoke ahead of its rotation, electron/team/sync.ts partsOf): records.ts names the group as a conflict
   * when its record was stored after what the pusher pulled. Stored, the revoke passed under a rotation its desktop never
   * saw: that rotation's wrap of the member went unseen by its rotation (given way, not made again) and the member's
   * desktop, holding that version, read the revoke as one its version had passed (revoke-first-crossing-rotation).
   */
  readonly revokedBelow: ReadonlySet<string>;
}

/**
 * Checks and applies a push's `user`, `group` and `member` records, in that order, in the push's
 * transaction (any refusal rolls the whole push back). Rights are judged from what the server
 * held before this push (a rotating lead's own membership is re-wrapped in the same push):
 * - `user`: owners and admins; making or changing an owner or admin, and binding a server
 *   account, only an owner; nobody changes their own role or disables themselves.
 * - `group`: a new one by a role that manages groups (owner, admin, team_lead), but one the server
 *   already holds entries of only by an owner or admin; a change (rename, new key version, delete)
 *   by whoever manages it: owners, admins, or its lead with such a role; deleted only when it holds
 *   no live entry but those this push moves out or deletes (`leaving`: group → entry ids).
 *   A new key version cuts off at once everyone not re-wrapped at it (a revoke).
 * - A new key version, or a member record wrapping the group's secret key (but one stored already),
 *   only from a role that may hold that secret key there (shared/policy mayHoldSecretKeyIn).
 * - `member`: granted, changed or revoked by whoever manages the group; nobody adds themselves
 *   or makes themselves a lead (but a creator's own first wrap, and a lead's own re-wrap at a
 *   new version, keep what they held); at the group's current key version (older: stale;
 *   newer: CONFLICT); never to a disabled person; its id the one memberRecordId gives. A push
 *   re-wrapping its own pusher at the version held, with the group's record at it, is a second
 *   rotation to a version taken already (two managers revoking at once): CONFLICT, nothing stored.
 */
export async function applyPeople(
  tx: Transaction, vaultId: string, me: InVault, records: readonly PeopleRecord[], leaving: ReadonlyMap<string, readonly string[]> = new Map(), pushedRoles: ReadonlySet<string> = new Set(),
): Promise<PeopleOutcome> {
  // Most pushes carry entries alone: nothing to judge, and no read under the vault's lock for it.
  if (records.length === 0) return { stale: new Set(), joined: new Set(), deleted: new Set(), joins: [], rotated: new Map(), deletedBefore: new Set(), revokedBelow: new Set() };
  const every = holdsEveryGroup(me.role);
  // What the pusher's role allows, built-in or custom (the role record the server holds: task 15), judged as a desktop judges it (shared/policy-writes.ts).
  const permissions = await rolePermissionsOf(tx, vaultId, me.role);
  const before = me.vaultUser === null ? new Map<string, boolean>() : await leadsOf(tx, vaultId, me.vaultUser);
  const manages = (groupId: string): boolean => every || (before.get(groupId) === true && managesLedGroups(permissions));
  // Whoever rotates a group (a new secret key, re-wrapped) or wraps its secret key for someone must
  // be someone who may hold it there (shared/policy mayHoldSecretKeyIn): a codes-only lead of a group
  // whose codes the server computes holds the list key alone. The setting as held (only an owner or
  // admin, who may hold every secret key, changes it: group-setting.ts), or as this push sets it.
  const named = [...new Set(records.flatMap((r) => (r.kind === 'group' ? [r.id] : r.kind === 'member' ? [r.group] : [])))];
  const serverCodes = every ? new Set<string>() : await serverCodeGroups(tx, vaultId, named);
  const requireMayHoldSecret = (groupId: string, what: string): void => {
    const on = serverCodes.has(groupId) || records.some((r) => r.kind === 'group' && r.id === groupId && r.serverCodes === true);
    if (every || mayHoldSecretKeyIn(permissions, on)) return;
    throw new CrewvaultError('FORBIDDEN', `${what} needs the group's secret key, which your role may not hold${on ? ' in a group whose codes the team server computes' : ''}: an owner or admin must. Nothing was stored.`);
  };
  const stale = new Set<string>();
  const joined = new Set<string>();
  const created = new Set<string>();
  const deleted = new Set<string>();
  const joins: Array<{ readonly groupId: string; readonly vaultUser: string }> = [];
  // Groups this push sends a record of at the key version the server already holds (no rotation of its own here).
  const atHeldVersion = new Set<string>();
  // Members a rotation in this push cut off, by group: the sequence each joined at, kept when wrapped again here.
  const rotatedOff = new Map<string, Map<string, number>>();
  // Groups moved to a new key version here, each with that version.
  const rotated = new Map<string, number>();
  const deletedBefore = new Set<string>();
  const revokedBelow = new Set<string>();
  for (const r of records) {
    if (r.kind !== 'user') continue;
    if (!permissions.includes('users.manage')) throw new CrewvaultError('FORBIDDEN', 'Your role does not say who is who in the vault (users.manage): nothing was stored.');
    // Judged and stored as written, so written only one way: as every desktop stores it (review round twelve (a), hole 1).
    await requireCanonicalRole(tx, vaultId, r.role, pushedRoles, 'A user record');
    const held = await getPerson(tx, vaultId, r.id);
    const ownerOnly = OWNER_GRANTED_ROLES.includes(r.role) || (held?.role !== null && held?.role !== undefined && OWNER_GRANTED_ROLES.includes(held.role))
      || (r.account !== null && r.account !== held?.accountId);
    if (ownerOnly && me.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only an owner makes or changes an owner or admin, or binds a server account to a vault user: nothing was stored.');
    if (!every) await requireMaySetUser(tx, vaultId, me, permissions, r, held);
    if (r.id === me.vaultUser && ((held !== undefined && held.role !== r.role && me.justBound !== true) || r.disabledAt !== null)) throw new CrewvaultError('FORBIDDEN', 'You cannot change your own role or disable yourself: nothing was stored.');
    if (r.account !== null && (await findUserById(tx, r.account)) === undefined) throw new CrewvaultError('INVALID_INPUT', 'A user record names a server account that does not exist: nothing was stored.');
    await putPerson(tx, vaultId, { vaultUser: r.id, accountId: r.account ?? held?.accountId ?? null, role: r.role, disabled: r.disabledAt !== null });
    // Whose role changed, or who was disabled, may manage no group they hold for a key change any more (rotation-claims.ts).
    if (held !== undefined && (held.role !== r.role || (r.disabledAt !== null && !held.disabled))) await endClaims(tx, vaultId, r.id);
  }
  for (const r of records) {
    if (r.kind !== 'group') continue;
    const held = await getGroup(tx, vaultId, r.id);
    if (held === undefined) {
      if (!every && !makesGroups(permissions)) throw new CrewvaultError('FORBIDDEN', 'Your role does not make access groups: nothing was stored.');
      // A group the server holds entries of is not new, whatever its record says (a vault moved
      // before schema 14): only an owner or admin, who hold every group, may introduce it.
      if (!every && (await groupHoldsEntries(tx, vaultId, r.id, false, []))) {
        throw new CrewvaultError('FORBIDDEN', 'This access group already holds entries here: an owner or admin sends it. Nothing was stored.');
      }
      created.add(r.id);
    } else {
      if (held.deleted || r.keyVersion < held.keyVersion) {
        stale.add(r.id);
        if (held.deleted && r.deletedAt === null) deletedBefore.add(r.id);
        continue;
      }
      if (!manages(r.id)) throw new CrewvaultError('FORBIDDEN', 'You do not manage this access group: nothing was stored.');
      // A desktop deletes only an empty group: one whose entries (but those this push moves or deletes) are still live is kept.
      if (r.deletedAt !== null && !held.deleted && (await groupHoldsEntries(tx, vaultId, r.id, true, leaving.get(r.id) ?? []))) {
        throw new CrewvaultError('FORBIDDEN', 'An access group that still holds entries is not deleted: nothing was stored.');
      }
      if (r.deletedAt !== null && !held.deleted) deleted.add(r.id);
      if (r.keyVersion > held.keyVersion) requireMayHoldSecret(r.id, 'Moving an access group to a new key version');
      // A rotation that comes with the group's deletion cuts nobody off: no key of it is handed on any more, and the
      // memberships kept are who held it when it went (putGroup), handed its entries' deletes. Who the rotation left out
      // comes as a signed revoke, taken below; cut here, every member lost the deletes and their desktops waited for good.
      if (r.keyVersion > held.keyVersion && r.deletedAt === null) {
        rotatedOff.set(r.id, await dropMembershipsBelow(tx, vaultId, r.id, r.keyVersion));
        rotated.set(r.id, r.keyVersion);
      } else if (r.keyVersion === held.keyVersion) atHeldVersion.add(r.id);
    }
    await putGroup(tx, vaultId, { groupId: r.id, keyVersion: r.keyVersion, deleted: r.deletedAt !== null });
  }
  for (const r of records) {
    if (r.kind !== 'member') continue;
    if (r.id !== memberRecordId(r.group, r.user, sha256Hex)) throw new CrewvaultError('INVALID_INPUT', 'A member record is not named by its group and user: nothing was stored.');
    const group = await getGroup(tx, vaultId, r.group);
    // A removal made before the group's deletion, in the same push (a rotation's signed revoke), still ends the
    // membership: refused, the push was refused at every sync, and kept, the removed member counted as holding the group.
    const removedAsDeleted = group?.deleted === true && deleted.has(r.group) && r.revoked;
    if (group === undefined) throw new CrewvaultError('CONFLICT', 'A member record names an access group the server does not hold: its group record goes first. Nothing was stored.');
    // A change of a membership of a group deleted before this push (a removal or a grant made on a desktop that had not
    // taken the deletion in) changes nothing any more, as the group's own record does not: stale, not stored. Refused, the
    // pushing desktop's every later push was refused whole with it.
    if (group.deleted && !removedAsDeleted && !deleted.has(r.group)) {
      stale.add(r.id);
      continue;
    }
    if (group.deleted && !removedAsDeleted) throw new CrewvaultError('CONFLICT', 'A member record names an access group this push deletes: only its removals go with it. Nothing was stored.');
    const target = await getPerson(tx, vaultId, r.user);
    if (target === undefined) throw new CrewvaultError('CONFLICT', 'A member record names a vault user the server does not know: an owner\'s desktop sends them first. Nothing was stored.');
    const creator = created.has(r.group);
    if (!creator && !manages(r.group)) throw new CrewvaultError('FORBIDDEN', 'You do not manage this access group: nothing was stored.');
    if (r.user === me.vaultUser && !every && !creator) {
      if (!before.has(r.group)) throw new CrewvaultError('FORBIDDEN', 'You cannot add yourself to a group: someone who manages it must. Nothing was stored.');
      if (r.lead && before.get(r.group) !== true) throw new CrewvaultError('FORBIDDEN', 'You cannot make yourself a lead: another lead must. Nothing was stored.');
    }
    if (r.revoked) {
      if (r.keyVersion < group.keyVersion && !rotated.has(r.group) && !deleted.has(r.group)) revokedBelow.add(r.group);
      await dropMembership(tx, vaultId, r.group, r.user);
      await endClaims(tx, vaultId, r.user, r.group);
      continue;
    }
    if (r.keyVersion < group.keyVersion) {
      stale.add(r.id);
      continue;
    }
    if (r.keyVersion > group.keyVersion) throw new CrewvaultError('CONFLICT', 'A member record wraps a key version newer than its group\'s: the group record goes first. Nothing was stored.');
    if (target.disabled) throw new CrewvaultError('FORBIDDEN', 'A disabled user is given no group key: nothing was stored.');
    const was = await getMembership(tx, vaultId, r.group, r.user);
    const wrapped = JSON.stringify([r.wrappedKey, r.wrappedSecretKey]);
    // A wrap already stored byte for byte (re-sent after a give-way) gives nothing new.
    if (r.wrappedSecretKey !== null && was?.wrapped !== wrapped) requireMayHoldSecret(r.group, 'Wrapping an access group\'s secret key for someone');
    // The pusher's own wrap at a version someone else rotated the group to first, with the group's
    // record at that version: their own rotation to the same version (review six). A desktop that
    // took the first in re-sends the wraps it was handed, byte for byte (a lead unmaking themselves re-wraps, and is no rotation).
    if (r.user === me.vaultUser && atHeldVersion.has(r.group) && was !== undefined && was.keyVersion === r.keyVersion && was.isLead === r.lead && was.wrapped !== wrapped) {
      throw new CrewvaultError('CONFLICT', 'Another desktop moved this access group to the same key version first (two rotations at once): pull, and change the group again if still needed. Nothing was stored.');
    }
    // A lead made no lead of the group: a key change they held it for ends (rotation-claims.ts).
    if (was?.isLead === true && !r.lead) await endClaims(tx, vaultId, r.user, r.group);
    const carried = rotatedOff.get(r.group)?.get(r.user);
    await putMembership(tx, vaultId, { groupId: r.group, vaultUser: r.user, keyVersion: r.keyVersion, isLead: r.lead, wrapped }, carried);
    if (was === undefined) joined.add(r.group);
    if (was === undefined && carried === undefined) joins.push({ groupId: r.group, vaultUser: r.user });
  }
  return { stale, joined, deleted, joins, rotated, deletedBefore, revokedBelow };
}

/**
 * Refuses a push's entry records the pusher may not write: into (or out of) a group they do not
 * hold now — after this push's own membership changes — (FORBIDDEN), or sealed under a key
 * version that is not the group's current one (CONFLICT: someone rotated it; pull, and the
 * entry is re-sealed by whoever holds the new key). A group the server does not know yet is
 * written only by owners and admins, who hold every group (their desktop sends the group).
 */
export async function checkEntries(tx: Transaction, vaultId: string, me: InVault, entries: ReadonlyArray<{ readonly record: EntryRecord; readonly heldGroup: string | undefined }>, deletedHere: ReadonlySet<string> = new Set(), reads?: GroupReads): Promise<void> {
  if (entries.length === 0) return;
  const every = holdsEveryGroup(me.role);
  // Every group these entries name (or leave), with whether `me` holds a membership of it, in one read.
  // (Kept for a batch of pushes by `reads`, when given: push-batch.ts.)
  const named = entries.flatMap(({ record, heldGroup }) => (heldGroup === undefined ? [record.group] : [record.group, heldGroup]));
  const groups = reads === undefined ? await groupsWithMembership(tx, vaultId, me.vaultUser, named) : await reads.withMembership(tx, vaultId, me.vaultUser, named);
  for (const { record, heldGroup } of entries) {
    for (const id of new Set([record.group, ...(heldGroup === undefined ? [] : [heldGroup])])) {
      const group = groups.get(id);
      // Leaving a group this push deletes (its entry deleted or moved out) is part of deleting it.
      if (deletedHere.has(id) && (record.deletedAt !== null || record.group !== id)) continue;
      if (group === undefined ? !every : group.deleted || (!every && !group.member)) {
        // Named by its id, which the pusher sent: a desktop's sync ends on this line until an owner or admin changes it (docs/SYNC.md).
        throw new CrewvaultError('FORBIDDEN', id === heldGroup && id !== record.group
          ? `The entry ${record.id} changed here is in an access group you do not hold now (moved there, or your access removed), so the change cannot be sent: nothing was stored. Ask an owner or admin to give the group back, or to change it there.`
          : `The entry ${record.id} changed here is in, or would move into, an access group you do not hold now, so the change cannot be sent: nothing was stored. Ask an owner or admin to give the group back, or to change it there.`);
      }
    }
  }
  // A write the pusher's role may not make is refused for good (FORBIDDEN), before a stale key
  // version's CONFLICT, which would only send their desktop to pull and push it again.
  await requireRoleMayWrite(tx, vaultId, me, entries);
  for (const { record } of entries) {
    const group = groups.get(record.group);
    if (group !== undefined && record.deletedAt === null && record.keyVersion !== group.keyVersion) {
      throw new CrewvaultError('CONFLICT', `An entry is sealed under key version ${record.keyVersion} of its access group, which is at ${group.keyVersion} now: pull first. Nothing was stored.`);
    }
  }
}

const ENTRY_WRITES: readonly Permission[] = ['entries.create', 'entries.edit', 'entries.delete'];

/**
 * Refuses entry records the pusher's role may not write (review round ten, hole 3; custom roles
 * since task 15): what each needs is shared/policy-writes.ts entryWriteNeeds, the one rule every
 * desktop applies to what it takes in, so a record the server stored against it would be set aside
 * everywhere — a create entries.create, a tombstone entries.delete, a move or a change entries.edit.
 * A custom role's permissions are those of the role record the server holds now (none without
 * one): narrowed on an owner's desktop and pushed, its holder's next write is refused. No exception
 * for an HOTP code taken by someone who may only see codes: their desktop sends no record for it
 * (replica-service.ts outgoing), and the server, which cannot open the seal, could not tell a
 * counter step from any other change. Roles that hold every entry write are not read for.
 */
async function requireRoleMayWrite(tx: Transaction, vaultId: string, me: InVault, entries: ReadonlyArray<{ readonly record: EntryRecord; readonly heldGroup: string | undefined }>): Promise<void> {
  if (me.role === null) return;
  if (isBuiltInRole(me.role) && holdsEveryGroup(me.role)) return;
  const permissions = await rolePermissionsOf(tx, vaultId, me.role);
  // Groups whose codes the server computes where this role holds the list key alone (shared/policy
  // mayHoldSecretKeyIn, review D2): it creates and edits nothing there (a tombstone needs no secret key).
  const named = [...new Set(entries.flatMap(({ record, heldGroup }) => (heldGroup === undefined ? [record.group] : [record.group, heldGroup])))];
  const listKeyOnly = mayHoldSecretKeyIn(permissions, true) ? new Set<string>() : await serverCodeGroups(tx, vaultId, named);
  if (listKeyOnly.size === 0 && ENTRY_WRITES.every((p) => permissions.includes(p))) return;
  const shapes = await entryShapesOf(tx, vaultId, entries.map(({ record }) => record.id));
  const verb: Readonly<Record<string, string>> = { 'entries.create': 'create', 'entries.delete': 'delete', 'entries.edit': 'change or move' };
  for (const { record, heldGroup } of entries) {
    const shape = shapes.get(record.id);
    const held = shape === undefined || heldGroup === undefined ? undefined : { group: heldGroup, deleted: shape.deleted };
    for (const need of entryWriteNeeds(held, { group: record.group, deleted: record.deletedAt !== null })) {
      if (!permissions.includes(need.permission)) throw new CrewvaultError('FORBIDDEN', `Your role does not ${verb[need.permission] ?? 'write'} entries (${need.permission}): nothing was stored.`);
      if (need.permission !== 'entries.delete' && listKeyOnly.has(need.group)) {
        throw new CrewvaultError('FORBIDDEN', `Your role does not ${verb[need.permission] ?? 'write'} entries in an access group whose codes the team server computes: it holds that group's list key alone (it needs otp.reveal_secret). Nothing was stored.`);
      }
    }
  }
}

/**
 * A user record from someone who is not an owner or admin, but whose role (custom) has
 * users.manage: taken as a desktop takes it (replica-people-in.ts takeUser, shared/policy): never
 * on an owner or admin (ownerOnly above), never on someone whose role allows more than theirs,
 * never giving a role with a permission they lack. A record changing neither role nor disabling
 * (a re-sent row) asks nothing more.
 */
async function requireMaySetUser(tx: Transaction, vaultId: string, me: InVault, permissions: readonly Permission[], r: PeopleRecord & { readonly kind: 'user' }, held: { readonly role: string | null; readonly disabled: boolean } | undefined): Promise<void> {
  const roleChanged = held === undefined || held.role !== r.role;
  if (!roleChanged && held.disabled === (r.disabledAt !== null)) return;
  const actor = { id: 0, role: me.role ?? '', permissions };
  if (held !== undefined && r.id !== me.vaultUser) {
    const why = whyNotActOn(actor, { id: 1, role: held.role ?? '', permissions: await rolePermissionsOf(tx, vaultId, held.role) });
    if (why !== undefined) throw new CrewvaultError('FORBIDDEN', `${why} Nothing was stored.`);
  }
  if (roleChanged) {
    const why = whyNotAssignRole(actor, r.role, await rolePermissionsOf(tx, vaultId, r.role));
    if (why !== undefined) throw new CrewvaultError('FORBIDDEN', `${why} Nothing was stored.`);
  }
}

/**
 * The one spelling a record may name a role by (review round twelve (a), holes 1 and 4): a built-in
 * role's id (the schema refuses its other spellings: shared/sync/records.ts), or exactly the name a
 * custom role's record holds — the one the server holds, or one this push defines (`pushed`, its
 * names as written; each is checked against the held one by checkVaultObjects). A desktop resolves
 * a name by folding it (case, spaces, "_" and "-" aside) and the server reads it as written, so a
 * variant ("helpdesk" for "Helpdesk") would be judged here as a role without permissions and stored
 * there as the role it folds to: INVALID_INPUT, nothing stored. So is a role the server holds no
 * record of (a role defined on one desktop only: none of its permissions could be judged here).
 */
async function requireCanonicalRole(db: Queryable, vaultId: string, role: string, pushed: ReadonlySet<string>, what: string): Promise<void> {
  if (isBuiltInRole(role) || pushed.has(role)) return;
  const held = (await heldRole(db, vaultId, role))?.name;
  if (held === role) return;
  throw new CrewvaultError('INVALID_INPUT', held === undefined
    ? `${what} names a role this server holds no record of (an owner's or admin's desktop sends its definition first): nothing was stored.`
    : `${what} names the role "${held}" spelt otherwise: a record names a role exactly as it is defined. Nothing was stored.`);
}

/** The name and revision of the custom role record the server holds under `role`'s id (its folded name), or undefined. */
async function heldRole(db: Queryable, vaultId: string, role: string): Promise<{ readonly name: string; readonly revision: number } | undefined> {
  const body = await vaultObjectBody(db, vaultId, vaultObjectId(vaultId, 'role', sha256Hex, role));
  if (body === undefined) return undefined;
  const record = JSON.parse(body) as { readonly kind?: unknown; readonly name?: unknown; readonly revision?: unknown };
  return record.kind === 'role' && typeof record.name === 'string' && typeof record.revision === 'number' ? { name: record.name, revision: record.revision } : undefined;
}

/**
 * Refuses a push's custom role, settings and MFA policy records (task 15) unless the pusher may
 * change what applies to everyone: an owner or admin (shared/policy whyNotManageVault, as the
 * desktop asks of `role define`, `crewvault settings` and `policy mfa` in a team vault); the MFA
 * policy's level for the owner role an owner's alone. Each is named by vaultObjectId (one record
 * per role name, one settings and one policy a vault), and no custom role takes a built-in name.
 * Their revision against the server's (base: CONFLICT) is judged with the entries' (records.ts).
 * Writes nothing.
 */
export async function checkVaultObjects(tx: Transaction, vaultId: string, me: InVault, records: readonly VaultObjectRecord[]): Promise<void> {
  if (records.length === 0) return;
  const why = whyNotManageVault({ role: me.role ?? '' });
  if (why !== undefined) throw new CrewvaultError('FORBIDDEN', `${why} Nothing was stored.`);
  const pushed = new Set(records.flatMap((r) => (r.kind === 'role' ? [r.name] : [])));
  for (const r of records) {
    if (r.id !== vaultObjectId(vaultId, r.kind, sha256Hex, r.kind === 'role' ? r.name : '')) throw new CrewvaultError('INVALID_INPUT', `A ${r.kind} record is not named by what it is: nothing was stored.`);
    if (r.kind === 'role') {
      if (!/^[A-Za-z][A-Za-z0-9 _-]{0,63}$/.test(r.name) || builtInRoleNamed(r.name) !== undefined) throw new CrewvaultError('INVALID_INPUT', 'A role record names no custom role (a built-in name, or not a role name): nothing was stored.');
      // A role keeps the spelling it was first stored under: a redefinition spelt otherwise would leave
      // the people given it under the old spelling, read here as no role at all (review round twelve (a)).
      // (At another base it is a CONFLICT, judged below with the others: its desktop pulls, and takes the team's spelling.)
      const held = await heldRole(tx, vaultId, r.name);
      if (held !== undefined && held.name !== r.name && held.revision === r.base) throw new CrewvaultError('INVALID_INPUT', `A role record redefines the role "${held.name}" spelt otherwise: a role keeps its name. Nothing was stored.`);
    }
    if (r.kind === 'mfa_policy') {
      for (const [role] of r.roles) await requireCanonicalRole(tx, vaultId, role, pushed, 'An MFA policy record');
    }
    if (r.kind === 'mfa_policy' && me.role !== 'owner') {
      const heldBody = await vaultObjectBody(tx, vaultId, r.id);
      const held = heldBody === undefined ? undefined : (JSON.parse(heldBody) as MfaPolicyRecord);
      if (ownerLevel(r) !== (held === undefined ? undefined : ownerLevel(held))) throw new CrewvaultError('FORBIDDEN', `${whyNotManageVault({ role: me.role ?? '' }, 'owner') ?? ''} Nothing was stored.`);
    }
  }
}

/**
 * The level a policy sets for the owner role itself (undefined: it follows the global one). The
 * schema lets the owner role be named only as "owner", and once (records.ts): what a desktop reads.
 */
function ownerLevel(policy: Pick<MfaPolicyRecord, 'roles'>): string | undefined {
  return policy.roles.find(([role]) => role === 'owner')?.[1];
}

/** Whether `me` holds group `groupId` now (owners and admins: every group): what they may know of its entries. */
export async function holdsGroupNow(db: Queryable, vaultId: string, me: InVault, reads?: GroupReads): Promise<(groupId: string) => boolean> {
  const every = holdsEveryGroup(me.role);
  // Owners and admins hold every group: nothing to read.
  const held = me.vaultUser === null || every ? new Set<string>() : reads === undefined ? await groupsOf(db, vaultId, me.vaultUser) : await reads.of(db, vaultId, me.vaultUser);
  return (groupId) => every || held.has(groupId);
}

/** What the pull filter reads of a record: its kind, and an entry's group or a membership's group and user (a snapshot reads them from the stored body's columns, unparsed). */
export interface PulledShape {
  readonly kind: ReplicaRecord['kind'];
  readonly group?: string | null;
  readonly user?: string | null;
  /** An entry's deletion (a snapshot, which hands live records only, leaves it out). */
  readonly deletedAt?: number | null;
}

/**
 * Whether a pulling person may be handed this record: entries of groups they hold (and the deletes of
 * entries of groups deleted while they held them), memberships of
 * theirs or of groups they hold; the rest to everyone in the vault — but a custom role, settings or
 * MFA policy record only to a desktop that names its kind (`kinds`: one from before them would
 * refuse the whole page). Role names, permission sets and settings are no secret of one group.
 */
export async function pullFilter(db: Queryable, vaultId: string, me: InVault, kinds: readonly VaultObjectKind[] = []): Promise<(record: PulledShape) => boolean> {
  const every = holdsEveryGroup(me.role);
  const held = me.vaultUser === null ? new Set<string>() : await groupsOf(db, vaultId, me.vaultUser);
  // Groups deleted while this person held them: their entries' deletes too (tombstones keep no secret), the signed
  // records a desktop takes the group's deletion on (replica-people-new.ts takeDelete; hostile review of C7).
  const heldWhenDeleted = me.vaultUser === null || every ? new Set<string>() : await deletedGroupsHeld(db, vaultId, me.vaultUser);
  const takes = new Set<string>(kinds);
  return (record) => {
    if ((VAULT_OBJECT_KINDS as readonly string[]).includes(record.kind)) return takes.has(record.kind);
    if (every) return true;
    if (record.kind === 'entry') {
      return typeof record.group === 'string' && (held.has(record.group) || (typeof record.deletedAt === 'number' && heldWhenDeleted.has(record.group)));
    }
    if (record.kind === 'member') return (typeof record.user === 'string' && record.user === me.vaultUser) || (typeof record.group === 'string' && held.has(record.group));
    return true;
  };
}
