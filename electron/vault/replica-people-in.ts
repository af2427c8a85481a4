/**
 * Taking in who-is-who on a desktop (#15, docs/SYNC.md): a `group` record at a newer key version
 * (a rotation made on another desktop: a revoke, a role change, server codes turned on) with the
 * `member` record that wraps that version for this desktop's person. The new key is opened with
 * this person's private key and, in the caller's write transaction, as a local rotation does: the
 * group's entries are sealed again under it (at the revisions they had, so nothing is sent as a
 * change of this desktop's: the rotating desktop's own re-sealed versions replace them as they
 * arrive), its summary pages rebuilt under it, its version and this person's wrap stored, and the
 * ring holds it. Other members' wraps at the new version are stored as they came (opaque here);
 * wraps below it go (their holders were cut off). Each record is checked as entries are: signed by
 * its author under a key of theirs in force here, the author not disabled and managing the group
 * by the roles this desktop holds (owner, admin, or its lead with a role that manages groups).
 * A group record's `serverCodes` setting is taken in from an owner or admin (with its rotation,
 * or alone when turned off).
 * A `user` record changing someone's role or disabling them is taken in where its signer could
 * have made it here (takeUser). A signed revoked member record for this person, from someone who
 * manages the group here, is their removal: the group's key, pages and entries leave this desktop
 * (cutOff). A rotation that wraps nothing for them and comes without such a record is set aside
 * (the group, its key and unsent edits stay): a relay withholding a wrap removes no one. A member record
 * granting this person a group of this file takes its key in (grantIn); its entries follow.
 * Another member's record crossing a change of their membership made here and not yet sent is
 * judged part by part against the membership's agreed state (takeCrossing): kept and sent again,
 * or dropped, and told either way. A grant of someone new from elsewhere, below this desktop's own unsent rotation, is
 * carried by that rotation, or told and their removal sent where it cannot be (grantedUnderOwnRotation).
 * People and groups new here, renames, deletes and this person made or unmade a lead are taken in
 * by replica-people-new.ts, with the same checks (replica-people-checks.ts).
 * Two rotations of one group to the same version with two keys: where this desktop's own was
 * never sent, it gives way (giveWay: the other side's key taken in, its own revokes made again
 * past it by team.ts rotateAgain); where it was, the other side's records are set aside (CONFLICT).
 * This person no longer managing a group (unmade as its lead below a rotation of their own waiting unsent, or their
 * role narrowed) while that rotation waits: it can no longer be made, and gives way to the version the server holds
 * (replica-own-key.ts giveWayToHeld; its revokes told as unmade).
 * Must never: hold a key its record's signer could not have given here, or leave a group's pages
 * or entries sealed under a key version this vault no longer holds.
 */
import { CrewvaultError } from '../../shared/errors';
import { foldRoleName, holdsAllGroups, mayHoldSecretKeyIn, whyNotActOn, whyNotAssignRole } from '../../shared/policy';
import { managesLedGroups } from '../../shared/policy-writes';
import { memberRecordId, type GroupRecord, type MemberRecord, type ReplicaRecord, type UserRecord } from '../../shared/sync/records';
import { creatorsFirstWrap, takeNewGroup, takeNewPublicKey, takeOwnLead, takeRename } from './replica-people-new';
import { bin, canonicalRole, keyRowOf, groupNameHere, managesHere, notYet, requireManages, sha256Hex, signedHere, signerOf, tampered, uidBytes, type PeopleIntake, type PeopleSigner } from './replica-people-checks';
import type { WriteDb } from './db';
import { needsSecretKeyIn, openHeldGroupKey, wrapGroupFor } from './group-keys';
import { uidText } from './ids';
import type { GroupKey } from './keys';
import { dropRotatedFrom, rotatedFromOf } from './store-rotated-from';
import { ownDevices } from './store-device';
import { deleteGroupKey, findGroupByIndex, getGroupRow, groupKeysOfGroup, groupKeysOfUser, groupServerCodes, putGroupKey, setGroupKeyVersion, setGroupServerCodes, type GroupKeyRow, type GroupRow } from './store-groups';
import { deletePagesOfGroup } from './store-pages';
import { idByUid, replicaBase, sentSeq, setReplicaBase } from './store-replica';
import { rolePermissions } from './store-roles';
import { dropEntriesOfGroup, forgetRevokedMember, groupSeq, noteRotateAgain, raiseNotedRevoke, revokedMembers, setGroupRevision, setMemberRevision, setUserRevision, setUserRevisionAtLeast, unsentEntriesInGroup, userSeq, agreedUser, noteAgreedUser, memberRevision, memberSeq, agreedMember, groupAndUserUids, memberStateOf, noteAgreedMembers, forgetAgreedMember, memberNotedKnown, noteMemberKnown, groupChangedOnSince, groupSentOverDeletion, forgetGroupSentOverDeletion, type AgreedMember } from './store-replica-people';
import { getUser, setUserDisabled, setUserRole, type UserRow } from './store-users';
import { requireVouchedPublicKey } from './public-keys';
import { noteRevoked } from './replica-people-local';
import { takeScopeHistory } from './scope-key-history';
import { giveWayToHeld, mayGiveWayTo, moveOwnKey, openOwnWrap } from './replica-own-key';
import { noteKeyChangesOwed } from './replica-key-owed';
import { agreeCodesTaken, codesToPutBack, dropUnsentRename, noteAgreedFrom, renameHeldHere } from './replica-group-unsent';
import { groupsAgreedKept } from './store-agreed-group';
import { putBackBeforeTaking } from './replica-group-undelete';

/**
 * Takes in the batch's `group` records, then its `member` records, each through `take` (which
 * sets one aside when it throws CONFLICT or VAULT_TAMPERED). `count`: taken in ('applied'), held already ('unchanged'), or left as before this was built
 * ('ignored': a group or user this file does not know of, a deleted group's record).
 */
export type { PeopleIntake } from './replica-people-checks';
export type PeopleTaken = 'applied' | 'unchanged' | 'ignored';

export function takePeople(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[], take: (r: ReplicaRecord, work: () => void) => void, count: (taken: PeopleTaken) => void): void {
  // A group deleted here, not sent, that this batch may stop this person managing: back as the team holds it first, so
  // the batch's records of it are taken in (replica-group-undelete.ts; judged at the pull's last page, below).
  putBackBeforeTaking(db, intake, records);
  // Groups this person manages now that this batch may take from them (their own records in it):
  // what they changed there and did not send goes, told, when it does (dropUnsendable).
  const managedBefore = groupsItMayUnmake(db, intake, records);
  const heldBefore = groupsHeldNamedIn(db, intake, records);
  for (const r of records) if (r.kind === 'user') take(r, () => count(takeUser(db, intake, r)));
  const taken = new Set<string>();
  const moved = new Set<number>();
  const diverged = new Set<string>();
  const gaveWay = new Set<number>();
  // Groups new here, taken in from this batch: their creators (replica-people-new.ts takeNewGroup).
  const created = new Map<string, string>();
  // Groups whose record waits for this person's wrap on a later page (waitsForOwnWrap): their member records wait with it.
  const waiting = new Set<string>();
  for (const r of records) {
    if (r.kind !== 'group') continue;
    // A group held here deleted elsewhere: taken after the batch's entries (replica-people-new.ts takeGroupDeletes).
    if (deletesGroupHeld(db, r)) continue;
    if (waitsForOwnWrap(db, intake, r, records)) {
      waiting.add(r.id);
      take(r, () => { throw notYet('moves an access group to the version this desktop rotated it to, and this person\'s wrap of it comes on a later page'); });
    } else {
      take(r, () => {
        count(takeGroup(db, intake, r, records, taken, moved, diverged, gaveWay, created));
        // The earlier versions' scope keys it carries, sealed at its version (scope-key-history.ts).
        takeScopeHistory(db, r);
      });
    }
  }
  // Groups this person stops leading (or leaves) by a newer record of this batch: a crossing met
  // before it is judged as after it, since what it keeps could not be sent (takeCrossing).
  const me = getUser(db, intake.userId);
  const unmade = new Set(records.flatMap((r) => (r.kind === 'member' && me !== undefined && r.user === uidText(me.uid) && (r.revoked || !r.lead) && r.revision > replicaBase(db, uidBytes(r.id)) ? [r.group] : [])));
  // This person's own unmaking as a lead, below a rotation of theirs waiting here unsent, by group (takeOwnUnmadeUnderOwnRotation).
  const unledUnder = new Map<number, MemberRecord>();
  for (const r of records) {
    if (r.kind !== 'member') continue;
    if (taken.has(r.id)) {
      count('applied');
      continue;
    }
    // The other side of two rotations to one version: none of its wraps replaces this desktop's.
    if (diverged.has(r.group)) take(r, () => { throw twoRotations(); });
    else if (waiting.has(r.group)) take(r, () => { throw notYet('wraps an access group whose record waits for a later page'); });
    else take(r, () => count(takeMember(db, intake, r, created, unmade, unledUnder)));
  }
  // A group given way in: this desktop's own wraps of others at that version, of its own key, that no
  // member record of the other side replaced, open nothing it seals: they go (its rotation kept
  // someone the other side revoked). Only now: until the member records were in, a lead's wrap said who leads.
  for (const groupId of gaveWay) dropOwnWrapsAtVersion(db, intake, groupId, records);
  // Whoever is not wrapped at a group's new version was cut off. Only now: each member record above
  // was judged by who led the group before this batch (a lead re-wraps themselves at the new version).
  for (const groupId of moved) {
    const version = getGroupRow(db, groupId)?.key_version ?? 0;
    for (const gk of groupKeysOfGroup(db, groupId)) {
      if (gk.key_version >= version) continue;
      toldLeftOut(db, intake, groupId, gk, version);
      deleteGroupKey(db, groupId, gk.user_id);
      const uids = groupAndUserUids(db, groupId, gk.user_id);
      if (uids !== undefined) forgetAgreedMember(db, uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex)));
    }
  }
  dropUnsendable(db, intake, managedBefore);
  // A group put back (replica-group-undelete.ts) is judged after the page's entries (replica-service.ts apply).
  // A change of a group's own record made here (a rename, the server codes setting) that its person may no longer send:
  // judged at the pull's last page, as they stand after every page (hostile review of 91e8333: unmade as a lead on one
  // page and made an admin on a later one, the rename was dropped though they may send it), over every group they hold
  // or kept an agreed name or setting of, whatever the page named.
  if (!intake.pagesFollow) {
    const groups = groupsChangedHere(db, intake, managedBefore);
    for (const groupId of groups) if (!managesNow(db, intake, groupId)) dropUnsentRename(db, intake, groupId);
    dropUnsentCodes(db, intake, groups);
  }
  // A rotation of this person's own waiting here unsent in a group they no longer manage: never to be made, it gives way
  // to the version the server holds (replica-own-key.ts giveWayToHeld). Only now: what else of theirs there is unsendable
  // was dropped and told above, against the memberships as they stood.
  for (const groupId of managedBefore) {
    if (me !== undefined && (getGroupRow(db, groupId) === undefined || managesHere(db, { id: me.id, role: me.role }, groupId))) continue;
    const own = unledUnder.get(groupId);
    if (giveWayToHeld(db, intake, groupId, own) && own !== undefined) agreeMember(db, groupId, intake.userId, own);
  }
  // A group this person was cut off from: the others' wraps go too, now that each member record of the batch was
  // judged against them (a crossing there told), but for those this batch wrapped. A desktop not holding a group is
  // handed none of its member records, so none would ever replace them; a revoke at the version held (ahead of its
  // rotation: replica-people.ts agreedVersion) comes without the rotation whose new version dropped them before
  // (v3-scope-rotation).
  const wrappedNow = new Set(records.flatMap((r) => (r.kind === 'member' && !r.revoked ? [`${r.group}|${r.user}`] : [])));
  for (const groupId of heldBefore) {
    const wraps = groupKeysOfGroup(db, groupId);
    if (wraps.some((gk) => gk.user_id === intake.userId)) continue;
    for (const gk of wraps) {
      const uids = groupAndUserUids(db, groupId, gk.user_id);
      if (uids !== undefined && wrappedNow.has(`${uidText(uids.group_uid)}|${uidText(uids.user_uid)}`)) continue;
      deleteGroupKey(db, groupId, gk.user_id);
    }
  }
  // Revokes standing at the version held, no rotation past it taken in: a key change owed (replica-key-owed.ts). Only
  // now: a group record of this batch above that version moved the group past it, taken first or not.
  noteKeyChangesOwed(db, intake, records);
}

