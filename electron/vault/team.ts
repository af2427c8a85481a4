/**
 * Teams: access groups, their members and leads, and the users themselves. Keys follow
 * membership — granting wraps the group key for the new member; revoking (or disabling a
 * user) rotates it: a new key, every entry and summary page of the group re-sealed, the key
 * re-wrapped for those who remain, all in one transaction, so the removed member's old key
 * opens nothing written after. Every change is audited with who made it.
 * Must never hand a key to someone the policy (shared/policy `can`) does not allow.
 */
import { CrewvaultError } from '../../shared/errors';
import { lookAlikeProblem, normaliseNameText } from '../../shared/text';
import type { GroupSummary, MemberView, RoleView, UserAdminView, UserView } from '../../shared/model';
import { ALL_GROUP_ROLES, holdsSecretKeys, isPermission, mayHoldSecretKeyIn, permissionsBeyond, ROLE_PERMISSIONS, ROLES, whyNotAssignRole, type Actor, type Permission, type Person, type Role } from '../../shared/policy';
import { exportPrivateKey, openJson, seal, sealJson } from './crypto';
import { groupsWithStraySecretKeys, needsSecretKeyIn, newGroupKey, wrapGroupFor } from './group-keys';
import { rotateDirectory, wrapDirectoryFor } from './directory';
import { deleteEmptyGroup, type DeletedGroup } from './group-delete';
import { carryMfaKey, shareMfaKeysWithOwner } from './mfa';
import { dropMfaKeysHeldBy } from './store-mfa-keys';
import type { ReadDb, WriteDb } from './db';
import { pageOf, writePage, type PageChanges, type PageItem } from './entry-pages';
import { contexts, groupNameIndex, type GroupKey, type KeyRing } from './keys';
import { createGroupRecord, insertUserRecord, prepareUser, userView, validateNewPassword, validateUserName, type KdfOptions } from './records';
import { resealEntry } from './entry-reseal';
import { requireBaseRevision } from './entries-service';
import { keepKeyRotatedFrom } from './rotated-from-keys';
import { keepCodesBeforeChange, keepNameBeforeRename } from './replica-group-unsent';
import type { KeyChangeOwedTold, RevokeUnmadeTold, RevokeWaiting } from './replica-service';
import { sentSeq } from './store-replica';
import { requireBase } from './base-revision';
import { makeSigningKey } from './signer-keys';
import { countTrustedDevicesByUser } from './store-trusted-devices';
import type { AuditFields } from './store-audit';
import { countEntriesByGroup, getEntryRow, listEntryRowsInGroups } from './store-entries';
import {
  countMembersByGroup,
  deleteGroupKey,
  deleteGroupKeysOfUser,
  findGroupByIndex,
  getGroupRow,
  groupServerCodes,
  groupKeysOfGroup,
  groupKeysOfUser,
  listGroups,
  renameGroupRow,
  setGroupKeyVersion,
  setGroupServerCodes,
  unsplitGroupIds,
  membershipRevisions,
} from './store-groups';
import { deletePagesOfGroup } from './store-pages';
import { getSetting } from './store-meta';
import { elsewhereKdf, noteRevoked } from './replica-people-local';
import { pairNeverOnServer } from './replica-people';
import { uidText } from './ids';
import { forgetKeyChangesSettled, forgetRevokedMember, forgetRevokesUnmadeSettled, forgetRotateAgain, groupsToRotateAgain, memberRevision, noteRevokeUnmade, revokedMembers, revokesWaiting } from './store-replica-people';
import { foldRoleName, getCustomRole, listCustomRoles, putCustomRole, resolveRoleName, rolePermissions } from './store-roles';
import { carryScopeKeysForward } from './scope-key-history';
import {
  deleteDirectoryKey,
  findUserByName,
  getUser,
  listUsers,
  replaceUserKeys,
  setMustChangePassword,
  setSealedPrivateKey,
  setUserDisabled,
  setUserRole,
  type UserRow,
} from './store-users';

/** What the team operations need of a signed-in session. */
export interface SessionCore {
  readonly ring: KeyRing;
  /** The signed-in person, role as of now. */
  user(): UserView;
  readonly pages: PageChanges;
  now(): number;
  /** One read transaction through the session's store (store.ts): `work` never awaits. */
  read<T>(work: (db: ReadDb) => T): Promise<T>;
  /** One write transaction through the session's write path (store.ts): `work` never awaits. */
  write<T>(work: (db: WriteDb) => T): Promise<T>;
  audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void;
  /** LOCKED when the session is locked; FORBIDDEN (naming the permission) when `can` says no.
   * Called inside the work it guards. */
  require(db: ReadDb, permission: Permission, groupId?: number): void;
  permissions(db: ReadDb): readonly Permission[];
  /** This person as shared/policy's rules about people see them. */
  person(db: ReadDb): Person;
  /** users.manage, and FORBIDDEN where shared/policy `whyNotActOn` says no. */
  requireActOn(db: ReadDb, target: Pick<UserRow, 'id' | 'role'>): void;
  customerName(db: ReadDb, customerId: number): string;
  /** The group a new person joins (when their role does not hold every group's key). */
  defaultGroupId(db: ReadDb): number;
}

/**
 * The role `typed` names (resolveRoleName); FORBIDDEN unless `actor` may give it (shared/policy
 * `whyNotAssignRole`: never beyond one's own permissions; owner and admin only from an owner).
 */
export function requireAssignableRole(db: ReadDb, actor: Person, typed: string): Role {
  const role = resolveRoleName(db, typed);
  const why = whyNotAssignRole(actor, role, rolePermissions(db, role));
  if (why) throw new CrewvaultError('FORBIDDEN', why);
  return role;
}


function forbidden(message: string): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', message);
}

/** A group name as stored: normalised, 1 to 100 characters, no look-alike letters. */
function validGroupName(name: string): string {
  const groupName = normaliseNameText(name);
  if (groupName.length === 0 || groupName.length > 100) throw new CrewvaultError('INVALID_INPUT', 'A group name is 1 to 100 characters.');
  const lookAlike = lookAlikeProblem('A group name', groupName);
  if (lookAlike) throw new CrewvaultError('INVALID_INPUT', lookAlike);
  return groupName;
}

export class TeamService {
  private readonly core: SessionCore;
  /**
   * Group keys made by rotations in the write transaction under way: a later rotation or wrap
   * of the same group in that transaction must use them (the ring still holds the old ones
   * until it commits). A new map for each transaction, set and dropped inside its work (which
   * never awaits, so two calls never share one); held by the ring only if it commits.
   */
  private inFlight = new Map<number, GroupKey>();

  constructor(core: SessionCore) {
    this.core = core;
  }

