/**
 * Moving this desktop's hold of a group to another key version (#15, docs/SYNC.md): forward, to a rotation taken in
 * from elsewhere (replica-people-in.ts rotateIn), and back, to the version the team server holds, when a rotation of
 * this desktop's own, not sent, can no longer be made (giveWayToHeld): its person stopped managing the group by a
 * record taken in from the server (unmade as its lead, their role narrowed), and the server refuses that rotation and
 * the revokes it carries (FORBIDDEN) at every sync, for good. Either way the group's entries and pages are sealed again
 * under the key moved to, at the revisions they had, and the ring holds that key.
 * Must never: keep a wrap, entry or page under a version this vault no longer holds; wrap for anyone a version they did
 * not hold on the server (a rotation dropped gives nobody its new key: it never left this desktop); or send anything
 * of a rotation dropped.
 */
import type { WriteDb } from './db';
import { pageOf, writePage, type PageItem } from './entry-pages';
import { resealEntry } from './entry-reseal';
import { needsSecretKeyIn, openHeldGroupKey, wrapGroupFor } from './group-keys';
import { uidText } from './ids';
import type { GroupKey } from './keys';
import { memberRecordId, type MemberRecord } from '../../shared/sync/records';
import { groupNameHere, keyRowOf, sha256Hex, tampered, uidBytes, type PeopleIntake } from './replica-people-checks';
import { openKeyRotatedFrom } from './rotated-from-keys';
import { carryScopeKeysBack } from './scope-key-history';
import { listEntryRowsInGroups } from './store-entries';
import { getGroupRow, groupKeysOfGroup, putGroupKey, setGroupKeyVersion, setGroupRowRevision, type GroupKeyRow } from './store-groups';
import { deletePagesOfGroup } from './store-pages';
import { replicaBase, sentSeq, setReplicaBase, setRevision } from './store-replica';
import { agreedMember, dropEntriesOfGroup, forgetRevokedMember, forgetRotateAgain, groupAndUserUids, noteRevokeUnmade, revokedMembers, setGroupRevision, setMemberRevision, unsentEntriesInGroup } from './store-replica-people';
import { dropRotatedFrom, rotatedFromOf } from './store-rotated-from';
import { thisDeviceId } from './store-signing';
import { hasUnsentEntryWrite } from './store-unsent-writes';
import { getUser } from './store-users';
import { renameHeldHere } from './replica-group-unsent';

/**
 * This person's wrap of a group key, as its group_keys row will be stored, and the key opened from
 * it; a wrap that does not open is the record's fault (VAULT_TAMPERED), never stored.
 */
export function openOwnWrap(db: WriteDb, intake: PeopleIntake, groupId: number, wrap: MemberRecord): { readonly held: GroupKeyRow; readonly key: GroupKey } {
  const held = keyRowOf(groupId, intake.userId, wrap);
  try {
    return { held, key: openHeldGroupKey(db, intake.ring.keyPair, intake.userId, { ...held, secret_split: 1 }) };
  } catch {
    throw tampered('wraps a group key that does not open for this desktop\'s person');
  }
}

/**
 * The group moved from `old` to `next` here, this person's own wrap of it `held`: entries re-sealed under it at the
 * revisions they had, pages rebuilt, version and wrap stored, the ring holding it. The caller's transaction: all of it or
 * none (a rollback leaves the ring to be read again from the file).
 */
export function moveOwnKey(db: WriteDb, intake: PeopleIntake, groupId: number, old: GroupKey, held: GroupKeyRow, next: GroupKey): void {
  // Kept the list key, lost the secret key (review 13a hole 3: a demotion to codes-only or auditor,
  // server codes turned on for a codes-only member): nothing can be sealed under the new key's
  // secret part here, so the entries go as below, their opened details with them.
  const losesSecret = old.secret !== undefined && next.split && held.wrapped_secret_key === null;
  if (!old.secret || losesSecret) {
    // Without the old (or the new) secret key the details cannot be sealed again here: the entries
    // are emptied as for a grant, and the rotating desktop's re-sealed versions, in the same push,
    // fill them in as they arrive. Such a role edits nothing there: an edit made here and not sent
    // could not be taken by the server now, and is told in one line (never dropped unsaid).
    if (losesSecret) loseSecret(db, intake, groupId);
    dropEntriesOfGroup(db, groupId, intake.now);
    deletePagesOfGroup(db, groupId);
  } else {
    resealIn(db, intake, groupId, old, next);
  }
  setGroupKeyVersion(db, groupId, next.version);
  putGroupKey(db, held);
  const kept = held.wrapped_secret_key !== null;
  if (!kept) next.secret?.fill(0);
  intake.ring.dropGroup(groupId);
  intake.ring.addGroup(groupId, { ...next, secret: kept ? next.secret : undefined, lead: held.is_lead === 1 });
}

