/**
 * Who is who, handed on as replica records (#15, docs/SYNC.md): the vault's users (public key,
 * role), access groups (sealed name, current key version) and memberships (the group key as
 * wrapped for each member), signed by the person whose desktop sends them. The team server
 * decides from them who may pull and push what, and judges each by the sender's role and leads
 * (server/sync/membership.ts): so a desktop sends only what its person may set — users by owners
 * and admins (an owner's or admin's row by an owner only), a group and its members by whoever
 * manages it (owners, admins, its lead with a role that manages groups) — and leaves the rest to
 * those who may. A group's record says whether the team server computes its codes (schema 19):
 * the server holds to it (only owners and admins change it; seals only for such groups). A revoke (any
 * rotation that leaves someone out) also sends a signed revoked member record for them
 * (noteRevoked, review six): their desktop takes a removal from such a record only, never from a
 * wrap the relay did not hand over. A membership's record revision only moves forward: above
 * the one last agreed for its id (a re-grant after a revoke starts its row again at 1).
 * Must never: send a key unwrapped, or a record its sender could not have made on this desktop.
 */
import { createHash } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { OWNER_GRANTED_ROLES, holdsAllGroups, type Permission, type Role } from '../../shared/policy';
import { memberRecordId, recordSigningText, type GroupRecord, type MemberRecord, type PeopleRecord, type Unsigned, type UserRecord } from '../../shared/sync/records';
import type { ReadDb, WriteDb } from './db';
import { uidText } from './ids';
import { signBytes, type Signer } from './signing';
import { getDirectoryWrap } from './store-directory';
import { groupServerCodes } from './store-groups';
import { getUserSigning } from './store-signing';
import { replicaBase, setReplicaBase } from './store-replica';
import { agreedMember, groupAndUserUids, groupsBetween, membersBetween, noteAgreedMembers, revokedMembers, userByName, usersBetween, writtenByApply, type AgreedMember, type TakenSeqs, type UserReplicaRow } from './store-replica-people';
import { scopeHistoryField } from './scope-key-history';
import { rotatedFromOf } from './store-rotated-from';
// A rotation's revoked record, apart from this module's schema imports (replica-people-local.ts).
export { noteRevoked } from './replica-people-local';