  actor(db: ReadDb): Actor {
    return { role: this.core.user().role, permissions: this.core.permissions(db), groups: new Map([...this.core.ring.groups].map(([id, g]) => [id, { lead: g.lead }])) };
  }

  // ---- groups -------------------------------------------------------------------------------

  private groupName(db: ReadDb, groupId: number): string {
    const row = getGroupRow(db, groupId);
    if (!row) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
    const name = openJson(this.core.ring.directoryKey, row.sealed_name, contexts.groupName(row));
    if (typeof name !== 'string') throw new CrewvaultError('VAULT_TAMPERED', 'A group name failed its integrity check.');
    return name;
  }

  /** NOT_FOUND unless `groupId` is a live group: a deleted one (a tombstone) or an id never used
   * has no members and takes none (a role that manages every group passes `require` for any id). */
  private liveGroup(db: ReadDb, groupId: number): void {
    if (!getGroupRow(db, groupId)) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
  }

  /** The group named `name` (case- and spacing-insensitive). */
  async resolveGroup(name: string): Promise<number> {
    const row = await this.core.read((r) => findGroupByIndex(r, groupNameIndex(this.core.ring, name)));
    if (!row) throw new CrewvaultError('NOT_FOUND', `No access group named "${name}".`);
    return row.id;
  }

  /** The groups this person holds (owners and admins: all), with member and entry counts. */
  async listGroups(): Promise<GroupSummary[]> {
    return this.core.read((r) => {
      this.core.require(r, 'entries.view');
      return this.groupsNow(r);
    });
  }