/**
 * This person keeps the group's list key and loses its secret key: the old versions' keys this
 * desktop kept from its own unsent rotations go (they open the secrets it may no longer hold), and
 * its unsent edits in the group, about to be emptied with the entries, are told in one line
 * (reported by the sync, audited as user.crossed): its role may no longer seal them.
 */
function loseSecret(db: WriteDb, intake: PeopleIntake, groupId: number): void {
  dropRotatedFrom(db, groupId);
  const dropped = unsentEntriesInGroup(db, groupId);
  if (dropped === 0) return;
  const me = getUser(db, intake.userId)?.name ?? 'you';
  const edits = `${dropped} edit${dropped === 1 ? '' : 's'} made here in it`;
  intake.crossed(me, `${me}: your role no longer holds the secret key of the group "${groupNameHere(db, intake, groupId)}" (it was changed elsewhere); ${edits} could not be sent and ${dropped === 1 ? 'was' : 'were'} dropped`);
}

/** The group's entries sealed again under `next` at the revisions they had, its pages rebuilt. */
function resealIn(db: WriteDb, intake: PeopleIntake, groupId: number, old: GroupKey, next: GroupKey): void {
  const pages = new Map<number, PageItem[]>();
  for (const entry of listEntryRowsInGroups(db, [groupId])) {
    const item = resealEntry(db, entry, old, { groupId, key: next }, intake.customerName(db, entry.customer_id), entry.updated_at);
    // Sealed again, not changed: the revision stays, so this desktop sends nothing of it.
    setRevision(db, 'entries', entry.id, entry.revision);
    const page = pages.get(pageOf(entry.id)) ?? [];
    page.push(item);
    pages.set(pageOf(entry.id), page);
  }
  deletePagesOfGroup(db, groupId);
  for (const [pageNo, items] of pages) writePage(db, next, groupId, pageNo, items);
}

/** A membership's record id as agreed here, by the row ids of its group and user. */
function memberIdOf(db: WriteDb, groupId: number, userId: number): Buffer | undefined {
  const uids = groupAndUserUids(db, groupId, userId);
  return uids === undefined ? undefined : uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
}

/**
 * The version of `groupId` the team server holds while a rotation of this desktop's own waits unsent, as
 * replica-people.ts agreedVersion reads it (the lowest version rotated from here, or this person's own wrap as agreed
 * when a rotation from elsewhere was taken in over it since); undefined when no rotation of its own waits above it.
 */
function versionOnServer(db: WriteDb, intake: PeopleIntake, groupId: number): number | undefined {
  const row = getGroupRow(db, groupId);
  const rotated = rotatedFromOf(db, groupId).map((r) => r.version);
  const own = memberIdOf(db, groupId, intake.userId);
  if (row === undefined || rotated.length === 0 || own === undefined) return undefined;
  const version = Math.max(Math.min(...rotated), agreedMember(db, own)?.keyVersion ?? 0);
  return version < row.key_version ? version : undefined;
}

/**
 * Whether this person's own member record `r`, below the version this desktop's unsent rotation moved the group to,
 * is one giveWayToHeld can give way to: at the version the server holds, its wrap opening to the very key this desktop
 * rotated from there (else VAULT_TAMPERED: a manager's record wrapping another key at a version it did not rotate to).
 */