/** Whether this person manages the live group `groupId` by what this desktop holds now. */
function managesNow(db: WriteDb, intake: PeopleIntake, groupId: number): boolean {
  const me = getUser(db, intake.userId);
  return me !== undefined && getGroupRow(db, groupId) !== undefined && managesHere(db, { id: me.id, role: me.role }, groupId);
}

/** The groups a change of whose own record may wait here: those of `managedBefore`, those this person holds, and those an agreed name or setting is kept of. */
function groupsChangedHere(db: WriteDb, intake: PeopleIntake, managedBefore: readonly number[]): number[] {
  return [...new Set([...managedBefore, ...groupKeysOfUser(db, intake.userId).map((gk) => gk.group_id), ...groupsAgreedKept(db)])];
}

/** The groups `records` name (group and member records) that this person holds a wrap of before they are taken in. */
function groupsHeldNamedIn(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[]): number[] {
  const named = new Set(records.flatMap((r) => (r.kind === 'group' ? [r.id] : r.kind === 'member' ? [r.group] : [])));
  return [...named].flatMap((uid) => {
    const groupId = idByUid(db, 'access_groups', uidBytes(uid));
    return groupId !== undefined && groupKeysOfGroup(db, groupId).some((gk) => gk.user_id === intake.userId) ? [groupId] : [];
  });
}

/**
 * The groups this person manages here before `records` are taken in, of those the batch may stop
 * them managing: a record of their own membership (unmade as a lead, removed), or of themselves (a
 * role from elsewhere: every group they hold; their custom role redefined: every group they lead). Only those, so a
 * batch costs no pass over every membership.
 */
function groupsItMayUnmake(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[]): number[] {
  const me = getUser(db, intake.userId);
  if (me === undefined) return [];
  const own = uidText(me.uid);
  const groups = records.some((r) => r.kind === 'user' && r.id === own)
    ? groupKeysOfUser(db, me.id).map((gk) => gk.group_id)
    : records.flatMap((r) => (r.kind === 'member' && r.user === own ? [idByUid(db, 'access_groups', uidBytes(r.group))] : [])).filter((g): g is number => g !== undefined);
  const managed = [...new Set(groups)].filter((groupId) => managesHere(db, { id: me.id, role: me.role }, groupId));
  // Their custom role redefined by a record of the batch (taken in before it: replica-service.ts takeVaultObjects), its
  // groups.manage gone: the groups they lead were managed before it, though no longer by what this desktop holds now
  // (hostile review of 91e8333: a rename there was neither sent nor told). Only a custom role: built-in ones never change.
  const redefined = records.some((r) => r.kind === 'role' && foldRoleName(r.name) === foldRoleName(me.role));
  const led = redefined ? groupKeysOfUser(db, me.id).flatMap((gk) => (gk.is_lead === 1 ? [gk.group_id] : [])) : [];
  return [...new Set([...managed, ...led])];
}

/**
 * Others' memberships of a group this person stopped managing in this batch (unmade as its lead,
 * demoted, removed), changed here and not sent, that no record of them crossed (takeCrossing drops
 * those): a lead made or unmade, a grant. Nobody would ever be sent them (replica-people.ts sends
 * only what its person manages, and the server would refuse it), and this desktop would show them
 * as made for good: the lead goes back to what was agreed (nothing agreed known: the unmaking, the
 * tighter), a grant never agreed goes, each told as dropped (user.crossed). Whoever manages the
 * group makes it again if it still holds.
 */
function dropUnsendable(db: WriteDb, intake: PeopleIntake, managedBefore: readonly number[]): void {
  const me = getUser(db, intake.userId);
  for (const groupId of managedBefore) {
    if (me !== undefined && getGroupRow(db, groupId) !== undefined && managesHere(db, { id: me.id, role: me.role }, groupId)) continue;
    for (const gk of groupKeysOfGroup(db, groupId)) {
      const uids = gk.user_id === intake.userId ? undefined : groupAndUserUids(db, groupId, gk.user_id);
      if (uids === undefined) continue;
      const id = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
      const base = replicaBase(db, id);
      if ((memberRevision(db, groupId, gk.user_id) ?? 0) <= base || memberSeq(db, groupId, gk.user_id) <= sentSeq(db)) continue;
      const was = agreedMember(db, id);
      let what: string;
      if (base === 0) {
        deleteGroupKey(db, groupId, gk.user_id);
        what = 'granted it';
      } else if (gk.is_lead !== (was?.lead === true ? 1 : 0)) {
        putGroupKey(db, { ...gk, is_lead: was?.lead === true ? 1 : 0 });
        what = gk.is_lead === 1 ? 'made a lead' : 'unmade as a lead';
        // Nothing else of it changed here: agreed again, so nothing of it is taken for unsent.
        if (was !== undefined && sameWraps(was, stateOfRow(gk))) setMemberRevision(db, groupId, gk.user_id, base);
      } else continue;
      const name = getUser(db, gk.user_id)?.name ?? 'a member';
      intake.crossed(name, `${name}: a change of their membership of the group "${groupNameHere(db, intake, groupId)}" made here not yet sent; ${what} here: dropped, as this desktop's person no longer manages the group to send it`);
    }
  }
}

/**
 * The server codes setting of a group this person held managing, turned on or off here and not sent, once the records
 * taken in leave them no owner or admin (their role narrowed: a lead still, or no longer managing the group): only
 * owners and admins change it, and the server refused every push carrying it (FORBIDDEN). It goes back to the setting
 * agreed, each member's wrap at the version held made again with the secret key exactly where their role holds it then
 * (takeCodesUnderOwnRotation; a key change of theirs waiting still goes, without the setting, where they lead the group),
 * told once (replica-group-unsent.ts). With no key change of theirs waiting, the group's row and the re-wraps that now
 * say what was agreed go back to their agreed revisions: nothing of it waits to go.
 */
function dropUnsentCodes(db: WriteDb, intake: PeopleIntake, groups: readonly number[]): void {
  const me = getUser(db, intake.userId);
  if (me === undefined) return;
  for (const groupId of groups) {
    const row = getGroupRow(db, groupId);
    const on = row === undefined ? undefined : codesToPutBack(db, groupId, me.role);
    if (row === undefined || on === undefined) continue;
    takeCodesUnderOwnRotation(db, intake, groupId, on);
    if (rotatedFromOf(db, groupId).length === 0) {
      for (const gk of groupKeysOfGroup(db, groupId)) {
        const uids = groupAndUserUids(db, groupId, gk.user_id);
        if (uids === undefined) continue;
        const id = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
        const was = agreedMember(db, id);
        if (was !== undefined && was.lead === (gk.is_lead === 1) && sameWraps(was, stateOfRow(gk))) setMemberRevision(db, groupId, gk.user_id, replicaBase(db, id));
      }
      const base = replicaBase(db, row.uid);
      if (base > 0 && !renameHeldHere(db, groupId)) setGroupRevision(db, groupId, base);
    }
    intake.groupChangeUnmade(groupId, groupNameHere(db, intake, groupId), `server-computed codes turned ${on ? 'off' : 'on'}`, 'only owners and admins change it');
  }
}

