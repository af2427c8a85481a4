/**
 * Taking in people and groups this desktop did not hold (#15, docs/SYNC.md "What travels"): what
 * replica-people-in.ts leaves to it — a NEW user from an owner's or admin's `user` record (their
 * public key, role; their certified signing key follows as a `signing_key` record), a user's NEW
 * public key (an owner's password reset elsewhere: taken only where a signing key of theirs that
 * an owner certified vouches for it), a NEW group (its sealed name opened with the directory key
 * and matching its keyed index, its key version, its creator's own wrap), a group's rename and
 * delete (empty groups only, as the server enforces: taken after the batch's entries, unsent changes
 * made here in it dropped and told), and this person made or unmade a lead.
 * Every record is checked as the other people records are (replica-people-checks.ts): signed by
 * its author under a key in force here, the author allowed it by the roles this desktop holds;
 * else VAULT_TAMPERED (set aside). Revisions are kept as agreed, so a record played back is stale.
 * A user taken in here signs in on their own desktop, never on this one: their row holds no
 * sealed private key (a sign-in with their name here fails as a wrong password does).
 * Must never: take in a user, key or group its signer could not have made on this desktop, nor
 * hold a group key for this person that does not open to the key this desktop already holds.
 */
import { createPublicKey } from 'node:crypto';
import { holdsAllGroups, whyNotAssignRole } from '../../shared/policy';
import { makesGroups } from '../../shared/policy-writes';
import { memberRecordId, type GroupRecord, type MemberRecord, type ReplicaRecord, type UserRecord } from '../../shared/sync/records';
import { openJson } from './crypto';
import type { WriteDb } from './db';
import { openHeldGroupKey } from './group-keys';
import { uidText } from './ids';
import { contexts, DIRECTORY_WRAP_ANCHORED, groupNameIndex } from './keys';
import { bin, canonicalRole, groupNameHere, keyRowOf, notYet, requireManages, sha256Hex, signerOf, tampered, uidBytes, type PeopleIntake, type PeopleSigner } from './replica-people-checks';
import { bindingBytes, signatureValid } from './signing';
import { findGroupByIndex, getGroupRow, insertGroup, putGroupKey, renameGroupRow, setGroupKeyVersion, setGroupServerCodes, tombstoneGroup, type GroupRow } from './store-groups';
import { putDirectoryWrap } from './store-directory';
import { deleteSetting, getSetting, setSetting } from './store-meta';
import { deletePagesOfGroup } from './store-pages';
import { idByUid, replicaBase, sentSeq, setReplicaBase } from './store-replica';
import { agreedLiveEntriesInGroup, dropEntriesOfGroup, forgetGroupSentOverDeletion, groupSentOverDeletion, groupSeq, memberStateOf, noteAgreedMembers, setGroupRevision, unsentEntriesInGroup, setMemberRevision, setUserRevisionAtLeast } from './store-replica-people';
import { dropRotatedFrom } from './store-rotated-from';
import { rolePermissions } from './store-roles';
import { setUserSigning } from './store-signing';
import { deleteDirectoryKey, findUserByName, getUser, insertUser, replaceUserKeys, setSealedPrivateKey, setUserDisabled, type UserRow } from './store-users';
import { elsewhereKdf } from './replica-people-local';
import { agreeNameTaken } from './replica-group-unsent';

/** What a taking-in step tells its caller (replica-people-in.ts PeopleTaken). */
type Taken = 'applied' | 'unchanged' | 'ignored';

/** An X25519 public key as the vault stores them (its 32 raw bytes: crypto.ts generateKeyPair), or VAULT_TAMPERED. */
function x25519PublicKey(text: string): Buffer {
  const bytes = bin(text);
  try {
    if (bytes.length === 32 && createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: text }, format: 'jwk' }).asymmetricKeyType === 'x25519') return bytes;
  } catch {
    // Refused below.
  }
  throw tampered('gives a user a public key that is not one');
}

/**
 * The batch's user records for people this file does not hold: each taken in where its signer may
 * make them here (users.manage; an owner or admin only by an owner: shared/policy
 * whyNotAssignRole). Runs before the batch's signing keys, which name their users.
 */
export function takeNewUsers(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[], take: (r: ReplicaRecord, work: () => void) => void, count: (taken: Taken) => void): void {
  for (const r of records) {
    if (r.kind !== 'user' || idByUid(db, 'users', uidBytes(r.id)) !== undefined) continue;
    take(r, () => count(takeNewUser(db, intake, r)));
  }
}