export function mayGiveWayTo(db: WriteDb, intake: PeopleIntake, groupId: number, r: MemberRecord): boolean {
  if (r.keyVersion !== versionOnServer(db, intake, groupId) || intake.ring.groups.get(groupId)?.version !== getGroupRow(db, groupId)?.key_version) return false;
  const kept = openKeyRotatedFrom(db, intake.ring.keyPair, intake.userId, groupId, r.keyVersion);
  const { key } = openOwnWrap(db, intake, groupId, r);
  const same = kept === undefined || kept.key.equals(key.key);
  for (const k of [kept, key]) {
    k?.key.fill(0);
    k?.secret?.fill(0);
  }
  if (!same) throw tampered('wraps a group key other than the one this desktop held at that version');
  return true;
}

/**
 * A rotation of this desktop's own, not sent, that its person may no longer make (no longer managing the group by
 * records this batch took in: unmade as its lead, `own` the record that says so; their role narrowed): the desktop gives
 * way to the version the server holds. The key moved back to (from `own`'s wrap, else the one kept when rotating:
 * store-rotated-from.ts) seals the group's entries and pages again; an entry that only the rotation re-sealed is at its
 * agreed revision again (nothing of it goes), an edit made here and not sent stays one above and goes under that key.
 * Everyone it held a wrap for is wrapped again at that version as agreed (here only: this person sends no member record
 * of a group they do not manage), the group's row at its agreed revision. Each revoke the rotation carried is not made:
 * its member wrapped again (the version they hold on the server), the note gone, and the revoke noted unmade
 * (store-replica-people.ts noteRevokeUnmade), audited once (intake.revokeUnmade) and told at each sync until the member
 * no longer holds the group: an owner or admin must make it. One whose record the server stored already (ahead of its
 * rotation) cut its member off there, but the group keeps the key they held: its note goes, and it is noted unmade with
 * that version (keyKeptAt), audited once and told at each sync until the group is past it here. Returns false where there is nothing to give way to here (no
 * rotation of its own waits, or the key of the version held is not kept).
 */