/** The person whose desktop sends: who they are, what their role allows, which groups they lead. */
export interface PeopleSender {
  readonly userId: number;
  readonly userUid: string;
  readonly role: Role;
  readonly permissions: readonly Permission[];
  readonly leads: ReadonlySet<number>;
  readonly signer: Signer;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64url');
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');

function signatureOf(vault: string, sender: PeopleSender, record: Unsigned<PeopleRecord>): string {
  return b64(signBytes(sender.signer.privateKey, Buffer.from(recordSigningText(vault, record), 'utf8')));
}

function by(sender: PeopleSender): { readonly author: string; readonly signerKey: string } {
  return { author: sender.userUid, signerKey: uidText(sender.signer.keyUid) };
}

/** Whether `sender` manages group `groupId` as the server will judge it. */
function manages(sender: PeopleSender, groupId: number): boolean {
  return holdsAllGroups(sender.role) || (sender.leads.has(groupId) && sender.permissions.includes('groups.manage'));
}

/**
 * What a person who signs in on their own desktop needs from this file and cannot get otherwise
 * (#15, team join): the directory key and their signing key's seed, as wrapped here to their
 * public key. Only for a row that seals no key pair here (bound to a server account, or taken in):
 * anyone else signs in with this file's copy.
 */
function wrapsFor(db: ReadDb, user: UserReplicaRow): Pick<UserRecord, 'wrappedDirectoryKey' | 'wrappedSigningKey'> {
  if (user.seals_nothing !== 1) return {};
  const directory = getDirectoryWrap(db, user.id);
  const signing = getUserSigning(db, user.id)?.wrapped_signing_key ?? null;
  const version = Buffer.alloc(4);
  if (directory) version.writeUInt32BE(directory.dir_version);
  return {
    ...(directory ? { wrappedDirectoryKey: b64(Buffer.concat([version, directory.wrapped_key])) } : {}),
    ...(signing === null ? {} : { wrappedSigningKey: b64(signing) }),
  };
}

function userRecord(db: ReadDb, vault: string, sender: PeopleSender, user: UserReplicaRow, account: string | null): UserRecord {
  const record: Unsigned<UserRecord> = {
    kind: 'user', id: uidText(user.uid), revision: user.revision, name: user.name, role: user.role, publicKey: b64(user.public_key), account,
    disabledAt: user.disabled_at, ...wrapsFor(db, user), ...by(sender),
  };
  return { ...record, signature: signatureOf(vault, sender, record) };
}

/**
 * The key version a revoke is signed at: while its group's rotation is not on the server yet, the
 * version the server holds (the lowest this desktop rotated from, store-rotated-from.ts, or the one
 * its own wrap was agreed at when a rotation from elsewhere was taken in over it since), so the
 * revoke goes ahead of the rotation (electron/team/sync.ts partsOf) and every desktop takes it at
 * once — another's drops the wrap it holds at that version (replica-people-in.ts takeMember), a
 * manager's with a rotation of its own unsent takes it under it (takeRevokeUnderOwnRotation), the
 * revoked member's cuts itself off. Signed at the rotation's version, it waited for the group's
 * record there, and the member writing in the group held off the rotation, and the revoke with it.
 * A group or user the server never stored (withTheirRecords) is signed the same way, below the rotation's version,
 * and goes with the records that bring them: a desktop taking the rotation in with it reads the revoke as one the
 * rotation passed, as it is, and notes no key change owed (replica-key-owed.ts). Signed at the rotation's version, it
 * read as a revoke standing at the version held, a key change owed for a member who never held that key
 * (key-change-owed-new-group.test.ts).
 */
function agreedVersion(db: ReadDb, revoked: { readonly groupId: number; readonly keyVersion: number }, uids: { readonly group_uid: Buffer; readonly user_uid: Buffer }, senderUid: string): number {
  const ownAgreed = agreedMember(db, uidBytes(memberRecordId(uidText(uids.group_uid), senderUid, sha256Hex)));
  const lowest = Math.min(revoked.keyVersion, ...rotatedFromOf(db, revoked.groupId).map((r) => r.version));
  // A member the server never held (their group or user new to it) was wrapped at the lowest version alone, here: not raised
  // to this person's own wrap. Their rotation given way to another's stored first (which never wrapped them), the revoke goes
  // alone, and signed at that rotation's version it read on every desktop as standing at the version held, a key change
  // owed for a member who never held that key (key-change-owed-given-way.test.ts).
  if (withTheirRecords(db, uidText(uids.group_uid), uidText(uids.user_uid), senderUid)) return lowest;
  // A rotation from elsewhere taken in over this desktop's own unsent one (a give-way, or a newer version: its revokes made
  // again past it, team.ts rotateAgain) leaves the versions rotated from before it kept, below what the server holds now;
  // this person's own wrap is agreed at that. Signed below it, the member's desktop, holding the newer version, read the
  // revoke as one its own version had passed and kept the group (revoke-first-after-give-way.test.ts).
  const own = ownAgreed?.keyVersion ?? 0;
  return Math.min(revoked.keyVersion, Math.max(lowest, own));
}

/**
 * Whether a revoke of the pair goes with the records that bring its group or user to the server, never ahead of its
 * rotation: the server never stored them (agreed here at no revision), so a revoke ahead would name a group or user it
 * does not hold. A group agreed here at no revision that its person's own membership is agreed in is one the server
 * holds all the same: a desktop that never sent its record nor took a changed one notes none (a file copy agreed as a
 * whole, replica-service.ts markAllAgreed; a record taken in unchanged). Read as new, its revokes went with their
 * rotation, and the member being revoked, writing in the group, held them off (revoke-first-copied-desktop.test.ts).
 */
function withTheirRecords(db: ReadDb, group: string, user: string, senderUid: string): boolean {
  const ownAgreed = agreedMember(db, uidBytes(memberRecordId(group, senderUid, sha256Hex)));
  return (replicaBase(db, uidBytes(group)) === 0 && ownAgreed === undefined) || replicaBase(db, uidBytes(user)) === 0;
}

/**
 * Whether the server never held `userId` in `groupId` (their group or user new to it: withTheirRecords), read by this desktop's
 * person `senderUid`: a revoke of the pair waiting here cuts nobody off there (electron/team/sync.ts revokesWaitingLine).
 */
export function pairNeverOnServer(db: ReadDb, groupId: number, userId: number, senderUid: string): boolean {
  const uids = groupAndUserUids(db, groupId, userId);
  return uids !== undefined && withTheirRecords(db, uidText(uids.group_uid), uidText(uids.user_uid), senderUid);
}

/** The ids of the revokes of `records` (peopleRecords') that go with the records bringing their group or user (withTheirRecords): electron/team/sync.ts partsOf sends them there. */
export function revokesWithTheirRecords(db: ReadDb, records: readonly PeopleRecord[], senderUid: string): ReadonlySet<string> {
  return new Set(records.flatMap((r) => (r.kind === 'member' && r.revoked && withTheirRecords(db, r.group, r.user, senderUid) ? [r.id] : [])));
}

/**
 * The users, groups and memberships written here between two sequences that `sender` may set,
 * signed; users first, then groups, then members (the order the server takes them in). `taken`:
 * the sequences applies wrote at (store-replica-people.ts takenSeqs), whose rows at or below their
 * agreed revision are others' records taken in, not sent (none for a move: everything goes).
 */
export function peopleRecords(db: ReadDb, vault: string, sender: PeopleSender, fromSeq: number, toSeq: number, taken: TakenSeqs = []): PeopleRecord[] {
  const records: PeopleRecord[] = [];
  const setsUsers = holdsAllGroups(sender.role);
  // A row an apply wrote, at or below its agreed revision, is a record taken in: its author's to have sent, not this desktop's.
  const takenIn = (seq: number, revision: number, uid: Buffer): boolean => writtenByApply(taken, seq) && revision <= replicaBase(db, uid);
  for (const user of usersBetween(db, fromSeq, toSeq)) {
    if (!setsUsers) break;
    if (takenIn(user.seq, user.revision, user.uid)) continue;
    if (sender.role !== 'owner' && OWNER_GRANTED_ROLES.includes(user.role)) continue;
    records.push(userRecord(db, vault, sender, user, null));
  }
  for (const group of groupsBetween(db, fromSeq, toSeq)) {
    if (!manages(sender, group.id) || takenIn(group.seq, group.revision, group.uid)) continue;
    const record: Unsigned<GroupRecord> = {
      kind: 'group', id: uidText(group.uid), revision: group.revision, sealedName: b64(group.sealed_name), nameIndex: b64(group.name_index), keyVersion: group.key_version,
      createdAt: group.created_at, deletedAt: group.deleted_at, serverCodes: groupServerCodes(db, group.id), ...scopeHistoryField(db, group.id, group.key_version), ...by(sender),
    };
    records.push({ ...record, signature: signatureOf(vault, sender, record) });
  }
  // One record a membership (the server refuses a push naming an object twice): its newest state
  // here. A revoke noted and the pair's row written again after it (a re-grant before the push, or
  // the row taken in from elsewhere) are both in range; the later write is what holds now.
  // `undefined`: the newest state is a record taken in (below), which supersedes an earlier revoke noted here and goes nowhere.
  const members = new Map<string, { readonly seq: number; readonly record: Unsigned<MemberRecord> | undefined }>();
  const keep = (seq: number, id: string, record: Unsigned<MemberRecord> | undefined): void => {
    const before = members.get(id);
    if (before !== undefined && before.seq > seq) return;
    members.set(id, { seq, record });
  };
  for (const revoked of revokedMembers(db)) {
    if (revoked.seq <= fromSeq || revoked.seq > toSeq || !manages(sender, revoked.groupId)) continue;
    const uids = groupAndUserUids(db, revoked.groupId, revoked.userId);
    if (!uids) continue;
    const group = uidText(uids.group_uid);
    const user = uidText(uids.user_uid);
    const id = memberRecordId(group, user, sha256Hex);
    // Stored already (its part went ahead of its rotation's, electron/team/sync.ts partsOf): the note stays until the
    // push's last part is stored (a give-way's rotateAgain reads it), but the record does not go again.
    if (revoked.stored === true) continue;
    keep(revoked.seq, id, {
      kind: 'member', id, revision: revoked.revision, group, user, keyVersion: agreedVersion(db, revoked, uids, sender.userUid), lead: false,
      byRole: false, wrappedKey: '', wrappedSecretKey: null, revoked: true, ...by(sender),
    });
  }
  // A live row at the same sequence as a note of its pair is the later write (a row is noted as revoked only as it goes).
  for (const member of membersBetween(db, fromSeq, toSeq)) {
    if (!manages(sender, member.group_id)) continue;
    const group = uidText(member.group_uid);
    const user = uidText(member.user_uid);
    const id = memberRecordId(group, user, sha256Hex);
    const agreed = replicaBase(db, uidBytes(id));
    if (writtenByApply(taken, member.seq) && member.revision <= agreed) {
      keep(member.seq, id, undefined);
      continue;
    }
    keep(member.seq, id, {
      kind: 'member', id, revision: member.revision > agreed ? member.revision : agreed + 1, group, user, keyVersion: member.key_version, lead: member.is_lead === 1,
      byRole: member.by_role === 1, wrappedKey: b64(member.wrapped_key), wrappedSecretKey: member.wrapped_secret_key === null ? null : b64(member.wrapped_secret_key), revoked: false,
      ...by(sender),
    });
  }
  // Live memberships in the order they were written, then the revokes (as before): the server takes a group's wraps after its record either way.
  const gathered = [...members.values()].flatMap((m) => (m.record === undefined ? [] : [{ seq: m.seq, record: m.record }]));
  const signed = (m: { readonly record: Unsigned<MemberRecord> }): MemberRecord => ({ ...m.record, signature: signatureOf(vault, sender, m.record) });
  records.push(...gathered.filter((m) => !m.record.revoked).sort((x, y) => x.seq - y.seq).map(signed));
  records.push(...gathered.filter((m) => m.record.revoked).map(signed));
  return records;
}

/**
 * Every membership here as agreed at its revision (a vault file copied to start another replica:
 * replica-service.ts markAllAgreed), so a change of one made here later is known as not yet sent
 * (replica-people-in.ts takeCrossing), with what each said (its lead, key version, secret key).
 */
export function agreeAllMemberships(db: WriteDb): void {
  const states: Array<{ readonly id: Buffer; readonly state: AgreedMember }> = [];
  for (const member of membersBetween(db, 0, Number.MAX_SAFE_INTEGER)) {
    const id = uidBytes(memberRecordId(uidText(member.group_uid), uidText(member.user_uid), sha256Hex));
    setReplicaBase(db, id, Math.max(member.revision, replicaBase(db, id)));
    states.push({ id, state: { keyVersion: member.key_version, lead: member.is_lead === 1, byRole: member.by_role === 1, secret: member.wrapped_secret_key !== null } });
  }
  noteAgreedMembers(db, states);
}

/**
 * An owner says which server account acts as vault user `userName` (the server binds the two:
 * never whoever pushes first). FORBIDDEN unless the sender is an owner; NOT_FOUND for no such user.
 */
export function accountRecord(db: ReadDb, vault: string, sender: PeopleSender, userName: string, account: string): UserRecord {
  if (sender.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only an owner says which server account is which person of the vault.');
  const user = userByName(db, userName.trim());
  if (!user) throw new CrewvaultError('NOT_FOUND', `No user named "${userName.trim()}".`);
  return userRecord(db, vault, sender, user, account);
}