function takeNewUser(db: WriteDb, intake: PeopleIntake, r: UserRecord): Taken {
  const uid = uidBytes(r.id);
  if (r.revision <= replicaBase(db, uid)) return 'unchanged';
  const signer = signerOf(db, intake, r);
  const permissions = rolePermissions(db, signer.role);
  if (!permissions.includes('users.manage')) throw tampered('adds a user, and its sender may not manage users');
  // Judged as it is stored: the role exactly as this vault holds it (a spelling that only folds to one is set aside).
  const role = canonicalRole(db, r.role);
  const whyNot = whyNotAssignRole({ id: signer.id, role: signer.role, permissions }, role, rolePermissions(db, role));
  if (whyNot !== undefined) throw tampered(`adds a user as its sender may not here (${whyNot})`);
  const publicKey = x25519PublicKey(r.publicKey);
  if (findUserByName(db, r.name)) throw notYet(`adds a user named "${r.name}" and this vault holds another of that name`);
  const id = insertUser(db, { uid, name: r.name.normalize('NFC'), role, kdf: elsewhereKdf(db), public_key: publicKey, sealed_private_key: Buffer.alloc(0), created_at: intake.now });
  if (r.disabledAt !== null) setUserDisabled(db, id, r.disabledAt);
  setUserRevisionAtLeast(db, id, r.revision);
  setReplicaBase(db, uid, r.revision);
  return 'applied';
}

/**
 * A user record giving someone this file knows another public key: an owner's password reset made
 * elsewhere (team.ts resetPassword: a new key pair, a new signing key the owner certifies, which
 * vouches for the new public key). Taken only from an owner (who alone resets passwords), never
 * for this desktop's own person (their key pair is the one their password opens here), and only
 * where a signing key of theirs in force here — certified by an owner — binds them to it. Their
 * row then holds nothing sealed (they sign in where they were given the new password) and their
 * directory key wrap, made for the old key, goes; their group keys follow as member records.
 */
export function takeNewPublicKey(db: WriteDb, intake: PeopleIntake, r: UserRecord, local: UserRow, signer: PeopleSigner): void {
  if (signer.role !== 'owner') throw tampered('gives a user a new public key, and its sender is no owner (only owners reset passwords)');
  if (local.id === intake.userId) throw notYet('gives this desktop\'s own person a new public key (a password reset made elsewhere): sign in where it was made');
  const publicKey = x25519PublicKey(r.publicKey);
  const vouching = [...intake.keys.values()].find((k) => k.user_id === local.id && k.certified_by !== null && k.binding !== null
    && signatureValid(k.public_key, bindingBytes(r.id, publicKey), k.binding));
  if (!vouching) throw notYet('gives a user a public key no owner-certified signing key of theirs vouches for here (the key comes first)');
  replaceUserKeys(db, local.id, elsewhereKdf(db), publicKey);
  setSealedPrivateKey(db, local.id, Buffer.alloc(0));
  setUserSigning(db, local.id, vouching.id, null);
  deleteDirectoryKey(db, local.id);
  keepWraps(db, local.id, r, vouching.id);
}

/**
 * The wraps an owner's binding put in a user record (team.ts bindToAccountKey: the directory key
 * and their signing seed, wrapped to their account key), kept as they came — opaque here — so a
 * user record this desktop sends of them later still carries them for their joining desktop
 * (replica-people.ts): the server keeps one record an object.
 */
function keepWraps(db: WriteDb, userId: number, r: UserRecord, signingKeyId: number): void {
  if (r.wrappedSigningKey !== undefined) setUserSigning(db, userId, signingKeyId, bin(r.wrappedSigningKey));
  const directory = r.wrappedDirectoryKey === undefined ? undefined : bin(r.wrappedDirectoryKey);
  if (directory !== undefined && directory.length > 4) {
    putDirectoryWrap(db, userId, { key_version: DIRECTORY_WRAP_ANCHORED, dir_version: directory.readUInt32BE(0), wrapped_key: Buffer.from(directory.subarray(4)) });
  }
}