/**
 * A user record: a role change or a disabling (or enabling) of someone this file knows, taken in
 * where this desktop's own rules would let its signer make it (users.manage; never on themselves;
 * an owner's or admin's row, or making one, by an owner only: shared/policy). Their keys follow
 * as the group and member records of the rotations it made. An older record than one taken in
 * before (its revision, kept as the user's agreed one) is stale: a relay cannot play one back.
 * A new public key (an owner's password reset elsewhere) is taken in by takeNewPublicKey; a new
 * user, before the batch's signing keys, by replica-people-new.ts takeNewUsers.
 * A record crossing a change of the person made here and not yet sent (review round ten hole 2:
 * a demotion or disabling silently undone by the next pull) never simply replaces it: the change
 * is rebased above the record. Its new public key is taken; the role and the disabling are each
 * judged against the state last agreed (store-replica-people.ts agreedUser): changed on one side
 * only, that side's is kept; on both (or nothing agreed known), the tighter (a disabling over an
 * enabling; a role whose permissions are within the other's; neither within the other: this
 * desktop's). The row goes above the record's revision and is sent again, and the crossing is
 * told (audited as user.crossed, reported in the apply's outcome).
 */
function takeUser(db: WriteDb, intake: PeopleIntake, r: UserRecord): PeopleTaken {
  const uid = uidBytes(r.id);
  const userId = idByUid(db, 'users', uid);
  const local = userId === undefined ? undefined : getUser(db, userId);
  if (!local) return 'ignored';
  const disabledNow = local.disabled_at !== null;
  // At or below the agreed revision: stale, whatever it says (a relay playing an older one back).
  const agreed = replicaBase(db, uid);
  if (r.revision <= agreed) return 'unchanged';
  // The role is judged below as it would be stored: written exactly as this vault holds it, or set aside.
  canonicalRole(db, r.role);
  const sameKey = bin(r.publicKey).equals(local.public_key);
  if (r.role === local.role && (r.disabledAt !== null) === disabledNow && sameKey) {
    // Nothing to change, but its revision is agreed all the same: an older record arriving after it is stale.
    if (signedHere(db, intake, r)) {
      setUserRevisionAtLeast(db, local.id, r.revision);
      setReplicaBase(db, uid, r.revision);
      noteAgreedUser(db, uid, { role: r.role, disabled: r.disabledAt !== null });
    }
    return 'unchanged';
  }
  const signer = signerOf(db, intake, r);
  const actor = { id: signer.id, role: signer.role, permissions: rolePermissions(db, signer.role) };
  if (!actor.permissions.includes('users.manage')) throw tampered('sets a user, and its sender may not manage users');
  const target = { id: local.id, role: local.role, permissions: rolePermissions(db, local.role) };
  const whyNot = whyNotActOn(actor, target) ?? (r.role === local.role ? undefined : whyNotAssignRole(actor, r.role, rolePermissions(db, r.role)));
  if (whyNot !== undefined) throw tampered(`sets a user as its sender may not here (${whyNot})`);
  // Changed here since last agreed, and not sent yet: the record crosses that change. Which side
  // changed which field: against the state agreed (unknown: both sides count as having changed it).
  const unsent = local.revision > agreed && userSeq(db, local.id) > sentSeq(db);
  const was = unsent ? agreedUser(db, uid) : undefined;
  const crossing: string[] = [];
  let role = r.role;
  let disabledAt = r.disabledAt;
  if (unsent && r.role !== local.role && was?.role !== local.role) {
    if (was !== undefined && was.role === r.role) {
      role = local.role;
      crossing.push(`role ${local.role} set here kept (the record left it at ${r.role})`);
    } else if (within(db, r.role, local.role)) {
      crossing.push(`both changed the role: ${r.role} from elsewhere taken over ${local.role} set here (the tighter)`);
    } else {
      role = local.role;
      crossing.push(`both changed the role: ${local.role} set here kept over ${r.role} from elsewhere (the tighter, or neither within the other)`);
    }
  }
  const disabledThere = r.disabledAt !== null;
  if (unsent && disabledThere !== disabledNow && was?.disabled !== disabledNow) {
    if (was !== undefined && was.disabled === disabledThere) {
      disabledAt = local.disabled_at;
      crossing.push(disabledNow ? 'disabled here: kept' : 'enabled here: kept');
    } else if (disabledNow) {
      disabledAt = local.disabled_at;
      crossing.push('both changed it: disabled here, kept over an enabling from elsewhere');
    } else {
      crossing.push('both changed it: disabled from elsewhere, taken over an enabling here');
    }
  }
  if (role !== local.role) {
    setUserRole(db, local.id, role);
    // A secret key this desktop gave them for the role it set, not sent yet, goes with that role.
    const stripped = dropUnsentSecrets(db, local.id);
    if (stripped > 0) crossing.push(`the secret key given here in ${stripped} access group${stripped === 1 ? '' : 's'} dropped, as role ${role} may not hold it`);
  }
  if ((disabledAt !== null) !== disabledNow) setUserDisabled(db, local.id, disabledAt);
  if (disabledAt !== null && !disabledNow) {
    // Disabled elsewhere, which rotated them out of the groups it knew, not out of a grant made here and not sent.
    const dropped = dropUnsentGrants(db, local.id);
    if (dropped > 0) crossing.push(`disabled from elsewhere: the access given here to ${dropped} access group${dropped === 1 ? '' : 's'}, not sent yet, dropped (the server gives a disabled person no group key)`);
  }
  if (!sameKey) takeNewPublicKey(db, intake, r, local, signer);
  // Never behind the record's revision, so this desktop's own later record of them is not taken for an old one.
  // What is kept of this desktop's own change goes above it, to be sent again (its row's sequence is past the sent one).
  const keepsOwn = role !== r.role || (disabledAt !== null) !== (r.disabledAt !== null);
  // Nothing changed here to keep: at the record's revision exactly (a role and a disabling taken are two writes
  // here), or the row would stand above its agreed revision and go out as this desktop's (peopleRecords).
  if (!keepsOwn && !unsent) setUserRevision(db, local.id, r.revision);
  else setUserRevisionAtLeast(db, local.id, keepsOwn ? r.revision + 1 : r.revision);
  setReplicaBase(db, uid, r.revision);
  noteAgreedUser(db, uid, { role: r.role, disabled: r.disabledAt !== null });
  if (crossing.length > 0) intake.crossed(local.name, `${local.name}: a record from elsewhere crossed a change made here not yet sent; ${crossing.join('; ')}`);
  return 'applied';
}

/**
 * The secret-key wraps of `userId` this desktop wrote and has not sent (a role change made here
 * gave them) in groups where the role they hold now may not hold it: taken off the row, which goes
 * out with the list key alone. Sent, such a wrap would hand the group's passwords and OTP keys to a
 * role that may not open them (the server cannot read a role into a wrap). A wrap agreed already is
 * not this desktop's to take back: that takes a rotation. Returns how many groups.
 */
function dropUnsentSecrets(db: WriteDb, userId: number): number {
  const user = getUser(db, userId);
  if (!user) return 0;
  let stripped = 0;
  for (const gk of groupKeysOfUser(db, userId)) {
    if (gk.wrapped_secret_key === null || needsSecretKeyIn(db, user, gk.group_id)) continue;
    const uids = groupAndUserUids(db, gk.group_id, userId);
    if (uids === undefined) continue;
    const id = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
    if ((memberRevision(db, gk.group_id, userId) ?? 0) <= replicaBase(db, id) || memberSeq(db, gk.group_id, userId) <= sentSeq(db)) continue;
    if (agreedMember(db, id)?.secret === true) continue;
    putGroupKey(db, { group_id: gk.group_id, user_id: userId, key_version: gk.key_version, wrapped_key: gk.wrapped_key, wrapped_secret_key: null, by_role: gk.by_role, is_lead: gk.is_lead });
    stripped++;
  }
  return stripped;
}

/**
 * The memberships of `userId` granted here and never agreed (no record of them sent or taken in),
 * once they are disabled: gone, the key never having left this desktop for them. Sent, the server
 * would refuse the whole push (no group key for a disabled person), and every push after it.
 * Returns how many.
 */
function dropUnsentGrants(db: WriteDb, userId: number): number {
  let dropped = 0;
  for (const gk of groupKeysOfUser(db, userId)) {
    const uids = groupAndUserUids(db, gk.group_id, userId);
    if (uids === undefined) continue;
    const id = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
    if (replicaBase(db, id) !== 0 || memberSeq(db, gk.group_id, userId) <= sentSeq(db)) continue;
    deleteGroupKey(db, gk.group_id, userId);
    dropped++;
  }
  return dropped;
}

/** Whether role `a` allows nothing role `b` does not (a demotion from `b`, or the same). */
function within(db: WriteDb, a: string, b: string): boolean {
  const of = rolePermissions(db, b);
  return rolePermissions(db, a).every((p) => of.includes(p));
}

/** Whether `r` deletes a group this file holds (live): such a record is taken after the batch's entries. */
export function deletesGroupHeld(db: WriteDb, r: GroupRecord): boolean {
  if (r.deletedAt === null) return false;
  const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
  return groupId !== undefined && getGroupRow(db, groupId) !== undefined;
}