export function giveWayToHeld(db: WriteDb, intake: PeopleIntake, groupId: number, own: MemberRecord | undefined): boolean {
  const version = versionOnServer(db, intake, groupId);
  const row = getGroupRow(db, groupId);
  const old = intake.ring.groups.get(groupId);
  const me = getUser(db, intake.userId);
  const mine = groupKeysOfGroup(db, groupId).find((gk) => gk.user_id === intake.userId);
  if (version === undefined || row === undefined || old === undefined || me === undefined || mine === undefined || old.version !== row.key_version) return false;
  if (own !== undefined && own.keyVersion !== version) return false;
  const kept = openKeyRotatedFrom(db, intake.ring.keyPair, intake.userId, groupId, version);
  // The group row's revision before this desktop rotated it (read now: a lost secret key drops what was kept).
  const revisionBefore = rotatedFromOf(db, groupId).find((r) => r.version === version)?.groupRevision;
  let held: GroupKeyRow;
  let next: GroupKey;
  if (own !== undefined) {
    ({ held, key: next } = openOwnWrap(db, intake, groupId, own));
  } else {
    if (kept === undefined) return false;
    // Their own wrap made again at that version, as agreed, with the secret key where their role holds it now.
    const secret = kept.secret !== undefined && needsSecretKeyIn(db, me, groupId);
    wrapGroupFor(db, groupId, kept, me, { lead: mine.is_lead === 1, byRole: mine.by_role === 1, secret }, intake.ring.keysSeen);
    held = groupKeysOfGroup(db, groupId).find((gk) => gk.user_id === intake.userId) ?? mine;
    next = { ...kept, key: Buffer.from(kept.key), index: Buffer.from(kept.index), secret: kept.secret === undefined ? undefined : Buffer.from(kept.secret) };
  }
  // The wraps of the others are made with the key kept when rotating (with its secret key), else with the one moved to.
  const wrapWith = kept ?? next;
  carryScopeKeysBack(db, groupId, old, next);
  moveOwnKey(db, intake, groupId, old, held, next);
  agreeEntriesResealed(db, groupId);
  const ownId = memberIdOf(db, groupId, intake.userId);
  if (own === undefined && ownId !== undefined && replicaBase(db, ownId) > 0) setMemberRevision(db, groupId, intake.userId, replicaBase(db, ownId));
  for (const gk of groupKeysOfGroup(db, groupId)) {
    const user = gk.user_id === intake.userId ? undefined : getUser(db, gk.user_id);
    const id = memberIdOf(db, groupId, gk.user_id);
    if (user === undefined || id === undefined) continue;
    wrapGroupFor(db, groupId, wrapWith, user, { lead: gk.is_lead === 1, byRole: gk.by_role === 1, secret: gk.wrapped_secret_key !== null && wrapWith.secret !== undefined }, intake.ring.keysSeen);
    if (replicaBase(db, id) > 0) setMemberRevision(db, groupId, gk.user_id, replicaBase(db, id));
  }
  for (const note of revokedMembers(db).filter((m) => m.groupId === groupId)) {
    forgetRevokedMember(db, groupId, note.userId);
    const user = getUser(db, note.userId);
    const id = memberIdOf(db, groupId, note.userId);
    // Stored ahead of its rotation, the revoke cut its member off on the server, but the key they held stays the group's
    // (this rotation was its change): told at each sync until the group is past that version. Dropped unsaid, nobody knew
    // that what is written there stays open to the key they held (revoke-first-lead-unmade-stored.test.ts).
    if (note.stored === true) {
      if (user !== undefined && noteRevokeUnmade(db, { groupId, userId: note.userId, undone: true, keyKeptAt: next.version })) intake.revokeUnmade(groupId, user.name, groupNameHere(db, intake, groupId), true);
      continue;
    }
    if (user === undefined || user.disabled_at !== null || id === undefined) continue;
    const was = agreedMember(db, id);
    const secret = (was?.secret ?? needsSecretKeyIn(db, user, groupId)) && wrapWith.secret !== undefined;
    wrapGroupFor(db, groupId, wrapWith, user, { lead: was?.lead ?? false, byRole: was?.byRole ?? false, secret }, intake.ring.keysSeen);
    // The revoke's note raised the pair's agreed revision to its own (replica-people-local.ts noteRevoked): back one below it.
    setReplicaBase(db, id, note.revision - 1);
    setMemberRevision(db, groupId, note.userId, note.revision - 1);
    if (noteRevokeUnmade(db, { groupId, userId: note.userId, undone: true })) intake.revokeUnmade(groupId, user.name, groupNameHere(db, intake, groupId), false);
  }
  const base = replicaBase(db, row.uid);
  // A rename of this desktop's still held (none once put back: replica-group-unsent.ts dropUnsentRename) stays one above.
  const renamed = renameHeldHere(db, groupId);
  if (base > 0) setGroupRevision(db, groupId, base, renamed);
  // Agreed at no revision (a file copy agreed whole, a record taken in unchanged): back to the revision it had before the
  // rotation, as the server holds it. Left at the dropped rotation's, above it, the group's next record from elsewhere (a
  // rename) was no newer than the row and taken as nothing (revoke-first-lead-unmade-renamed-elsewhere.test.ts).
  else if (revisionBefore !== undefined) setGroupRowRevision(db, groupId, revisionBefore + (renamed ? 1 : 0));
  // The ring holds its own copy of the key moved to: the one kept when rotating leaves memory here.
  kept?.key.fill(0);
  kept?.index.fill(0);
  kept?.secret?.fill(0);
  dropRotatedFrom(db, groupId);
  forgetRotateAgain(db, groupId);
  return true;
}

/**
 * The group's entries that only this desktop's own rotation re-sealed since it last sent (no edit, move, delete or
 * code of this desktop's names them since): back at their agreed revisions, so nothing of them goes.
 */
function agreeEntriesResealed(db: WriteDb, groupId: number): void {
  const sent = sentSeq(db);
  const device = thisDeviceId(db);
  for (const entry of listEntryRowsInGroups(db, [groupId])) {
    const base = replicaBase(db, entry.uid);
    if (base > 0 && entry.revision > base && !hasUnsentEntryWrite(db, entry.id, sent, device)) setRevision(db, 'entries', entry.id, base);
  }
}