/**
 * A group record of a group this file does not hold: taken in from a role that may create groups
 * here (groups.manage and holding secret keys, as team.ts createGroup asks), its name opening with
 * the directory key and matching its keyed index, no other group of that name here, the setting
 * "server computes codes" only from an owner or admin. Its creator's own wrap in the batch is
 * stored with it (a lead who made a group leads it), so the grants they signed count; where the
 * creator is this desktop's own person (their other desktop), takeMember takes that wrap in as
 * a grant (`created` names the group's creator).
 */
export function takeNewGroup(db: WriteDb, intake: PeopleIntake, r: GroupRecord, records: readonly ReplicaRecord[], taken: Set<string>, created: Map<string, string>): Taken {
  const uid = uidBytes(r.id);
  if (r.deletedAt !== null) return 'ignored';
  if (r.revision <= replicaBase(db, uid)) return 'unchanged';
  const signer = signerOf(db, intake, r);
  const permissions = rolePermissions(db, signer.role);
  if (!makesGroups(permissions)) throw tampered('adds an access group, and its sender may not create one');
  if (r.serverCodes === true && !holdsAllGroups(signer.role)) throw tampered('adds an access group whose codes the server computes, and its sender is no owner or admin');
  const name = openName(intake, r, uid);
  if (name === undefined) throw tampered('is an access group whose name does not open or is not its index\'s');
  // Not naming it: the reason is kept with the set-aside record in the file, where a group's name is only ever sealed.
  if (findGroupByIndex(db, bin(r.nameIndex))) throw notYet('adds an access group of a name another group here holds');
  const groupId = insertGroup(db, { uid, sealed_name: bin(r.sealedName), name_index: bin(r.nameIndex), created_at: r.createdAt });
  setGroupKeyVersion(db, groupId, r.keyVersion);
  if (r.serverCodes === true) setGroupServerCodes(db, groupId, true);
  const own = records.find((m): m is MemberRecord => m.kind === 'member' && m.group === r.id && m.user === r.author && m.author === r.author && !m.revoked && m.keyVersion === r.keyVersion);
  const me = uidText(getUser(db, intake.userId)?.uid ?? Buffer.alloc(0));
  if (own && own.user !== me) {
    if (own.id !== memberRecordId(own.group, own.user, sha256Hex)) throw tampered('is a member record not named by its group and user');
    signerOf(db, intake, own);
    putGroupKey(db, keyRowOf(groupId, signer.id, own));
    setReplicaBase(db, uidBytes(own.id), own.revision);
    setMemberRevision(db, groupId, signer.id, own.revision);
    taken.add(own.id);
  }
  // Its creator's own first wrap not in this batch (a group this person is not in: the server hands them none of its member
  // records): noted, so that wrap is theirs to make when it comes, with a grant of this person (creatorsFirstWrap).
  if (!own && r.author !== me) setSetting(db, creatorKey(r.id), JSON.stringify({ author: r.author, keyVersion: r.keyVersion }));
  setGroupRevision(db, groupId, r.revision);
  setReplicaBase(db, uid, r.revision);
  created.set(r.id, r.author);
  return 'applied';
}

const creatorKey = (group: string): string => `replica.group_creator.${group}`;

/**
 * Whether `r` is the first wrap of a group by its creator, as lead, of a group taken in here before without it (takeNewGroup
 * noted who signed its record and at which key version): theirs to make, as the server takes a creator's first wrap. A
 * lead who made a group and granted this person it in a later sync: before, this person's desktop judged the creator's
 * own lead wrap as from someone not managing the group, and set it and every member record after it aside for good.
 * Taken once: the note goes with it.
 */
export function creatorsFirstWrap(db: WriteDb, r: MemberRecord): boolean {
  const noted = getSetting(db, creatorKey(r.group));
  if (noted === undefined) return false;
  const creator = JSON.parse(noted) as { readonly author: string; readonly keyVersion: number };
  if (creator.author !== r.author || r.author !== r.user || !r.lead || r.revoked || creator.keyVersion !== r.keyVersion) return false;
  deleteSetting(db, creatorKey(r.group));
  return true;
}