/** A group record: a newer key version is taken in (with this person's wrap of it, when they hold the group). */
function takeGroup(
  db: WriteDb, intake: PeopleIntake, r: GroupRecord, records: readonly ReplicaRecord[], taken: Set<string>, moved: Set<number>, diverged: Set<string>, gaveWay: Set<number>, created: Map<string, string>,
): PeopleTaken {
  const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
  if (groupId === undefined) return takeNewGroup(db, intake, r, records, taken, created);
  const row = getGroupRow(db, groupId);
  if (!row) return 'ignored';
  // A newer record while a rename of this desktop's waits: its name is the server's now, whatever becomes of the rename.
  noteAgreedFrom(db, intake, r, row);
  // The server holds the group live above the revision noted for a deletion that waited here: that note says nothing more.
  const sentOver = groupSentOverDeletion(db, row.uid);
  if (sentOver !== undefined && r.revision > sentOver) forgetGroupSentOverDeletion(db, row.uid);
  if (r.keyVersion < row.key_version) return takeUnderOwnRotation(db, intake, r, row);
  if (r.keyVersion === row.key_version && rotatedElsewhereToo(db, intake, r, records, groupId)) {
    // This desktop's own rotation to that version never left it (unsent, or refused by the server,
    // which kept the other): it gives way, and makes its own revokes again past it (giveWay).
    if (groupSeq(db, groupId) > sentSeq(db)) return giveWay(db, intake, r, records, groupId, taken, moved, gaveWay);
    diverged.add(r.id);
    throw twoRotations();
  }
  const setting = r.serverCodes !== undefined && r.serverCodes !== (row.server_codes === 1);
  // At the same version, only a newer record than this desktop's own row changes the setting (one's
  // own record coming back, or an older one, must not undo a change made here since).
  const renamed = takeRename(db, intake, r, row);
  if (r.keyVersion === row.key_version && (!setting || r.revision <= row.revision)) {
    if (!renamed) return 'unchanged';
    setGroupRevision(db, groupId, r.revision);
    return 'applied';
  }
  const signer = signerOf(db, intake, r);
  requireManages(db, signer, groupId);
  if (setting) {
    // What the team server may see of a group: owners' and admins' to decide (team.ts setServerCodes).
    if (!holdsAllGroups(signer.role)) throw tampered('turns server-computed codes on or off, and its sender is no owner or admin');
    setGroupServerCodes(db, groupId, r.serverCodes === true);
    agreeCodesTaken(db, groupId, r.serverCodes === true);
    if (r.keyVersion === row.key_version) {
      setGroupRevision(db, groupId, r.revision);
      return 'applied';
    }
  }
  const me = getUser(db, intake.userId);
  if (!me) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
  const old = intake.ring.groups.get(groupId);
  const mine = records.find((m): m is MemberRecord => m.kind === 'member' && m.group === r.id && m.user === uidText(me.uid) && m.keyVersion === r.keyVersion && !m.revoked);
  if (old && !mine) {
    // A removal is taken from a signed statement of it only, never from a wrap the relay did not
    // hand over (review six): without one, the rotation waits, the group and its unsent edits stay.
    // One at the version held here counts too: a revoke goes ahead of its rotation, signed at the
    // version the server held (replica-people.ts agreedVersion), and comes in the same pull as the
    // rotation's record, which is taken first; newer than the membership agreed here, so an old
    // revoke played back (before a grant again) removes nothing.
    const removal = records.find((m): m is MemberRecord => m.kind === 'member' && m.group === r.id && m.user === uidText(me.uid) && m.revoked
      && (m.keyVersion >= r.keyVersion || (m.keyVersion >= row.key_version && m.revision > replicaBase(db, uidBytes(m.id)))));
    if (!removal) throw notYet('moves an access group to a key this desktop\'s person is not given, and no signed removal of them came with it');
    if (removal.id !== memberRecordId(removal.group, removal.user, sha256Hex)) throw tampered('is a member record not named by its group and user');
    requireManages(db, signerOf(db, intake, removal), groupId);
    cutOff(db, intake, groupId);
    setReplicaBase(db, uidBytes(removal.id), removal.revision);
    taken.add(removal.id);
  } else if (old && mine) {
    if (mine.id !== memberRecordId(mine.group, mine.user, sha256Hex)) throw tampered('is a member record not named by its group and user');
    requireManages(db, signerOf(db, intake, mine), groupId);
    rotateIn(db, intake, groupId, old, mine);
    agreeMember(db, groupId, intake.userId, mine);
    taken.add(mine.id);
    // A revoke made here and not sent, crossed by a newer rotation from elsewhere that did not know of it (and so wrapped
    // the member again): made again past it once the pull is at the server's head, as a give-way's are (team.ts
    // rotateAgain, which leaves out whoever that rotation did not wrap). Else the member's row taken in supersedes the
    // note (peopleRecords) and the revoke was lost without a word (hostile review of 623cdbd).
    if (revokedMembers(db).some((m) => m.groupId === groupId)) noteRotateAgain(db, groupId);
  }
  if (!old || !mine) setGroupKeyVersion(db, groupId, r.keyVersion);
  // The row as the record has it: at its revision (the writes above moved this desktop's own count),
  // so the next change on either side is judged against the same number; a rename made here and not
  // sent that the record did not take over stays one above it, to be sent (keepOrTakeName).
  setGroupRevision(db, groupId, r.revision, keepOrTakeName(db, intake, r, groupId));
  moved.add(groupId);
  return 'applied';
}

/**
 * A group record below the key version held here: stale (this desktop moved the group on), but for a
 * change made elsewhere that this desktop's own rotation, not sent yet, was made without: the server
 * refuses such a rotation until its desktop has pulled that record (server/sync/records.ts
 * groupsChangedUnseen). Its rename is taken under the rotation (a name is sealed under the directory
 * key, not the group's: nothing to seal again), unless a rename made here waits to be sent too (that
 * one goes after it, as at the same version); so is its server codes setting (takeCodesUnderOwnRotation).
 * The row stays one above the record, with the record's revision agreed: the rotation is pushed
 * again, carrying the name and the setting, and is never lost to them.
 */
function takeUnderOwnRotation(db: WriteDb, intake: PeopleIntake, r: GroupRecord, row: GroupRow): PeopleTaken {
  const agreed = replicaBase(db, row.uid);
  const unsentHere = row.revision > agreed && groupSeq(db, row.id) > sentSeq(db);
  if (!unsentHere || r.revision <= agreed) return 'unchanged';
  const setting = codesSettingToTake(db, intake, r, row);
  const renamed = !renameHeldHere(db, row.id) && takeRename(db, intake, r, row, agreed);
  if (setting !== undefined) takeCodesUnderOwnRotation(db, intake, row.id, setting);
  if (!renamed && setting === undefined) return 'unchanged';
  setGroupRevision(db, row.id, r.revision, true);
  return 'applied';
}

/**
 * The server codes setting of a record below this desktop's unsent rotation, where it differs from the
 * row's and this desktop did not turn it itself since it last sent (hostile review of 597ea4c: left, the
 * rotation turned codes an owner had turned off back on under this desktop's signature, and the team
 * server took the group's OTP keys again). An owner's or admin's to decide, as at a newer version.
 */
function codesSettingToTake(db: WriteDb, intake: PeopleIntake, r: GroupRecord, row: GroupRow): boolean | undefined {
  if (r.deletedAt !== null || r.serverCodes === undefined || r.serverCodes === (row.server_codes === 1)) return undefined;
  if (groupChangedOnSince(db, row.id, ['group.server_codes_on', 'group.server_codes_off'], sentSeq(db), ownDevices(db))) return undefined;
  const signer = signerOf(db, intake, r);
  requireManages(db, signer, row.id);
  if (!holdsAllGroups(signer.role)) throw tampered('turns server-computed codes on or off, and its sender is no owner or admin');
  return r.serverCodes;
}

/**
 * The setting taken under this desktop's unsent rotation, whose wraps were made for the other one: each
 * member's wrap of that version is made again with the secret key exactly where their role holds it
 * now (team.ts setServerCodes gives it back when turned off; turned on, nobody who may not hold it is
 * given the new version's secret key, which no one holds yet: no further rotation needed).
 */
function takeCodesUnderOwnRotation(db: WriteDb, intake: PeopleIntake, groupId: number, on: boolean): void {
  setGroupServerCodes(db, groupId, on);
  agreeCodesTaken(db, groupId, on);
  const held = intake.ring.groups.get(groupId);
  if (held === undefined) return;
  for (const gk of groupKeysOfGroup(db, groupId)) {
    const user = getUser(db, gk.user_id);
    if (user === undefined || user.disabled_at !== null || gk.key_version !== held.version) continue;
    const needs = needsSecretKeyIn(db, user, groupId);
    // A secret key this desktop does not hold is not given here: they stay on the list key, as with no rotation.
    if ((gk.wrapped_secret_key !== null) === needs || (needs && held.secret === undefined)) continue;
    wrapGroupFor(db, groupId, held, user, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 }, intake.ring.keysSeen);
  }
}

/**
 * After a group record at a newer key version (or one this desktop's own rotation gave way to) was
 * taken in: whether the row's name, which the record does not carry, is a rename made here and not
 * sent, kept to be sent (the row one above the record). Only one made here: a name taken in from
 * elsewhere was sent on as this desktop's own record (hostile review of 0571e01). Any other name
 * gives way to the record's, as the server holds it (a rename in the rotation that won a give-way; a
 * rotation from a desktop that does not say how far it pulled, which the server does not judge:
 * records.ts groupsChangedUnseen), unless another group here holds that name now (left as it is, as
 * a name that does not open here is).
 */
function keepOrTakeName(db: WriteDb, intake: PeopleIntake, r: GroupRecord, groupId: number): boolean {
  const row = getGroupRow(db, groupId);
  if (!row || bin(r.nameIndex).equals(row.name_index)) return false;
  if (renameHeldHere(db, groupId)) return true;
  if (findGroupByIndex(db, bin(r.nameIndex)) === undefined) takeRename(db, intake, r, row, r.revision - 1);
  return false;
}