  private groupsNow(db: ReadDb): GroupSummary[] {
    const members = countMembersByGroup(db);
    const entries = countEntriesByGroup(db);
    const defaultId = Number(getSetting(db, 'default_group_id'));
    return listGroups(db)
      .filter((g) => this.core.ring.groups.has(g.id))
      .map((g) => ({
        id: g.id, name: this.groupName(db, g.id), members: members.get(g.id) ?? 0, entries: entries.get(g.id) ?? 0, lead: this.core.ring.groups.get(g.id)?.lead ?? false,
        isDefault: g.id === defaultId, serverCodes: g.server_codes === 1, revision: g.revision,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async members(groupId: number): Promise<MemberView[]> {
    return this.core.read((r) => {
      this.core.require(r, 'groups.manage', groupId);
      this.liveGroup(r, groupId);
      const revisions = membershipRevisions(r, groupId);
      return groupKeysOfGroup(r, groupId).flatMap((gk) => {
        const user = getUser(r, gk.user_id);
        return user ? [{ ...userView(user), lead: gk.is_lead === 1, revision: revisions.get(gk.user_id) ?? 0 }] : [];
      });
    });
  }

  /**
   * The people who could join this group: active users not in it yet, for a lead to pick from
   * (a lead may not list users otherwise, and must not have to know names by heart).
   */
  async candidates(groupId: number): Promise<UserView[]> {
    return this.core.read((r) => {
      this.core.require(r, 'groups.manage', groupId);
      this.liveGroup(r, groupId);
      const inGroup = new Set(groupKeysOfGroup(r, groupId).map((gk) => gk.user_id));
      return listUsers(r)
        .filter((u) => u.disabled_at === null && !inGroup.has(u.id) && u.id !== this.core.user().id)
        .map((u) => userView(u))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  /** A new group led by its creator; its key is also wrapped for every owner and admin. */
  async createGroup(name: string): Promise<GroupSummary> {
    return this.core.write((w) => {
      this.core.require(w, 'groups.manage');
      // The creator makes the group's secret key, and so knows it: only a role that may hold
      // secret keys may create one (an auditor-like role with groups.manage would keep it).
      if (!holdsSecretKeys(this.core.permissions(w))) throw forbidden('Creating a group makes its secret key: your role may not hold one (it needs a permission such as passwords.reveal or entries.edit).');
      const groupName = validGroupName(name);
      if (findGroupByIndex(w, groupNameIndex(this.core.ring, groupName))) throw new CrewvaultError('ALREADY_EXISTS', `A group named "${groupName}" already exists.`);
      const groupId = createGroupRecord(w, this.core.ring, this.core.user(), groupName, this.core.now());
      const group = this.heldKey(groupId);
      for (const user of listUsers(w)) {
        if (user.id !== this.core.user().id && user.disabled_at === null && ALL_GROUP_ROLES.includes(userView(user).role)) this.wrapFor(w, groupId, group, user, { lead: false, byRole: true });
      }
      this.core.audit(w, { action: 'group.create', group_id: groupId }, groupName);
      return { id: groupId, name: groupName, members: groupKeysOfGroup(w, groupId).length, entries: 0, lead: true, isDefault: false, serverCodes: false, revision: getGroupRow(w, groupId)?.revision ?? 1 };
    });
  }

  // ---- revisions as read (#13) --------------------------------------------------------------
  // What a door that did not list first (the CLI) reads just before it writes, and sends as the
  // write's base: 0 when there is no such object. Only a number, and the write itself asks
  // permission and existence first, so these ask nothing more than a signed-in session.

  /** The group's revision (0: no such live group). */
  async groupRevision(groupId: number): Promise<number> {
    return this.core.read((r) => getGroupRow(r, groupId)?.revision ?? 0);
  }

  /** The revision of `userName`'s membership of the group (0: not a member). */
  async memberRevision(groupId: number, userName: string): Promise<number> {
    return this.core.read((r) => {
      const user = findUserByName(r, userName.trim());
      return (user && membershipRevisions(r, groupId).get(user.id)) ?? 0;
    });
  }

  /** The user's revision (0: no such user). */
  async userRevision(userName: string): Promise<number> {
    return this.core.read((r) => findUserByName(r, userName.trim())?.revision ?? 0);
  }

  /** The custom role's revision (0: no such custom role, or a built-in one). */
  async roleRevision(name: string): Promise<number> {
    return this.core.read((r) => getCustomRole(r, name.trim())?.revision ?? 0);
  }

  /**
   * Renames a group (its leads, or whoever manages every group); names stay unique.
   * `baseRevision`: the group's revision the caller read (CONFLICT when stale, base-revision.ts).
   */
  async renameGroup(groupId: number, name: string, baseRevision: number): Promise<GroupSummary> {
    return this.core.write((w) => {
      this.core.require(w, 'groups.manage', groupId);
      const groupName = validGroupName(name);
      const before = this.groupName(w, groupId);
      const row = getGroupRow(w, groupId);
      if (!row) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
      requireBase('group', row.revision, baseRevision);
      const index = groupNameIndex(this.core.ring, groupName);
      const same = findGroupByIndex(w, index);
      if (same && same.id !== groupId) throw new CrewvaultError('ALREADY_EXISTS', `A group named "${groupName}" already exists.`);
      // The name it replaces, as the server holds it: what this desktop goes back to if the rename can no longer be sent.
      keepNameBeforeRename(w, row);
      renameGroupRow(w, groupId, sealJson(this.core.ring.directoryKey, groupName, contexts.groupName(row)), index);
      this.core.audit(w, { action: 'group.rename', group_id: groupId }, `${before} → ${groupName}`);
      const renamed = this.groupsNow(w).find((g) => g.id === groupId);
      if (!renamed) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
      return renamed;
    });
  }

  /**
   * "Server computes codes" on or off for a group (owners and admins: it decides what the team
   * server may see). On: the group's keys are rotated and wrapped again, the secret key no longer
   * for members whose role may not reveal OTP keys (no otp.reveal_secret: group-keys.ts needsSecretKeyIn),
   * so what is written from now on opens for them only through the server; their desktops ask the
   * server for codes. What their desktops could open before is not taken back (an OTP key seen
   * once is known: change it at the service). Off: they are given the secret key again.
   */
  async setServerCodes(groupId: number, on: boolean, baseRevision: number): Promise<GroupSummary> {
    await this.writeRekeying((w) => {
      this.core.require(w, 'groups.manage', groupId);
      if (!ALL_GROUP_ROLES.includes(this.core.user().role)) throw forbidden('Only owners and admins decide whether the team server computes a group\'s codes.');
      const row = getGroupRow(w, groupId);
      if (!row) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
      requireBase('group', row.revision, baseRevision);
      if ((row.server_codes === 1) === on) return;
      const group = this.heldKey(groupId);
      if (!group.secret) throw forbidden('You do not hold this group\'s secret key, which this changes who holds.');
      // The setting it replaces, as the server holds it: what this desktop goes back to if it can no longer be sent.
      keepCodesBeforeChange(w, row);
      setGroupServerCodes(w, groupId, on);
      if (on) this.rotate(w, groupId, new Set());
      else {
        for (const gk of groupKeysOfGroup(w, groupId)) {
          const user = getUser(w, gk.user_id);
          if (user && user.disabled_at === null && gk.wrapped_secret_key === null && needsSecretKeyIn(w, user, groupId)) {
            this.wrapFor(w, groupId, group, user, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 });
          }
        }
      }
      this.core.audit(w, { action: on ? 'group.server_codes_on' : 'group.server_codes_off', group_id: groupId },
        `${this.groupName(w, groupId)}: ${on ? 'the team server computes its TOTP codes and holds its TOTP keys' : 'end-to-end encrypted again (the team server computes no codes)'}`);
    });
    const summary = (await this.core.read((r) => this.groupsNow(r))).find((g) => g.id === groupId);
    if (!summary) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
    return summary;
  }

  /** Deletes an empty group, never the default nor the last (group-delete.ts says how). */
  async deleteGroup(groupId: number, baseRevision: number): Promise<DeletedGroup> {
    return deleteEmptyGroup(this.core, groupId, baseRevision);
  }

  /**
   * Makes a member a lead of the group, or no longer one. The group always keeps a lead: the
   * last one is not demoted (nor removed, see revoke) — someone else is made a lead first.
   */
  async setLead(groupId: number, userName: string, lead: boolean, baseRevision: number): Promise<MemberView> {
    return this.core.write((w) => {
      this.core.require(w, 'groups.manage', groupId);
      const group = this.heldKey(groupId);
      const user = this.activeUser(w, userName);
      const held = groupKeysOfGroup(w, groupId).find((gk) => gk.user_id === user.id);
      if (!held) throw new CrewvaultError('NOT_FOUND', `${user.name} is not a member of this group.`);
      const base = this.membershipRevision(w, groupId, user.id);
      requireBase('membership', base, baseRevision);
      if ((held.is_lead === 1) === lead) return { ...userView(user), lead, revision: base };
      if (lead && user.id === this.core.user().id) throw forbidden('You cannot make yourself a lead: another lead must.');
      if (!lead) this.keepALead(w, groupId, user);
      this.wrapFor(w, groupId, group, user, { lead, byRole: held.by_role === 1 });
      this.core.audit(w, { action: lead ? 'group.lead' : 'group.unlead', group_id: groupId, subject: user.name }, `${user.name} ${lead ? 'leads' : 'no longer leads'} ${this.groupName(w, groupId)}`);
      return { ...userView(user), lead, revision: this.membershipRevision(w, groupId, user.id) };
    });
  }

  /** FORBIDDEN when `user` is the group's only lead still active: a group is never left without one. */
  private keepALead(db: ReadDb, groupId: number, user: UserRow): void {
    const leads = groupKeysOfGroup(db, groupId).filter((gk) => gk.is_lead === 1 && getUser(db, gk.user_id)?.disabled_at === null);
    if (leads.length === 1 && leads[0]?.user_id === user.id) {
      throw forbidden(`${user.name} is the last lead of ${this.groupName(db, groupId)}: make another member a lead first.`);
    }
  }

  /**
   * Wraps the group key for `userName` (as a lead with `lead`). Needs the key in hand.
   * `baseRevision`: the group's revision the caller read (a group renamed, rotated or deleted
   * since is CONFLICT: the grant was decided on a view of it that no longer holds).
   */
  async grant(groupId: number, userName: string, lead: boolean, baseRevision: number): Promise<MemberView> {
    return this.core.write((w) => {
      this.core.require(w, 'groups.manage', groupId);
      const group = this.heldKey(groupId);
      requireBase('group', getGroupRow(w, groupId)?.revision ?? 0, baseRevision);
      const user = this.activeUser(w, userName);
      // Nobody grants themselves. And a key held by role stays held by role: granting it again
      // (by another admin, or a lead an admin made) must not turn it into a membership that
      // outlives a demotion. Someone meant to keep a group after one is granted it after.
      if (user.id === this.core.user().id) throw forbidden('You cannot add yourself to a group: someone who manages it must.');
      const heldByRole = groupKeysOfGroup(w, groupId).some((gk) => gk.user_id === user.id && gk.by_role === 1);
      this.wrapFor(w, groupId, group, user, { lead, byRole: heldByRole });
      // A revoke of them noted here and not sent yet is undone by this grant: not made again after a give-way (rotateAgain).
      forgetRevokedMember(w, groupId, user.id);
      this.core.audit(w, { action: 'group.grant', group_id: groupId, subject: user.name }, `${user.name} → ${this.groupName(w, groupId)}${lead ? ' (lead)' : ''}`);
      return { ...userView(user), lead, revision: this.membershipRevision(w, groupId, user.id) };
    });
  }

  /**
   * Ends `userName`'s membership and rotates the group key, in one transaction.
   * `baseRevision`: the membership's revision the caller read (members list; CONFLICT when stale).
   */
  async revoke(groupId: number, userName: string, baseRevision: number): Promise<void> {
    await this.writeRekeying((w) => {
      this.core.require(w, 'groups.manage', groupId);
      this.heldKey(groupId);
      const user = findUserByName(w, userName.trim());
      const held = user ? groupKeysOfGroup(w, groupId).find((gk) => gk.user_id === user.id) : undefined;
      if (!user || !held) throw new CrewvaultError('NOT_FOUND', `${userName} is not a member of this group.`);
      requireBase('membership', this.membershipRevision(w, groupId, user.id), baseRevision);
      if (ALL_GROUP_ROLES.includes(userView(user).role)) throw forbidden('Owners and admins hold every group\'s key: change their role instead.');
      this.keepALead(w, groupId, user);
      this.rotate(w, groupId, new Set([user.id]));
      this.core.audit(w, { action: 'group.revoke', group_id: groupId, subject: user.name }, `${user.name} ✕ ${this.groupName(w, groupId)} (key rotated)`);
    });
  }

  /**
   * This desktop's revokes made again in the groups it gave way in (review six hole 4: its own
   * unsent rotation lost to one the server kept, replica-people-in.ts giveWay): whoever its
   * pending revoke notes leave out of such a group but who holds a wrap there now (the other
   * side's rotation kept them) is left out of a fresh rotation, whose next push sends it and
   * their signed revoked member records. A revoke this person may no longer make (the group's
   * secret key or its management gone from them since) is not made: it is noted
   * (store-replica-people.ts noteRevokeUnmade), audited once as group.revoke_unmade, and told at
   * each sync until the member no longer holds the group (revokesUnmadeTold): an owner or admin
   * must make it. Returns how many groups were rotated.
   */
  async rotateAgain(): Promise<number> {
    return (await this.writeRekeying((w) => {
      for (const groupId of groupsToRotateAgain(w)) {
        forgetRotateAgain(w, groupId);
        const wrapped = new Set(groupKeysOfGroup(w, groupId).map((gk) => gk.user_id));
        // An owner or admin now (promoted since the revoke, here or on the desktop whose rotation was kept) holds every group
        // by role, and a revoke refuses them: their note is not made again.
        const everyGroup = (userId: number): boolean => {
          const user = getUser(w, userId);
          return user !== undefined && ALL_GROUP_ROLES.includes(userView(user).role);
        };
        const left = new Set(revokedMembers(w).filter((m) => m.groupId === groupId && wrapped.has(m.userId) && !everyGroup(m.userId)).map((m) => m.userId));
        if (left.size === 0) continue;
        if (!this.mayRotate(w, groupId)) {
          for (const userId of left) {
            if (!noteRevokeUnmade(w, { groupId, userId })) continue;
            const name = getUser(w, userId)?.name ?? 'a member';
            this.core.audit(w, { action: 'group.revoke_unmade', group_id: groupId, subject: name }, `${name} ✕ ${this.groupName(w, groupId)} not made again after another rotation was kept: you may no longer make it; an owner or admin must`);
          }
          continue;
        }
        this.rotate(w, groupId, left);
        for (const userId of left) {
          const name = getUser(w, userId)?.name ?? 'a member';
          this.core.audit(w, { action: 'group.revoke', group_id: groupId, subject: name }, `${name} ✕ ${this.groupName(w, groupId)} (key rotated again: another rotation was kept first)`);
        }
      }
    })).rotated;
  }

  /**
   * Changes the group's key (issue #15's "change the key"): a rotation as a revoke makes, nobody removed: new keys,
   * every entry and page of the group re-sealed, everyone who holds it wrapped again; the next sync sends it (its group
   * record and re-wraps go first, sync.ts partsOf). For a key change owed (keyChangesOwedTold: a revoke stored whose
   * rotation never came), or at will. Only someone who manages the group (groups.manage there: owners, admins, its
   * leads) and holds its secret key; audited as group.key_rotated. Never made on its own.
   */
  async rotateKey(groupId: number): Promise<void> {
    await this.writeRekeying((w) => {
      this.core.require(w, 'groups.manage', groupId);
      this.liveGroup(w, groupId);
      this.heldKey(groupId);
      const next = this.rotate(w, groupId, new Set());
      this.core.audit(w, { action: 'group.key_rotated', group_id: groupId }, `${this.groupName(w, groupId)} (key version ${next.version})`);
    });
  }

  /**
   * The key changes owed in groups whose key this person may change here (store-replica-people.ts keyChangesOwed: a revoke
   * taken in at the version held, its rotation never come), once the settled ones are forgotten (the group past that
   * version here, gone, or no longer held), each named by its group and member: told at each sync (sync.ts
   * keyChangesOwedLine), whose line tells them to change it. Not to a lead whose role may not hold the group's secret key
   * there (rotateKey refuses them: told, they met FORBIDDEN); not one this desktop's own revoke waits for (its own rotation
   * unsent here: told as waiting, revokesWaitingTold).
   */
  async keyChangesOwedTold(): Promise<KeyChangeOwedTold[]> {
    return this.core.write((w) => {
      const owed = forgetKeyChangesSettled(w, this.core.user().id);
      if (owed.length === 0) return [];
      const waiting = revokesWaiting(w, sentSeq(w));
      return owed
        .filter((o) => this.manages(w, o.groupId) && this.mayRotate(w, o.groupId) && !waiting.some((m) => m.groupId === o.groupId && m.userId === o.userId))
        .map((o) => ({ member: getUser(w, o.userId)?.name ?? 'a member', group: this.groupName(w, o.groupId) }));
    });
  }

  /** Whether this person manages the group here (groups.manage there: owners, admins, its leads); a locked session still throws. */
  private manages(db: ReadDb, groupId: number): boolean {
    try {
      this.core.require(db, 'groups.manage', groupId);
      return true;
    } catch (error) {
      if (error instanceof CrewvaultError && error.code === 'FORBIDDEN') return false;
      throw error;
    }
  }

  /** Whether this person may rotate the group now: they hold its secret key, their role may hold it there, and they manage it. */
  private mayRotate(w: WriteDb, groupId: number): boolean {
    if (!this.core.ring.groups.get(groupId)?.secret || !mayHoldSecretKeyIn(this.core.permissions(w), groupServerCodes(w, groupId))) return false;
    try {
      this.core.require(w, 'groups.manage', groupId);
      return true;
    } catch {
      return false;
    }
  }

  /** This desktop's revokes whose push has not ended, named (ReplicaService.revokesWaiting). */
  async revokesWaitingTold(): Promise<RevokeWaiting[]> {
    return this.core.read((r) => {
      const self = getUser(r, this.core.user().id);
      return revokesWaiting(r, sentSeq(r)).map((m) => ({
        member: getUser(r, m.userId)?.name ?? 'a member', group: this.groupName(r, m.groupId), stored: m.stored === true,
        neverHeld: self !== undefined && pairNeverOnServer(r, m.groupId, m.userId, uidText(self.uid)),
      }));
    });
  }

  /**
   * The revokes rotateAgain could not make (noted there), or whose rotation a sync undid here (replica-own-key.ts
   * giveWayToHeld), once those whose member no longer holds the group are forgotten, and those stored whose key change
   * was undone (the key kept) once the group is past that version: told at each sync (sync.ts revokesUnmade).
   */
  async revokesUnmadeTold(): Promise<RevokeUnmadeTold[]> {
    return this.core.write((w) => forgetRevokesUnmadeSettled(w, this.core.user().id).map((r) => ({
      member: getUser(w, r.userId)?.name ?? 'a member', group: this.groupName(w, r.groupId), undone: r.undone === true, keyKept: r.keyKeptAt !== undefined,
    })));
  }

  /**
   * Re-seals an entry under another group's key and moves it there. `baseRevision`: the revision
   * the mover saw (required): a move from a stale view — one that would put back an entry
   * someone just moved into a restricted group — is CONFLICT (entries-service requireBaseRevision).
   */
  async moveEntry(entryId: number, targetGroupId: number, baseRevision: number): Promise<void> {
    await this.core.write((w) => {
      // Looked at, checked and moved in one transaction: nothing moves it in between.
      const row = getEntryRow(w, entryId);
      if (!row || !this.core.ring.groups.has(row.group_id)) throw new CrewvaultError('NOT_FOUND', 'No such entry.');
      this.core.require(w, 'entries.edit', row.group_id);
      this.core.require(w, 'entries.create', targetGroupId);
      requireBaseRevision(row, baseRevision);
      if (row.group_id === targetGroupId) return;
      const customer = this.core.customerName(w, row.customer_id);
      const item = resealEntry(w, row, this.heldKey(row.group_id), { groupId: targetGroupId, key: this.heldKey(targetGroupId) }, customer, this.core.now());
      this.core.pages.remove(row.group_id, row.id);
      this.core.pages.set(targetGroupId, item);
      this.core.audit(w, { action: 'entry.move', entry_id: row.id, customer_id: row.customer_id, group_id: targetGroupId }, `${customer}/${item[2]}: ${this.groupName(w, row.group_id)} → ${this.groupName(w, targetGroupId)}`);
    });
  }

  // ---- users --------------------------------------------------------------------------------

  async listUsers(): Promise<UserAdminView[]> {
    return this.core.read((r) => {
      this.core.require(r, 'users.manage');
      const devices = countTrustedDevicesByUser(r, this.core.now());
      return listUsers(r).map((u) => ({
        ...userView(u),
        disabled: u.disabled_at !== null,
        mfa: u.mfa_enabled_at !== null,
        lastSignInAt: u.last_sign_in_at,
        trustedDevices: devices.get(u.id) ?? 0,
        revision: u.revision,
      }));
    });
  }

  /**
   * A new person: their key pair sealed under `password` (a one-time password they should
   * change), the directory key wrapped for them, and membership of the default group.
   * Only an owner makes another owner.
   */
  async createUser(name: string, typedRole: Role, password: string, kdf: KdfOptions = {}): Promise<UserView> {
    const allowed = (db: ReadDb): Role => {
      this.core.require(db, 'users.manage');
      return requireAssignableRole(db, this.core.person(db), typedRole);
    };
    await this.core.read(allowed);
    const userName = validateUserName(name);
    validateNewPassword(password);
    const prepared = await prepareUser(password, kdf);
    return this.core.write((w) => {
      // Asked again: the role may have changed while Argon2 ran.
      const role = allowed(w);
      const now = this.core.now();
      const { id, uid } = insertUserRecord(w, prepared, userName, role, now);
      setMustChangePassword(w, id, true);
      const publicKey = prepared.keyPair.publicKey;
      wrapDirectoryFor(w, this.core.ring, { id, uid, public_key: publicKey });
      if (role === 'owner') shareMfaKeysWithOwner(w, { id: this.core.user().id, keyPair: this.core.ring.keyPair }, { id, public_key: publicKey });
      // Owners and admins hold every group's key; everyone else starts in the default group.
      const byRole = ALL_GROUP_ROLES.includes(role);
      const groupIds = byRole ? [...this.core.ring.groups.keys()] : [this.core.defaultGroupId(w)];
      for (const groupId of groupIds) this.wrapFor(w, groupId, this.heldKey(groupId), { id, role, public_key: publicKey }, { lead: false, byRole });
      this.core.audit(w, { action: 'user.create', subject: userName }, `${userName} (${role})`);
      return { id, name: userName, role };
    });
  }

  /** Disables a user: their wrapped keys are removed and every group they held is rotated. */
  async disableUser(userName: string, baseRevision: number): Promise<void> {
    let undoDirectory: (() => void) | undefined;
    try {
      await this.writeRekeying((w) => {
        this.core.require(w, 'users.manage');
        const user = this.activeUser(w, userName);
        requireBase('user', user.revision, baseRevision);
        if (user.id === this.core.user().id) throw forbidden('You cannot disable yourself.');
        this.core.requireActOn(w, user);
        this.guardOwnerChange(w, user, 'technician');
        const groups = groupKeysOfUser(w, user.id).map((gk) => gk.group_id);
        for (const groupId of groups) if (!this.core.ring.groups.has(groupId)) throw forbidden('You do not hold the key of every group this user is in.');
        setUserDisabled(w, user.id, this.core.now());
        deleteDirectoryKey(w, user.id);
        dropMfaKeysHeldBy(w, user.id);
        deleteGroupKeysOfUser(w, user.id);
        for (const groupId of groups) this.rotate(w, groupId, new Set([user.id]));
        // The directory key they saved must open no name or audit detail written from now on;
        // the rotation moves this session's ring, so the audit row below is under the new one.
        undoDirectory = rotateDirectory(w, this.core.ring, listUsers(w));
        this.core.audit(w, { action: 'user.disable', subject: user.name }, `${user.name} (${groups.length} group keys and the directory key rotated)`);
      });
    } catch (error) {
      undoDirectory?.();
      throw error;
    }
  }

  /**
   * Changes a role, and the keys follow it in the same transaction: an owner or admin is given
   * every group's key; leaving those roles takes away the keys held only because of them; a
   * role that gains or loses secrets gains or loses the groups' secret keys. Every group whose
   * key the person loses is rotated, as a revoke does, so what they kept opens nothing new.
   */
  async changeRole(userName: string, typedRole: Role, baseRevision: number): Promise<UserView> {
    return (await this.writeRekeying((w) => {
      this.core.require(w, 'users.manage');
      const role = requireAssignableRole(w, this.core.person(w), typedRole);
      const user = this.activeUser(w, userName);
      requireBase('user', user.revision, baseRevision);
      if (user.id === this.core.user().id) throw forbidden('You cannot change your own role.');
      this.core.requireActOn(w, user);
      this.guardOwnerChange(w, user, role);
      setUserRole(w, user.id, role);
      // Owners hold everyone's MFA key (for password resets, mfa.ts carryMfaKey); only owners.
      if (role === 'owner' && user.role !== 'owner') shareMfaKeysWithOwner(w, { id: this.core.user().id, keyPair: this.core.ring.keyPair }, user);
      if (role !== 'owner' && user.role === 'owner') dropMfaKeysHeldBy(w, user.id);
      this.followRole(w, { ...user, role });
      const keys = this.inFlight.size > 0 ? ` (${this.inFlight.size} group key${this.inFlight.size === 1 ? '' : 's'} rotated)` : '';
      this.core.audit(w, { action: 'user.role', subject: user.name }, `${user.name}: ${user.role} → ${role}${keys}`);
      return { id: user.id, name: user.name, role };
    })).result;
  }

  /**
   * An owner restores a user who forgot their password: a new key pair sealed under
   * `newPassword` (a one-time password to hand over), the directory key and every group key
   * they held wrapped again for it.
   */
  async resetPassword(userName: string, newPassword: string, baseRevision: number, kdf: Parameters<typeof prepareUser>[1] = {}): Promise<void> {
    const allowed = (db: ReadDb): void => {
      this.core.require(db, 'users.manage');
      if (this.core.user().role !== 'owner') throw forbidden('Only an owner can reset another user\'s password.');
    };
    await this.core.read(allowed);
    validateNewPassword(newPassword);
    const prepared = await prepareUser(newPassword, kdf);
    const privateRaw = exportPrivateKey(prepared.keyPair.privateKey);
    try {
      await this.core.write((w) => {
        // Asked again: the role may have changed while Argon2 ran.
        allowed(w);
        const user = this.activeUser(w, userName);
        requireBase('user', user.revision, baseRevision);
        this.core.requireActOn(w, user);
        const groups = groupKeysOfUser(w, user.id);
        for (const gk of groups) if (!this.core.ring.groups.has(gk.group_id)) throw forbidden('You do not hold the key of every group this user is in.');
        replaceUserKeys(w, user.id, JSON.stringify(prepared.params), prepared.keyPair.publicKey);
        setSealedPrivateKey(w, user.id, seal(prepared.kek, privateRaw, contexts.privateKey(user)));
        // Their old signing key is wrapped for the old key pair: a new one, vouched for by this
        // owner's, which vouches in turn for the new public key everything below is wrapped to.
        makeSigningKey(w, user, prepared.keyPair.publicKey, this.core.now(), this.core.ring.signer);
        setMustChangePassword(w, user.id, true);
        // Their authenticator keeps working with the new key pair, where this owner holds its key.
        const mfaKept = carryMfaKey(w, { id: this.core.user().id, keyPair: this.core.ring.keyPair }, user, prepared.keyPair.publicKey);
        wrapDirectoryFor(w, this.core.ring, { ...user, public_key: prepared.keyPair.publicKey });
        for (const gk of groups) this.wrapFor(w, gk.group_id, this.heldKey(gk.group_id), { ...user, public_key: prepared.keyPair.publicKey }, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 });
        this.core.audit(w, { action: 'user.reset_password', subject: user.name }, `${user.name} (new key pair, ${groups.length} group keys re-wrapped${mfaKept ? '' : '; two-step sign-in reset: its key was not held by this owner'})`);
      });
    } finally {
      privateRaw.fill(0);
      prepared.kek.fill(0);
    }
  }

  /**
   * An owner binds vault user `userName` to a team server account (#15, team join): the user is
   * re-keyed to the account's X25519 public key (32 raw bytes), as a password reset does with a
   * key pair of its own — a new signing key this owner certifies, binding that public key, its
   * seed wrapped to it; the directory key and every group key they held wrapped again for it —
   * so the person opens all of it on their own desktop with the key pair their server password
   * opens, and this file seals no key pair of theirs any more (their name signs in nowhere here).
   * Their user record then carries the directory and signing wraps (replica-people.ts). The
   * caller compared the key's fingerprint with the person's own screen: the server handed it over.
   */
  async bindToAccountKey(userName: string, accountPublicKey: Buffer): Promise<void> {
    if (accountPublicKey.length !== 32) throw new CrewvaultError('INVALID_INPUT', 'An account public key is 32 bytes (X25519).');
    await this.core.write((w) => {
      this.core.require(w, 'users.manage');
      if (this.core.user().role !== 'owner') throw forbidden('Only an owner binds a vault user to a server account.');
      const user = this.activeUser(w, userName);
      if (user.id === this.core.user().id) throw forbidden('You cannot re-key yourself to an account: your own desktop holds your key pair.');
      this.core.requireActOn(w, user);
      const groups = groupKeysOfUser(w, user.id);
      for (const gk of groups) if (!this.core.ring.groups.has(gk.group_id)) throw forbidden('You do not hold the key of every group this user is in.');
      replaceUserKeys(w, user.id, elsewhereKdf(w), accountPublicKey);
      setSealedPrivateKey(w, user.id, Buffer.alloc(0));
      makeSigningKey(w, user, accountPublicKey, this.core.now(), this.core.ring.signer);
      setMustChangePassword(w, user.id, false);
      const mfaKept = carryMfaKey(w, { id: this.core.user().id, keyPair: this.core.ring.keyPair }, user, accountPublicKey);
      const rekeyed = { ...user, public_key: accountPublicKey };
      wrapDirectoryFor(w, this.core.ring, rekeyed);
      for (const gk of groups) this.wrapFor(w, gk.group_id, this.heldKey(gk.group_id), rekeyed, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 });
      this.core.audit(w, { action: 'user.bind_account', subject: user.name }, `${user.name} (re-keyed to their server account's key, ${groups.length} group keys re-wrapped${mfaKept ? '' : '; two-step sign-in reset'})`);
    });
  }

  // ---- roles --------------------------------------------------------------------------------

  /** The built-in roles and the custom ones, each with what it allows. */
  async listRoles(): Promise<RoleView[]> {
    return this.core.read((db) => {
      this.core.require(db, 'entries.view');
      return [
        ...ROLES.map((name) => ({ name, permissions: ROLE_PERMISSIONS[name], builtIn: true, revision: 0 })),
        ...listCustomRoles(db).map((r) => ({ ...r, builtIn: false })),
      ];
    });
  }

  /**
   * Defines (or redefines) a custom role from the built-in permissions. `baseRevision`: the
   * role's revision the caller read, 0 to create one (CONFLICT when someone defined or redefined
   * it since: a redefinition never silently replaces one it did not see).
   */
  async defineRole(name: string, permissions: readonly string[], baseRevision: number): Promise<RoleView> {
    const roleName = name.trim();
    if (!/^[A-Za-z][A-Za-z0-9 _-]{0,63}$/.test(roleName)) throw new CrewvaultError('INVALID_INPUT', 'A role name is 1 to 64 letters, digits, spaces, "_" or "-", starting with a letter.');
    // "team lead", "Team-Lead" and "team_lead" read as one name on screen: one role.
    const folded = foldRoleName(roleName);
    const builtIn = ROLES.find((r) => foldRoleName(r) === folded);
    if (builtIn) throw new CrewvaultError('ALREADY_EXISTS', `"${roleName}" is the built-in role ${builtIn}.`);
    const unknown = permissions.filter((p) => !isPermission(p));
    if (unknown.length > 0) throw new CrewvaultError('INVALID_INPUT', `Unknown permission "${unknown[0] ?? ''}".`);
    const granted = [...new Set(permissions.filter(isPermission))];
    return (await this.writeRekeying((w) => {
      this.core.require(w, 'users.manage');
      const own = this.core.permissions(w);
      const beyond = permissionsBeyond(own, granted);
      if (beyond.length > 0) throw new CrewvaultError('FORBIDDEN', `You cannot grant a permission you do not have (${beyond.join(', ')}).`);
      const lookalike = listCustomRoles(w).find((r) => foldRoleName(r.name) === folded && r.name.toLowerCase() !== roleName.toLowerCase());
      if (lookalike) throw new CrewvaultError('ALREADY_EXISTS', `"${roleName}" reads as the existing role "${lookalike.name}": redefine that one instead.`);
      // Redefining is acting on everyone who holds the role: not one's own role (that would be
      // changing one's own permissions), and not a role that allows more than one's own.
      const existing = getCustomRole(w, roleName);
      requireBase('role', existing?.revision ?? 0, baseRevision);
      if (existing) {
        if (existing.name.toLowerCase() === this.core.user().role.toLowerCase()) throw forbidden('You cannot redefine your own role.');
        const above = permissionsBeyond(own, existing.permissions);
        if (above.length > 0) throw forbidden(`This role allows more than yours (${above.join(', ')}): only someone who has those may redefine it.`);
      }
      putCustomRole(w, { name: roleName, permissions: granted }, this.core.now());
      // Everyone who holds the role: their keys follow what it now allows (secret keys given or
      // taken away, groups rotated), in this transaction, as a role change does.
      for (const holder of listUsers(w)) {
        if (holder.disabled_at === null && holder.role.toLowerCase() === roleName.toLowerCase()) this.followRole(w, holder);
      }
      this.core.audit(w, { action: 'role.define', subject: roleName }, `${roleName}: ${granted.join(', ') || '(no permissions)'}`);
      return { name: roleName, permissions: granted, builtIn: false, revision: getCustomRole(w, roleName)?.revision ?? 1 };
    })).result;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private membershipRevision(db: ReadDb, groupId: number, userId: number): number {
    return membershipRevisions(db, groupId).get(userId) ?? 0;
  }

  private heldKey(groupId: number): GroupKey {
    const key = this.inFlight.get(groupId) ?? this.core.ring.groups.get(groupId);
    if (!key) throw forbidden('You do not hold this group\'s key.');
    return key;
  }

  private activeUser(db: ReadDb, userName: string): UserRow {
    const user = findUserByName(db, validateUserName(userName));
    if (!user || user.disabled_at !== null) throw new CrewvaultError('NOT_FOUND', `No active user named "${userName.trim()}".`);
    return user;
  }

  /** Only an owner makes or unmakes an owner, and the last owner stays one. */
  private guardOwnerChange(db: ReadDb, user: UserRow, newRole: Role): void {
    const touchesOwner = user.role === 'owner' || newRole === 'owner';
    if (touchesOwner && this.core.user().role !== 'owner') throw forbidden('Only an owner can make or change an owner.');
    if (user.role === 'owner' && newRole !== 'owner') {
      const owners = listUsers(db).filter((u) => u.role === 'owner' && u.disabled_at === null);
      if (owners.length <= 1) throw forbidden('The vault must keep at least one owner.');
    }
  }

  /**
   * FORBIDDEN unless this person's role may hold `groupId`'s secret key there (shared/policy
   * mayHoldSecretKeyIn), whatever their ring holds (a role narrowed elsewhere arrives before the
   * rotation that takes the key away): rotating makes a new secret key, granting wraps it. The team
   * server refuses both from such a role (server/sync/membership.ts).
   */
  private requireMayHoldSecret(db: ReadDb, groupId: number, doing: string): void {
    const serverCodes = groupServerCodes(db, groupId);
    if (mayHoldSecretKeyIn(this.core.permissions(db), serverCodes)) return;
    throw forbidden(`Your role may not hold the secret key of ${this.groupName(db, groupId)}${serverCodes ? ' (the team server computes its codes)' : ''}, which ${doing} needs: an owner or admin must.`);
  }

  /** Wraps `group` for `user` (group-keys.ts wrapGroupFor), a secret key only from someone who may hold it (requireMayHoldSecret). */
  private wrapFor(db: WriteDb, groupId: number, group: GroupKey, user: Pick<UserRow, 'id' | 'public_key' | 'role'>, place: { readonly lead: boolean; readonly byRole: boolean }): void {
    if (group.split && needsSecretKeyIn(db, user, groupId)) this.requireMayHoldSecret(db, groupId, 'giving it to someone');
    wrapGroupFor(db, groupId, group, user, place, this.core.ring.keysSeen);
  }

  /**
   * New keys and version; entries and pages re-sealed (summaries under the new list key,
   * details under the new secret key); wrapped again for all but `removed` — the secret key
   * only for those whose role needs it. Needs the old secret key, to re-seal the details.
   */
  private rotate(db: WriteDb, groupId: number, removed: ReadonlySet<number>): GroupKey {
    this.requireMayHoldSecret(db, groupId, 'changing its keys');
    const old = this.heldKey(groupId);
    if (!old.secret) throw forbidden('You do not hold this group\'s secret key, which changing its keys re-seals.');
    const next = newGroupKey(old.version + 1, old.lead);
    // The scope keys of this version and those before it, sealed under the new one: a holder granted after it matches their events' tags.
    carryScopeKeysForward(db, groupId, old, next);
    // Kept until the server stores this rotation: an edit sealed under it may reach the server first.
    keepKeyRotatedFrom(db, groupId, old, { id: this.core.user().id, public_key: this.core.ring.keyPair.publicKey });
    const pages = new Map<number, PageItem[]>();
    for (const row of listEntryRowsInGroups(db, [groupId])) {
      const item = resealEntry(db, row, old, { groupId, key: next }, this.core.customerName(db, row.customer_id), row.updated_at);
      const page = pages.get(pageOf(row.id)) ?? [];
      page.push(item);
      pages.set(pageOf(row.id), page);
    }
    deletePagesOfGroup(db, groupId);
    for (const [pageNo, items] of pages) writePage(db, next, groupId, pageNo, items);
    setGroupKeyVersion(db, groupId, next.version);
    // Everyone left out is said to be so in a signed revoked member record (replica-people.ts noteRevoked).
    const ended = new Map<number, number>([...removed].map((id) => [id, memberRevision(db, groupId, id) ?? 0]));
    for (const gk of groupKeysOfGroup(db, groupId)) {
      const user = getUser(db, gk.user_id);
      if (!user || removed.has(gk.user_id) || user.disabled_at !== null) {
        if (user) ended.set(gk.user_id, memberRevision(db, groupId, gk.user_id) ?? 0);
        deleteGroupKey(db, groupId, gk.user_id);
      } else this.wrapFor(db, groupId, next, user, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 });
    }
    for (const [userId, lastRevision] of ended) noteRevoked(db, groupId, userId, next.version, lastRevision);
    this.inFlight.set(groupId, next);
    return next;
  }

  /**
   * Schema 6's second half: every group whose one key still opens both its list and its secrets
   * is rotated into a version with a separate secret key, wrapped only for roles that need it.
   * Needs every such group's key: an owner's sign-in runs it (VaultSession.finishKeySplit).
   * Returns how many groups were split.
   */
  async splitLegacyKeys(): Promise<number> {
    return (await this.writeRekeying((w) => {
      const legacy = unsplitGroupIds(w).filter((groupId) => this.core.ring.groups.has(groupId));
      for (const groupId of legacy) this.rotate(w, groupId, new Set());
      if (legacy.length > 0) this.core.audit(w, { action: 'vault.keys_split' }, `${legacy.length} access group${legacy.length === 1 ? '' : 's'}: secrets now under a key of their own`);
    })).rotated;
  }

  /**
   * Every group where someone holds a secret key their role may not hold there (group-keys.ts
   * groupsWithStraySecretKeys) is rotated, re-wrapped by role: they keep what they could open
   * until now, nothing written from here on. An owner's or admin's sign-in runs it (VaultSession.finishKeySplit).
   * Returns how many groups were rotated; audited as vault.secret_keys_taken.
   */
  async takeStraySecretKeys(): Promise<number> {
    return (await this.writeRekeying((w) => {
      const stray = groupsWithStraySecretKeys(w, [...this.core.ring.groups.keys()].filter((groupId) => this.core.ring.groups.get(groupId)?.secret !== undefined));
      for (const groupId of stray) this.rotate(w, groupId, new Set());
      if (stray.length > 0) this.core.audit(w, { action: 'vault.secret_keys_taken' }, `${stray.length} access group${stray.length === 1 ? '' : 's'}: secret keys taken from roles that may not hold them there`);
    })).rotated;
  }

  /**
   * A write transaction that may rotate group keys: once it commits, the ring holds what the
   * rotations made; if it fails, those keys are wiped and the ring keeps the old ones.
   * Returns the work's result and how many groups were rotated.
   */
  private async writeRekeying<T>(work: (db: WriteDb) => T): Promise<{ readonly result: T; readonly rotated: number }> {
    // This call's own map, set when its work starts: work never awaits, so no other call's
    // rotations mix into it.
    let made = new Map<number, GroupKey>();
    try {
      const { result, mine } = await this.core.write((w) => {
        made = new Map();
        this.inFlight = made;
        try {
          const result = work(w);
          // This person's own wraps as this transaction leaves them: which new keys they keep.
          const mine = new Map(groupKeysOfUser(w, this.core.user().id).filter((gk) => made.has(gk.group_id)).map((gk) => [gk.group_id, gk]));
          return { result, mine };
        } finally {
          this.inFlight = new Map();
        }
      });
      for (const [groupId, key] of made) this.swapKey(groupId, key, mine.get(groupId));
      return { result, rotated: made.size };
    } catch (error) {
      for (const key of made.values()) {
        key.key.fill(0);
        key.index.fill(0);
        key.secret?.fill(0);
      }
      throw error;
    }
  }

  /**
   * Makes `user`'s wraps match their role as stored now, in the caller's transaction: owners
   * and admins are given every group; keys held by role go when the role no longer holds
   * every group; the secret keys follow whether the role needs secrets. A group whose keys the
   * person loses is rotated (re-wrapped for everyone else by their own roles).
   */
  private followRole(w: WriteDb, user: UserRow): void {
    const allGroups = ALL_GROUP_ROLES.includes(user.role);
    const held = groupKeysOfUser(w, user.id);
    for (const gk of held) {
      const secrets = needsSecretKeyIn(w, user, gk.group_id);
      const leaves = !allGroups && gk.by_role === 1;
      const losesSecret = !secrets && (gk.secret_split === 0 || gk.wrapped_secret_key !== null);
      const gainsSecret = secrets && gk.secret_split === 1 && gk.wrapped_secret_key === null;
      if (leaves || losesSecret) this.rotate(w, gk.group_id, leaves ? new Set([user.id]) : new Set());
      else if (gainsSecret) this.wrapFor(w, gk.group_id, this.heldKey(gk.group_id), user, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 });
    }
    if (allGroups) {
      const heldIds = new Set(held.map((gk) => gk.group_id));
      for (const groupId of this.core.ring.groups.keys()) {
        if (heldIds.has(groupId)) continue;
        this.wrapFor(w, groupId, this.heldKey(groupId), user, { lead: false, byRole: true });
        // Given the group back (a promotion after a revoke not sent yet): the revoke is undone, as a grant undoes it, not made again after a give-way (rotateAgain).
        forgetRevokedMember(w, groupId, user.id);
      }
    }
  }

  /** After a rotation commits: forget the old key, hold the new one. */
  private swapKey(groupId: number, next: GroupKey, mine: { readonly wrapped_secret_key: Buffer | null; readonly is_lead: number } | undefined): void {
    this.core.ring.dropGroup(groupId);
    // Hold the secret key only if this person's own wrap has it (their role needs secrets).
    if (!mine) {
      next.key.fill(0);
      next.index.fill(0);
      next.secret?.fill(0);
      return;
    }
    const keepSecret = mine.wrapped_secret_key !== null;
    if (!keepSecret) next.secret?.fill(0);
    this.core.ring.addGroup(groupId, { ...next, secret: keepSecret ? next.secret : undefined, lead: mine.is_lead === 1 });
  }
}