/** The group name a record seals, when it opens with this desktop's directory key and is its index's; else undefined. */
function openName(intake: PeopleIntake, r: GroupRecord, uid: Buffer): string | undefined {
  try {
    const name = openJson(intake.ring.directoryKey, bin(r.sealedName), contexts.groupName({ uid }));
    return typeof name === 'string' && groupNameIndex(intake.ring, name).equals(bin(r.nameIndex)) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A rename in a group record of a group held here: a newer record whose name opens with this
 * desktop's directory key, is its index's, and is another name than the one held. Taken from
 * whoever manages the group here; a name another group holds here is CONFLICT. A name that does
 * not open here (sealed under a directory key rotated elsewhere) is no rename: left as it is.
 * `above`: the revision the record must be newer than (the row's; the agreed one under an unsent
 * rotation here, replica-people-in.ts takeUnderOwnRotation). Returns whether the group was renamed.
 */
export function takeRename(db: WriteDb, intake: PeopleIntake, r: GroupRecord, row: GroupRow, above = row.revision): boolean {
  if (r.deletedAt !== null || r.revision <= above || bin(r.nameIndex).equals(row.name_index)) return false;
  const name = openName(intake, r, row.uid);
  if (name === undefined) return false;
  requireManages(db, signerOf(db, intake, r), row.id);
  const same = findGroupByIndex(db, bin(r.nameIndex));
  if (same && same.id !== row.id) throw notYet('renames an access group to a name another group here holds'); // no name: as for a new group
  renameGroupRow(db, row.id, bin(r.sealedName), bin(r.nameIndex));
  agreeNameTaken(db, row.id, r);
  return true;
}

/**
 * The batch's group records deleting a group held here, taken after its entries (the deleter's
 * deletes of the group's entries travel with it: taken first, they leave it empty), each through
 * `take` (set aside when it throws).
 */
export function takeGroupDeletes(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[], take: (r: ReplicaRecord, work: () => void) => void, count: (taken: Taken) => void): void {
  for (const r of records) {
    if (r.kind !== 'group' || r.deletedAt === null) continue;
    const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
    const row = groupId === undefined ? undefined : getGroupRow(db, groupId);
    if (!row) continue;
    take(r, () => count(deletionStale(db, r, row) ? 'unchanged' : takeDelete(db, intake, r, row)));
  }
}

/**
 * Whether a deletion from elsewhere is no newer than the group as it stands here. A group changed here and not sent
 * (a rotation, a rename) is judged by what was agreed of it: the server holds no such change of a group it deleted
 * (it takes none after the deletion), so a deletion newer than the agreed revision wins over it. Judged by the row
 * here, a removal made here crossing a deletion made elsewhere kept the group on this desktop for good. So is one
 * sent while the deletion waited here (noteGroupSentOverDeletion), by the revision agreed before it.
 */
function deletionStale(db: WriteDb, r: GroupRecord, row: GroupRow): boolean {
  // Sent while this deletion waited here (ReplicaService markSent): the server stored that change as nothing.
  const sentOver = groupSentOverDeletion(db, row.uid);
  if (sentOver !== undefined) return r.revision <= sentOver;
  if (groupSeq(db, row.id) > sentSeq(db)) return r.revision <= replicaBase(db, row.uid);
  return r.keyVersion < row.key_version || r.revision <= row.revision;
}

/**
 * A group record that deletes a group held here: from whoever manages it here, never the vault's
 * default group, and only once no entry of it stands here live as agreed with the team. The server
 * deletes only empty groups, so every entry of it was deleted or moved out there first, and it hands
 * those signed records to whoever held the group (its members too, once it is gone: server/sync/
 * membership.ts pullFilter, left-reach.ts), on this page or an earlier one. An agreed entry still
 * live here is one no signed record took away: the deletion waits for it (CONFLICT, set aside and
 * tried again), whatever page this is, in a group this person holds (one they do not hold, whose
 * rows a copied file carries unreadable, waits only while pages of the pull follow, as before). The server's word that the group was emptied is not taken: a
 * dishonest server playing back a deletion it never stored (a manager's push it refused) would empty
 * the group here (hostile review of C7). The group becomes a tombstone, its keys and pages go.
 * Changes made here in it and not yet sent (edits, entries added, a conflict copy this apply made)
 * are dropped in the same transaction and told (finding C7): the server holds no such group, so they
 * could never be sent, and copying them into another group would hand them to people its members
 * never chose.
 */
export function takeDelete(db: WriteDb, intake: PeopleIntake, r: GroupRecord, row: GroupRow): Taken {
  const signer = signerOf(db, intake, r);
  requireManages(db, signer, row.id);
  if (row.id === Number(getSetting(db, 'default_group_id'))) throw tampered('deletes the vault\'s default group');
  // A group this person does not hold (rows of it in a file copied from another's) was never theirs to read: the server hands
  // them no record of its entries, so those wait only for the rest of the pull, as before.
  const holds = intake.ring.groups.has(row.id);
  if ((holds || intake.pagesFollow) && agreedLiveEntriesInGroup(db, row.id) > 0) throw notYet('deletes an access group that still holds entries here (their moves or deletes come first)');
  const name = groupNameHere(db, intake, row.id);
  const dropped = unsentEntriesInGroup(db, row.id);
  dropEntriesOfGroup(db, row.id, intake.now);
  tombstoneGroup(db, row.id, r.deletedAt ?? intake.now);
  deletePagesOfGroup(db, row.id);
  // Versions this desktop kept from its own unsent rotations of the group go with its key (rotated-from-keys.ts).
  dropRotatedFrom(db, row.id);
  intake.ring.dropGroup(row.id);
  setGroupRevision(db, row.id, r.revision);
  setReplicaBase(db, row.uid, r.revision);
  forgetGroupSentOverDeletion(db, row.uid);
  intake.groupDeleted(row.id, name, dropped);
  return 'applied';
}

/**
 * What a sync tells of the unsent changes it dropped because their group was deleted elsewhere,
 * one line naming each group as this desktop knew it; nothing when none was dropped. Names and
 * counts only, never what an entry holds.
 */
export function groupDeletedLine(deleted: ReadonlyArray<{ readonly group: string; readonly droppedChanges: number }>): string | undefined {
  const dropping = deleted.filter((d) => d.droppedChanges > 0);
  if (dropping.length === 0) return undefined;
  const count = dropping.reduce((n, d) => n + d.droppedChanges, 0);
  const names = dropping.map((d) => `"${d.group}"`);
  const groups = names.length === 1 ? `${count === 1 ? 'its' : 'their'} group ${names[0] ?? ''} was` : `their groups ${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''} were`;
  return `${count} unsent change${count === 1 ? '' : 's'} dropped: ${groups} deleted elsewhere.`;
}

/**
 * This desktop's own person made or unmade a lead of a group they hold, at the version held: from
 * whoever manages the group here, never made a lead by themselves (unmaking oneself is allowed, as
 * on the server); the wrap must open to the very key held (another key at this version is no lead
 * change). Stored with the lead flag; the ring's group says who leads.
 */
export function takeOwnLead(db: WriteDb, intake: PeopleIntake, r: MemberRecord, groupId: number): Taken {
  const signer = signerOf(db, intake, r);
  requireManages(db, signer, groupId);
  if (r.lead && signer.id === intake.userId) throw tampered('makes its own sender a lead (another lead must)');
  const held = intake.ring.groups.get(groupId);
  if (!held) throw notYet('changes a membership of a group whose key this desktop does not hold');
  const wrap = keyRowOf(groupId, intake.userId, r);
  let same: boolean;
  let secret: Buffer | undefined;
  try {
    const opened = openHeldGroupKey(db, intake.ring.keyPair, intake.userId, { ...wrap, secret_split: getGroupRow(db, groupId)?.secret_split ?? 1 });
    same = opened.key.equals(held.key) && (opened.secret === undefined || held.secret === undefined || opened.secret.equals(held.secret));
    opened.key.fill(0);
    // The secret key as this wrap gives it (review 13a hole 3): given at this version (a promotion,
    // server codes turned off) the ring holds it from now on, not from the next sign-in; taken away,
    // the ring lets it go with the wrap.
    if (same && opened.secret !== undefined) secret = opened.secret;
    else opened.secret?.fill(0);
  } catch {
    throw tampered('wraps a group key that does not open for this desktop\'s person');
  }
  if (!same) throw tampered('wraps another key than the one this group holds at its version');
  putGroupKey(db, wrap);
  setReplicaBase(db, uidBytes(r.id), r.revision);
  // Agreed as it came: whether the server has them leading is what their desktop sends as (replica-service.ts peopleSender).
  noteAgreedMembers(db, [{ id: uidBytes(r.id), state: memberStateOf(r) }]);
  setMemberRevision(db, groupId, intake.userId, r.revision);
  intake.ring.addGroup(groupId, { ...held, secret, lead: r.lead });
  held.secret?.fill(0);
  return 'applied';
}