/**
 * Two rotations to one version, this desktop's own never sent (review six hole 4): the other
 * side's key is taken in as a rotation made elsewhere (rotateIn: entries and pages sealed again
 * under it, at the revisions they had) and this desktop's own wraps of the others at that version,
 * of its own key, are replaced by the other side's member records in the batch or go (dropOwnWrapsAtVersion). The group is
 * noted to be rotated again (team.ts rotateAgain, once the apply is at the server's head): this
 * desktop's own revokes, still noted, are made again at the next version. Its entries that only
 * its own rotation re-sealed take the other side's versions as they arrive (replica-service.ts
 * takeEntry).
 */
function giveWay(db: WriteDb, intake: PeopleIntake, r: GroupRecord, records: readonly ReplicaRecord[], groupId: number, taken: Set<string>, moved: Set<number>, gaveWay: Set<number>): PeopleTaken {
  const me = getUser(db, intake.userId);
  const old = intake.ring.groups.get(groupId);
  const mine = me === undefined ? undefined : records.find((m): m is MemberRecord => m.kind === 'member' && m.group === r.id && m.user === uidText(me.uid) && m.keyVersion === r.keyVersion && !m.revoked);
  if (!old || !mine) throw twoRotations();
  requireManages(db, signerOf(db, intake, r), groupId);
  requireManages(db, signerOf(db, intake, mine), groupId);
  rotateIn(db, intake, groupId, old, mine);
  agreeMember(db, groupId, intake.userId, mine);
  taken.add(mine.id);
  setGroupRevision(db, groupId, r.revision, keepOrTakeName(db, intake, r, groupId));
  noteRotateAgain(db, groupId);
  moved.add(groupId);
  gaveWay.add(groupId);
  return 'applied';
}

function dropOwnWrapsAtVersion(db: WriteDb, intake: PeopleIntake, groupId: number, records: readonly ReplicaRecord[]): void {
  const row = getGroupRow(db, groupId);
  if (!row) return;
  const theirs = new Map(records.filter((m): m is MemberRecord => m.kind === 'member' && m.group === uidText(row.uid) && m.keyVersion === row.key_version && !m.revoked).map((m) => [m.user, bin(m.wrappedKey)]));
  for (const gk of groupKeysOfGroup(db, groupId)) {
    if (gk.user_id === intake.userId || gk.key_version !== row.key_version) continue;
    const user = getUser(db, gk.user_id);
    const wrap = user ? theirs.get(uidText(user.uid)) : undefined;
    if (!wrap?.equals(gk.wrapped_key)) deleteGroupKey(db, groupId, gk.user_id);
  }
}

function twoRotations(): CrewvaultError {
  return new CrewvaultError('CONFLICT', 'A received record moves an access group to the key version this desktop moved it to with another key (two rotations at once): it is set aside; sync through the team server, which keeps the first, and rotate the group again.');
}

/**
 * Whether `r`, at the key version this desktop holds, comes with a wrap for this person of another
 * key than the one held here at that version: someone else rotated the group to the same version
 * (two managers revoking at once, review six). Taken as 'unchanged' before, the desktop stayed on
 * its own key for good, every later entry from the other side set aside, and nothing said so.
 */
function rotatedElsewhereToo(db: WriteDb, intake: PeopleIntake, r: GroupRecord, records: readonly ReplicaRecord[], groupId: number): boolean {
  const me = getUser(db, intake.userId);
  const ringKey = intake.ring.groups.get(groupId);
  const held = groupKeysOfGroup(db, groupId).find((gk) => gk.user_id === intake.userId);
  if (!me || !ringKey || !held || held.key_version !== r.keyVersion || ringKey.version !== r.keyVersion) return false;
  const mine = records.find((m): m is MemberRecord => m.kind === 'member' && m.group === r.id && m.user === uidText(me.uid) && m.keyVersion === r.keyVersion && !m.revoked);
  if (!mine || held.wrapped_key.equals(bin(mine.wrappedKey))) return false;
  // A forged record is refused as one, not taken for a second rotation.
  signerOf(db, intake, r);
  signerOf(db, intake, mine);
  let theirs: GroupKey;
  try {
    theirs = openHeldGroupKey(db, intake.ring.keyPair, intake.userId, { ...keyRowOf(groupId, intake.userId, mine), secret_split: 1 });
  } catch {
    throw tampered('wraps a group key that does not open for this desktop\'s person');
  }
  const other = !theirs.key.equals(ringKey.key);
  theirs.key.fill(0);
  theirs.secret?.fill(0);
  return other;
}

/**
 * Whether group record `r` waits for a later page of the pull (0933ba3): at the version this
 * desktop's own unsent rotation moved the group to, without this person's member record of that
 * version in `records` (a pull page cut right after the group record). Judged on its own it was
 * 'unchanged' (rotatedElsewhereToo needs that wrap to tell two rotations apart), and the other
 * side's wraps of another key, on the pages after, were taken in beside this desktop's own at the
 * same version: its revokes were never made again, and its next push named a membership both
 * live and revoked. Only while pages follow: at the last page the record is judged as it stands.
 */
function waitsForOwnWrap(db: WriteDb, intake: PeopleIntake, r: GroupRecord, records: readonly ReplicaRecord[]): boolean {
  if (!intake.pagesFollow || r.deletedAt !== null) return false;
  const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
  const row = groupId === undefined ? undefined : getGroupRow(db, groupId);
  if (groupId === undefined || !row || row.key_version !== r.keyVersion || groupSeq(db, groupId) <= sentSeq(db)) return false;
  const me = getUser(db, intake.userId);
  return me !== undefined && !records.some((m) => m.kind === 'member' && m.group === r.id && m.user === uidText(me.uid) && m.keyVersion === r.keyVersion && !m.revoked);
}

/**
 * The new key opened from this person's wrap, the group moved to it here (replica-own-key.ts moveOwnKey: entries
 * re-sealed under it at the revisions they had, pages rebuilt, version and wrap stored, the ring holding it).
 */
function rotateIn(db: WriteDb, intake: PeopleIntake, groupId: number, old: GroupKey, wrap: MemberRecord): void {
  const { held, key: next } = openOwnWrap(db, intake, groupId, wrap);
  moveOwnKey(db, intake, groupId, old, held, next);
}

/**
 * This person was removed from the group (a revoke rotated it past them): its key and pages
 * leave this desktop and its entries are emptied (local tombstones, agreed: nothing to send),
 * with any edit made here in it that was not sent (the server refuses it now: FORBIDDEN), told
 * to the caller. What this desktop showed before was seen.
 */
function cutOff(db: WriteDb, intake: PeopleIntake, groupId: number): void {
  const name = groupNameHere(db, intake, groupId);
  const dropped = unsentEntriesInGroup(db, groupId);
  dropEntriesOfGroup(db, groupId, intake.now);
  deletePagesOfGroup(db, groupId);
  // Only this person's: the others' go at the end of the batch (takePeople), once its member records are judged.
  deleteGroupKey(db, groupId, intake.userId);
  // Versions this desktop kept from its own unsent rotations of the group go with its key (rotated-from-keys.ts).
  dropRotatedFrom(db, groupId);
  intake.ring.dropGroup(groupId);
  intake.removed(name, dropped);
}

/**
 * This person was granted the group: the key opened from their wrap and held, and the group's
 * entries as this file holds them emptied (a file copy's are as old as the copy, sealed under
 * whatever version was current then): the server hands every entry of the group over again
 * after a grant, and each fills its place as it arrives, its pages built as they come.
 */
function grantIn(db: WriteDb, intake: PeopleIntake, groupId: number, wrap: MemberRecord): void {
  const { held, key } = openOwnWrap(db, intake, groupId, wrap);
  dropEntriesOfGroup(db, groupId, intake.now);
  deletePagesOfGroup(db, groupId);
  putGroupKey(db, held);
  intake.ring.dropGroup(groupId);
  intake.ring.addGroup(groupId, key);
}

/** A member record at the group's current version: someone else's wrap stored as it came. */
function takeMember(db: WriteDb, intake: PeopleIntake, r: MemberRecord, created: ReadonlyMap<string, string>, unmade: ReadonlySet<string>, unledUnder: Map<number, MemberRecord>): PeopleTaken {
  if (r.id !== memberRecordId(r.group, r.user, sha256Hex)) throw tampered('is a member record not named by its group and user');
  const groupId = idByUid(db, 'access_groups', uidBytes(r.group));
  const userId = idByUid(db, 'users', uidBytes(r.user));
  if (groupId === undefined || userId === undefined) return 'ignored';
  const group = getGroupRow(db, groupId);
  // A membership that may leave no trace in the rows here (a revoke of someone holding no row: a first sync after the
  // removal; a deleted group's record, ignored), its record holding under its sender's signature: noted with its signer,
  // so that an event its member signed in the group, naming an entry never sent, is taken here (event-author.ts
  // mayHaveHeldGroup) if that signer is someone else who may have held the group; nothing here checks who may sign it.
  if ((r.revoked || !group) && !memberNotedKnown(db, uidBytes(r.id), uidBytes(r.author)) && signedHere(db, intake, r)) noteMemberKnown(db, uidBytes(r.id), uidBytes(r.author));
  if (!group) return 'ignored';
  if (r.keyVersion < group.key_version) {
    if (r.revoked) return takeRevokeUnderOwnRotation(db, intake, r, groupId, userId);
    if (userId === intake.userId && takeOwnUnmadeUnderOwnRotation(db, intake, r, groupId)) {
      unledUnder.set(groupId, r);
      return 'applied';
    }
    // A grant made elsewhere after this desktop's revoke was stored: the member is wrapped again at this rotation's version.
    if (regrantedOverStoredRevoke(db, intake, r, groupId, userId)) return 'applied';
    // A grant made elsewhere at the version this desktop rotated from, its rotation not sent: the rotation carries them.
    const granted = grantedUnderOwnRotation(db, intake, r, groupId, userId);
    if (granted !== undefined) return granted;
    // A wrap below a rotation of this desktop's: nothing to take, but a revoke noted here goes above its revision.
    const raised = raiseNotedRevoke(db, groupId, userId, r.revision);
    if (raised === undefined) return 'unchanged';
    setReplicaBase(db, uidBytes(r.id), Math.max(raised, replicaBase(db, uidBytes(r.id))));
    // The pair as the server holds it now, from someone who manages the group here (a lead made, a secret key given): what
    // a give-way wraps them again as (replica-own-key.ts giveWayToHeld). Not kept, the desktop that gave way held them as
    // before that record and was never handed it again: a lead the team made was none there, their changes set aside
    // (revoke-first-lead-unmade-member-changed.test.ts).
    if (managesHere(db, signerOf(db, intake, r), groupId)) noteAgreedMembers(db, [{ id: uidBytes(r.id), state: memberStateOf(r) }]);
    return 'unchanged';
  }
  const current = groupKeysOfGroup(db, groupId).find((gk) => gk.user_id === userId);
  // This person's own removal, signed, whose group record was set aside before (it came without it):
  // taken in on its own, the group at the version it names.
  if (r.revoked && userId === intake.userId && r.keyVersion > group.key_version && current !== undefined) {
    requireManages(db, signerOf(db, intake, r), groupId);
    cutOff(db, intake, groupId);
    setGroupKeyVersion(db, groupId, r.keyVersion);
    setReplicaBase(db, uidBytes(r.id), r.revision);
    return 'applied';
  }
  if (r.keyVersion > group.key_version) throw notYet('wraps a key version newer than its group\'s here (the group record comes first)');
  // A membership held here at this very version has an agreed revision: a record at or below it is
  // stale (a lead made, then unmade, the making played back). A wrap at a version not held here yet
  // (a grant, a rotation's re-wrap) has nothing to be compared with: the version orders it.
  if (current !== undefined && current.key_version === r.keyVersion && r.revision <= replicaBase(db, uidBytes(r.id))) return 'unchanged';
  if (r.revoked ? current === undefined : current !== undefined && current.wrapped_key.equals(bin(r.wrappedKey)) && (current.is_lead === 1) === r.lead) {
    if (current !== undefined && signedHere(db, intake, r)) agreeMember(db, groupId, userId, r);
    return 'unchanged';
  }
  // This desktop's own person re-wrapped at the same version: a lead made or unmade (replica-people-new.ts).
  if (userId === intake.userId && !r.revoked && current !== undefined) return current.key_version === r.keyVersion ? takeOwnLead(db, intake, r, groupId) : 'ignored';
  const signer = signerOf(db, intake, r);
  // This person's own first wrap, as lead, of a group they made on another desktop (new here, from
  // this batch): theirs to make, as the server takes a creator's first wrap.
  const ownNewGroup = (created.get(r.group) === r.author && r.author === r.user && r.lead) || creatorsFirstWrap(db, r);
  if (!ownNewGroup) requireManages(db, signer, groupId);
  if (userId === intake.userId && !r.revoked) {
    grantIn(db, intake, groupId, r);
    agreeMember(db, groupId, userId, r);
    return 'applied';
  }
  if (userId === intake.userId) {
    cutOff(db, intake, groupId);
    setReplicaBase(db, uidBytes(r.id), r.revision);
    return 'applied';
  }
  const crossing = current !== undefined && unsentHere(db, r, groupId, userId) ? current : undefined;
  if (r.revoked) {
    if (crossing !== undefined) toldRevokedOver(db, intake, r, groupId, userId, crossing);
    deleteGroupKey(db, groupId, userId);
    setReplicaBase(db, uidBytes(r.id), r.revision);
    forgetAgreedMember(db, uidBytes(r.id));
  } else if (crossing !== undefined) {
    takeCrossing(db, intake, r, groupId, userId, crossing, unmade.has(r.group));
  } else {
    putGroupKey(db, keyRowOf(groupId, userId, r));
    agreeMember(db, groupId, userId, r);
  }
  return 'applied';
}

/**
 * A signed revoke from elsewhere at a key version below the one held here: this desktop rotated the
 * group past it (twice, or once past a version the revoke's own rotation reached) and has not sent
 * it, with the member wrapped at its new version (hostile review of 597ea4c). Stale as a wrap, the
 * removal is not: left out, the rotation pushed here handed the revoked member its newer key and their
 * membership back, one revision above the revoke. The member leaves here (the wrap of the unsent
 * version with them, so they never get it), as a revoke at the version held does; a change of theirs
 * made here and not sent (a lead made) goes with it, told; a rotation's re-wrap alone tells nothing.
 * This desktop's own person's removal cuts them off, their rotation with it (takeOwnRevokeUnderOwnRotation).
 */
function takeRevokeUnderOwnRotation(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number, userId: number): PeopleTaken {
  const current = groupKeysOfGroup(db, groupId).find((gk) => gk.user_id === userId);
  const id = uidBytes(r.id);
  if (current === undefined || r.revision <= replicaBase(db, id)) return 'unchanged';
  if (userId === intake.userId) return takeOwnRevokeUnderOwnRotation(db, intake, r, groupId);
  requireManagedAsAgreed(db, signerOf(db, intake, r), groupId);
  if (unsentHere(db, r, groupId, userId) && changedHere(stateOfRow(current), agreedMember(db, id)) !== undefined) toldRevokedOver(db, intake, r, groupId, userId, current);
  deleteGroupKey(db, groupId, userId);
  setReplicaBase(db, id, r.revision);
  forgetAgreedMember(db, id);
  return 'applied';
}

/**
 * That `signer` manages the group here, or did as the server last agreed with this desktop: a lead whose own removal
 * was made here and whose push has not ended (not sent yet, or stored ahead of its rotation). A revoke of theirs the server stored before
 * that removal, pulled under this desktop's rotation, is theirs to have made; refused for what this desktop alone had
 * done since, it was taken as nothing, and the rotation pushed after it gave the member the new key and the group back
 * (revoke-first-lead-revoke-crossed.test.ts). A revoke only takes access away, and one older than the membership
 * agreed here was turned away before this (takeRevokeUnderOwnRotation).
 */
function requireManagedAsAgreed(db: WriteDb, signer: PeopleSigner, groupId: number): void {
  if (managesHere(db, signer, groupId)) return;
  const uids = groupAndUserUids(db, groupId, signer.id);
  const agreed = uids === undefined ? undefined : agreedMember(db, uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex)));
  // Or their removal is this desktop's own, in flight: stored ahead of its rotation, their agreed state went with it,
  // though the server stored their revoke before it (else it refused it: FORBIDDEN).
  const removedHere = revokedMembers(db).some((m) => m.groupId === groupId && m.userId === signer.id);
  if ((agreed?.lead === true || removedHere) && managesLedGroups(rolePermissions(db, signer.role))) return;
  requireManages(db, signer, groupId);
}

/**
 * This desktop's own person's removal, signed below the version its own unsent rotation moved the group to (a lead
 * revoked while a revoke of theirs waits): a revoke goes ahead of its rotation, at the version the server holds
 * (replica-people.ts agreedVersion), and its rotation sends no removal at a newer one. At or above the version their own
 * membership was agreed at (what the server held when they rotated), newer than that membership: they are cut off,
 * their rotation and what waited in the group with it; they may no longer make it. Left to a record at their version
 * that never came, the desktop kept the group, and the server refused every push of it (FORBIDDEN, for good:
 * revoke-first-revoked-lead.test.ts). An older revoke played back (before a grant again) is at or below the agreed
 * revision, and removes nothing.
 */
function takeOwnRevokeUnderOwnRotation(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number): PeopleTaken {
  const id = uidBytes(r.id);
  const agreed = agreedMember(db, id)?.keyVersion ?? Math.min(...rotatedFromOf(db, groupId).map((v) => v.version));
  if (r.keyVersion < agreed) return 'unchanged';
  requireManages(db, signerOf(db, intake, r), groupId);
  cutOff(db, intake, groupId);
  setReplicaBase(db, id, r.revision);
  forgetAgreedMember(db, id);
  return 'applied';
}

/**
 * This desktop's own person unmade as a lead, signed at the version the server holds, below the one their own unsent
 * rotation moved the group to (a revoke of theirs waiting, issue #15): newer than their membership as agreed here (its
 * revision above the agreed one, at or above the version it was agreed at, as takeOwnRevokeUnderOwnRotation judges a
 * removal), from someone who manages the group here or did as the server last agreed (a co-lead this rotation revokes:
 * requireManagedAsAgreed), and no longer managing it by it (not an owner or admin). Taken as
 * nothing, the desktop still read itself a lead and pushed its revoke and rotation, which the server refused
 * (FORBIDDEN) at every sync, for good (revoke-first-lead-unmade.test.ts). The lead goes here now, so the batch's end
 * reads them as no longer managing it (dropUnsendable, then giveWayToHeld, which drops the rotation and takes this
 * record's wrap as their own). An unmaking played back (older than a making agreed since) changes nothing.
 */
function takeOwnUnmadeUnderOwnRotation(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number): boolean {
  const me = getUser(db, intake.userId);
  const current = groupKeysOfGroup(db, groupId).find((gk) => gk.user_id === intake.userId);
  if (r.lead || me === undefined || holdsAllGroups(me.role) || current === undefined || current.is_lead !== 1) return false;
  const id = uidBytes(r.id);
  const agreed = agreedMember(db, id)?.keyVersion ?? Math.min(...rotatedFromOf(db, groupId).map((v) => v.version));
  if (r.revision <= replicaBase(db, id) || r.keyVersion < agreed) return false;
  // Judged as the server last agreed, as a revoke under this rotation is: a co-lead this rotation revokes still leads
  // there, and their unmaking, set aside here as from someone not managing the group, left every push FORBIDDEN for good.
  requireManagedAsAgreed(db, signerOf(db, intake, r), groupId);
  if (!mayGiveWayTo(db, intake, groupId, r)) return false;
  putGroupKey(db, { ...current, is_lead: 0 });
  return true;
}

/**
 * A wrap from elsewhere below this desktop's unsent rotation, above a revoke of the same pair this desktop's push stored
 * already, ahead of that rotation (electron/team/sync.ts partsOf): a grant made by someone who took the revoke in (the
 * server refuses one from behind it: records.ts membersRevokedUnseen), the newer state. The member is wrapped again at
 * this rotation's version, one revision above the grant, and the revoke's note goes (rotateAgain no longer leaves them
 * out). Taken as nothing, the rotation landing after it dropped the member the team had just granted again, nobody told,
 * and their desktop, handed no removal at the new version, kept the group set aside (regrant-behind-rotation.test.ts).
 * Not where this desktop cannot wrap them (its key not at the group's version here, a secret key it may not give).
 */
function regrantedOverStoredRevoke(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number, userId: number): boolean {
  const noted = revokedMembers(db).find((m) => m.groupId === groupId && m.userId === userId);
  if (r.revoked || noted?.stored !== true || r.revision <= noted.revision || userId === intake.userId) return false;
  const held = intake.ring.groups.get(groupId);
  const member = getUser(db, userId);
  const me = getUser(db, intake.userId);
  if (held === undefined || member === undefined || me === undefined || member.disabled_at !== null || held.version !== getGroupRow(db, groupId)?.key_version) return false;
  if (r.wrappedSecretKey !== null && (held.secret === undefined || !mayHoldSecretKeyIn(rolePermissions(db, me.role), groupServerCodes(db, groupId)))) return false;
  requireManages(db, signerOf(db, intake, r), groupId);
  // The secret key only where the role here may hold it (a demotion made here not sent takes it: grantedUnderOwnRotation).
  wrapGroupFor(db, groupId, held, member, { lead: r.lead, byRole: r.byRole, secret: r.wrappedSecretKey !== null && needsSecretKeyIn(db, member, groupId) }, intake.ring.keysSeen);
  forgetRevokedMember(db, groupId, userId);
  setReplicaBase(db, uidBytes(r.id), r.revision);
  noteAgreedMembers(db, [{ id: uidBytes(r.id), state: memberStateOf(r) }]);
  setMemberRevision(db, groupId, userId, r.revision + 1);
  return true;
}

/**
 * A grant from elsewhere at a key version this desktop rotated the group from, its rotation not on the server yet: someone
 * managing the group gave it to a person while this desktop's key change waited (a revoke made offline, a role change).
 * The rotation landing after it drops every wrap below its version: made without them, it took the group from the person
 * just granted, nobody told, and their desktop, handed no removal at the new version, kept the group set aside
 * (grant-behind-rotation.test.ts). They are wrapped at the rotation's version here, one revision above the grant, and the
 * rotation carries them. Only a grant newer than anything agreed of that membership (an older one played back by a relay,
 * which a later revoke replaced, wraps nobody), of someone holding no wrap here and with no revoke of theirs noted here
 * (this desktop's revoke is the later decision: raiseNotedRevoke), signed by someone managing the group as last agreed
 * (requireManagedAsAgreed). Where this desktop cannot wrap them (the person disabled here or their key not vouched for,
 * a secret key it does not hold or may not give, a signer its own unsent change stops managing the group), the grant
 * goes with the rotation, told (user.crossed), and their signed removal with it (noteRevoked). This person no longer
 * managing the group, their rotation gives way (giveWayToHeld): the grant is taken as it came. The secret key is wrapped
 * only where the grant gave it and the person's role here may hold it.
 * undefined: not such a grant.
 */
function grantedUnderOwnRotation(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number, userId: number): PeopleTaken | undefined {
  const id = uidBytes(r.id);
  if (r.revoked || userId === intake.userId || r.revision <= replicaBase(db, id) || !rotatedFromOf(db, groupId).some((v) => v.version === r.keyVersion)) return undefined;
  if (groupKeysOfGroup(db, groupId).some((gk) => gk.user_id === userId) || revokedMembers(db).some((m) => m.groupId === groupId && m.userId === userId)) return undefined;
  // The group's row this desktop's own, unsent: given way to another rotation in this batch, the row is that one's, whose
  // desktop pulled the grant before it was stored (the server refuses it otherwise) and wrapped or revoked the person.
  const row = getGroupRow(db, groupId);
  if (row === undefined || row.revision <= replicaBase(db, row.uid) || groupSeq(db, groupId) <= sentSeq(db)) return undefined;
  const signer = signerOf(db, intake, r);
  // An owner or admin as last agreed, narrowed here not sent, managed the group as the server held it: their grant is
  // told and its grantee's removal sent (whyNotWrapGrant). Set aside (VAULT_TAMPERED), the rotation dropped them unseen.
  if (!heldAllGroupsAsAgreed(db, signer)) requireManagedAsAgreed(db, signer, groupId);
  const member = getUser(db, userId);
  if (member === undefined) return undefined;
  const me = getUser(db, intake.userId);
  // This person no longer managing the group (unmade earlier in this batch, or narrowed): their rotation gives way to the
  // version the server holds at the batch's end (giveWayToHeld), where the grant stands: taken as it came, and wrapped
  // again there with the others. Told as dropped and not stored, the member was missing here for good, and a later
  // rotation of this person's dropped them again unseen.
  if (me === undefined || !managesHere(db, { id: me.id, role: me.role }, groupId)) {
    putGroupKey(db, keyRowOf(groupId, userId, r));
    agreeMember(db, groupId, userId, r);
    return 'applied';
  }
  const why = whyNotWrapGrant(db, intake, r, groupId, member, signer);
  setReplicaBase(db, id, r.revision);
  if (why !== undefined) {
    // Their removal goes with the rotation (this person manages the group): their desktop, handed no wrap at the new
    // version, takes a removal from a signed record only, and kept the group set aside for good without one.
    noteRevoked(db, groupId, userId, getGroupRow(db, groupId)?.key_version ?? r.keyVersion, r.revision);
    intake.crossed(member.name, `${member.name}: granted the group "${groupNameHere(db, intake, groupId)}" elsewhere at key version ${r.keyVersion}, crossing a change of its key made here not yet sent; the new key is not given to them here (${why}): the grant dropped, their removal sent with the new key; make it again if it still holds`);
    return 'applied';
  }
  const held = intake.ring.groups.get(groupId);
  if (held === undefined) return undefined;
  // The secret key only where the grant gave it and the person's role here may hold it: a demotion made here not yet
  // sent (to codes-only in a group whose codes the server computes, to a role holding no secret key) takes it from them;
  // wrapped as the grant did, the rotation gave them the new one, or the server refused it (FORBIDDEN) at every push.
  wrapGroupFor(db, groupId, held, member, { lead: r.lead, byRole: r.byRole, secret: r.wrappedSecretKey !== null && needsSecretKeyIn(db, member, groupId) }, intake.ring.keysSeen);
  noteAgreedMembers(db, [{ id, state: memberStateOf(r) }]);
  setMemberRevision(db, groupId, userId, r.revision + 1);
  return 'applied';
}

/** Whether `signer` held every group as the server last agreed with this desktop (an owner or admin, not disabled). */
function heldAllGroupsAsAgreed(db: WriteDb, signer: PeopleSigner): boolean {
  const user = getUser(db, signer.id);
  const agreed = user === undefined ? undefined : agreedUser(db, user.uid);
  return agreed !== undefined && !agreed.disabled && holdsAllGroups(agreed.role);
}

/** Why this desktop cannot wrap its unsent rotation's key for `member` as grant `r` gave them the old one, or undefined. */
function whyNotWrapGrant(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number, member: UserRow, signer: PeopleSigner): string | undefined {
  const me = getUser(db, intake.userId);
  const held = intake.ring.groups.get(groupId);
  if (member.disabled_at !== null) return 'they are disabled here';
  // Its signer managed the group as last agreed only (removed, unmade or narrowed here, not sent): the new key is never
  // given on the word of someone this desktop's change takes the group's management from.
  if (!managesHere(db, signer, groupId)) return `granted by ${getUser(db, signer.id)?.name ?? 'someone'}, whom a change made here not yet sent stops managing the group`;
  if (me === undefined) return 'this desktop\'s person is not known here';
  if (held === undefined || held.version !== getGroupRow(db, groupId)?.key_version) return 'this desktop does not hold the group\'s key at its version';
  if (r.wrappedSecretKey !== null && needsSecretKeyIn(db, member, groupId) && (held.secret === undefined || !mayHoldSecretKeyIn(rolePermissions(db, me.role), groupServerCodes(db, groupId)))) {
    return 'the grant gave the secret key, which this desktop\'s person does not hold or may not give';
  }
  try {
    requireVouchedPublicKey(db, member, intake.ring.keysSeen);
  } catch (error) {
    if (error instanceof CrewvaultError) return 'their public key here is not one their signing key vouches for';
    throw error;
  }
  return undefined;
}

/** Whether this membership's row was changed here and not sent (above its agreed revision, written after the sent sequence). */
function unsentHere(db: WriteDb, r: MemberRecord, groupId: number, userId: number): boolean {
  return (memberRevision(db, groupId, userId) ?? 0) > replicaBase(db, uidBytes(r.id)) && memberSeq(db, groupId, userId) > sentSeq(db);
}

const stateOfRow = (row: GroupKeyRow): AgreedMember => ({ keyVersion: row.key_version, lead: row.is_lead === 1, byRole: row.by_role === 1, secret: row.wrapped_secret_key !== null });
const sameWraps = (a: AgreedMember, b: AgreedMember): boolean => a.keyVersion === b.keyVersion && a.secret === b.secret && a.byRole === b.byRole;

/**
 * Whether the row here was re-wrapped here (a secret key given or taken by a role change) at its
 * version, which a rotation elsewhere to a newer one replaces. Nothing agreed known (a file from
 * before the memberships' agreed state): whatever of it the rotation's wraps do not say was changed
 * on both sides, and is told as dropped like any other (never silently).
 */
function rewrappedHere(here: AgreedMember, was: AgreedMember | undefined, there: AgreedMember): boolean {
  if (was === undefined) return here.secret !== there.secret || here.byRole !== there.byRole;
  return was.keyVersion === here.keyVersion && (was.secret !== here.secret || was.byRole !== here.byRole);
}

/** What a change made here of a membership did, against what was agreed (not known: said as it stands); undefined for a re-wrap alone (a rotation's). */
function changedHere(here: AgreedMember, was: AgreedMember | undefined): string | undefined {
  const said: string[] = [];
  if (was === undefined || was.lead !== here.lead) said.push(here.lead ? 'made a lead' : 'unmade as a lead');
  if (was === undefined || was.secret !== here.secret) said.push(here.secret ? 'given the secret key' : 'left without the secret key');
  return said.length > 0 ? said.join(', ') : undefined;
}

/**
 * A member record of another person at the version held here or above it, crossing a change of
 * the same membership made here and not yet sent (the class of review round ten hole 2: a lead
 * made or unmade, a secret key given or taken by a role change, silently undone by a record
 * arriving before it went out). Each part is judged against what the membership said when last
 * agreed (store-replica-people.ts agreedMember), as takeUser judges a user's fields: the lead
 * changed on one side only, that side's is kept; on both (nothing agreed known), the tighter (an
 * unmaking over a making). The wraps: a newer key version is the record's (a rotation elsewhere:
 * a making here is kept at it, on wraps made again here: keyToWrapAgain); at the same version,
 * re-wrapped here only (a secret key given or taken), this desktop's are kept; on both, the
 * record's. What is kept goes above the record's revision and is sent again, which needs this
 * desktop's person to manage the group still, and after this batch (`unmadeLater`: a newer record
 * of it unmakes or removes them, met after this one): else the record is taken whole. Whatever of this
 * desktop's change is dropped or kept is told (user.crossed); nothing of it goes silently.
 */
function takeCrossing(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number, userId: number, current: GroupKeyRow, unmadeLater: boolean): void {
  const id = uidBytes(r.id);
  const was = agreedMember(db, id);
  const here = stateOfRow(current);
  const there = memberStateOf(r);
  const revisionHere = memberRevision(db, groupId, userId) ?? 0;
  let told: string[] = [];
  let lead = there.lead;
  if (here.lead !== there.lead) {
    if (was !== undefined && was.lead === there.lead) {
      lead = here.lead;
      told.push(`${here.lead ? 'made a lead' : 'unmade as a lead'} here: kept`);
    } else if (was === undefined && !here.lead) {
      lead = false;
      told.push('both changed the lead: the unmaking here kept over the making from elsewhere (the tighter)');
    } else if (was === undefined) {
      told.push('both changed the lead: made a lead here, unmade from elsewhere; the unmaking taken (the tighter)');
    }
  }
  let wrapsHere = false;
  if (here.keyVersion === there.keyVersion && !sameWraps(here, there)) {
    if (was !== undefined && sameWraps(was, there)) {
      wrapsHere = true;
      told.push(`${here.secret ? 'given the secret key' : 'left without the secret key'} here: kept`);
    } else if (was === undefined || !sameWraps(was, here)) {
      told.push(`both re-wrapped them: ${here.secret ? 'given the secret key' : 'left without the secret key'} here, ${there.secret ? 'given it' : 'left without it'} from elsewhere; the record's taken`);
    }
  } else if (there.keyVersion > here.keyVersion && rewrappedHere(here, was, there)) {
    told.push(`${here.secret ? 'given the secret key' : 'left without the secret key'} here at key version ${here.keyVersion}: the group's key was changed elsewhere to version ${there.keyVersion}, as wrapped there`);
  }
  const me = getUser(db, intake.userId);
  const manages = me !== undefined && managesHere(db, { id: me.id, role: me.role }, groupId) && (holdsAllGroups(me.role) || !unmadeLater);
  if ((lead !== there.lead || wrapsHere) && !manages) {
    lead = there.lead;
    wrapsHere = false;
    told = [`${changedHere(here, was) ?? 're-wrapped'} here: dropped, as this desktop's person no longer manages the group to send it; the record from elsewhere taken`];
  }
  // A lead kept here on the record's wraps goes out signed by this person: the wraps are made again
  // here, as a making at that version would make them, so the record never names them the author of
  // another desktop's wraps. Where this desktop cannot (its key not at that version, a secret key it
  // does not hold or may not give), the making goes, told, as setLead would refuse it now.
  const member = getUser(db, userId);
  const own = lead !== there.lead && !wrapsHere && me !== undefined && member !== undefined ? keyToWrapAgain(db, intake, me.role, groupId, r) : undefined;
  if (own === null) {
    lead = there.lead;
    told = [`${changedHere(here, was) ?? 're-wrapped'} here: dropped, as this desktop's person cannot wrap the group's key at version ${r.keyVersion} for them to send it; the record from elsewhere taken`];
  }
  if (own && member) {
    wrapGroupFor(db, groupId, own, member, { lead, byRole: r.byRole, secret: r.wrappedSecretKey !== null }, intake.ring.keysSeen);
  } else {
    const wraps = wrapsHere ? current : {
      key_version: r.keyVersion, wrapped_key: bin(r.wrappedKey), wrapped_secret_key: r.wrappedSecretKey === null ? null : bin(r.wrappedSecretKey), by_role: r.byRole ? 1 : 0,
    };
    putGroupKey(db, { group_id: groupId, user_id: userId, key_version: wraps.key_version, wrapped_key: wraps.wrapped_key, wrapped_secret_key: wraps.wrapped_secret_key, by_role: wraps.by_role, is_lead: lead ? 1 : 0 });
  }
  setReplicaBase(db, id, r.revision);
  noteAgreedMembers(db, [{ id, state: there }]);
  // What is kept of this desktop's change goes one above the record, to be sent again (its row's sequence is past the sent one).
  const keeps = lead !== there.lead || wrapsHere;
  setMemberRevision(db, groupId, userId, keeps ? Math.max(revisionHere, r.revision + 1) : r.revision);
  if (told.length === 0) return;
  const name = getUser(db, userId)?.name ?? 'a member';
  intake.crossed(name, `${name}: a member record of the group "${groupNameHere(db, intake, groupId)}" from elsewhere crossed a change of their membership made here not yet sent; ${told.join('; ')}${keeps ? ' (sent again)' : ''}`);
}

/**
 * The group key this person holds at `r`'s version, to wrap `r`'s member again as `r` wraps them
 * (its secret key only where `r` does), or null where they cannot: not at that version here, or a
 * secret key they do not hold or may not give (team.ts requireMayHoldSecret; the server asks the same).
 */
function keyToWrapAgain(db: WriteDb, intake: PeopleIntake, role: string, groupId: number, r: MemberRecord): GroupKey | null {
  const held = intake.ring.groups.get(groupId);
  if (held === undefined || held.version !== r.keyVersion) return null;
  if (r.wrappedSecretKey === null) return held;
  return held.split && held.secret !== undefined && mayHoldSecretKeyIn(rolePermissions(db, role), groupServerCodes(db, groupId)) ? held : null;
}

/** A signed revoke from elsewhere ending a membership this desktop changed and did not send: the change goes with it (the tighter), told. */
function toldRevokedOver(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number, userId: number, current: GroupKeyRow): void {
  const name = getUser(db, userId)?.name ?? 'a member';
  const what = changedHere(stateOfRow(current), agreedMember(db, uidBytes(r.id))) ?? 're-wrapped';
  intake.crossed(name, `${name}: removed from the group "${groupNameHere(db, intake, groupId)}" elsewhere, crossing a change of their membership made here not yet sent (${what}): the removal taken, the change dropped`);
}

/**
 * A membership changed here and not sent (a grant, a lead made or unmade) that a rotation from
 * elsewhere wrapped nothing for (no member record of theirs at the new version came with it): its
 * wrap at the old version goes with the rest, and the change with it, told (user.crossed). It is
 * not wrapped again here at the new version: a removal whose signed record a relay withheld would
 * be undone by it; whoever manages the group makes it again if it still holds.
 */
function toldLeftOut(db: WriteDb, intake: PeopleIntake, groupId: number, gk: GroupKeyRow, version: number): void {
  const uids = groupAndUserUids(db, groupId, gk.user_id);
  if (uids === undefined || gk.user_id === intake.userId) return;
  const id = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
  if ((memberRevision(db, groupId, gk.user_id) ?? 0) <= replicaBase(db, id) || memberSeq(db, groupId, gk.user_id) <= sentSeq(db)) return;
  const name = getUser(db, gk.user_id)?.name ?? 'a member';
  // A re-wrap alone (this desktop's own rotation, given way to this one) changed nothing of theirs to tell.
  const what = replicaBase(db, id) === 0 ? 'granted it' : changedHere(stateOfRow(gk), agreedMember(db, id));
  if (what === undefined) return;
  intake.crossed(name, `${name}: the key of the group "${groupNameHere(db, intake, groupId)}" was changed elsewhere to version ${version} without them, crossing a change of their membership made here not yet sent (${what}): the change dropped; make it again if it still holds`);
}

/**
 * A member record's revision kept as agreed (by its id, as entries' are), and the row here at it
 * (taking it in moved this desktop's own count on), so the next change on either side is judged
 * against the same number.
 */
function agreeMember(db: WriteDb, groupId: number, userId: number, r: MemberRecord): void {
  setReplicaBase(db, uidBytes(r.id), r.revision);
  noteAgreedMembers(db, [{ id: uidBytes(r.id), state: memberStateOf(r) }]);
  setMemberRevision(db, groupId, userId, r.revision);
}
