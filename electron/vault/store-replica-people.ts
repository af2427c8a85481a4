/**
 * The vault's people, access groups and memberships as replica records read them (#15): rows
 * written since a sequence, with every foreign key as a global id, and what a desktop drops of a
 * group its person was removed from. SQL only; which of them a
 * sender hands on, and how they are signed, is replica-people.ts's.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';
import { getSetting, setSetting } from './store-meta';

export interface UserReplicaRow {
  readonly id: number;
  readonly uid: Buffer;
  readonly revision: number;
  readonly name: string;
  readonly role: string;
  readonly public_key: Buffer;
  readonly disabled_at: number | null;
  /** 1 when this file seals no private key of theirs (they sign in on their own desktop: bound to a server account, or taken in). */
  readonly seals_nothing: number;
  /** The sequence the row was last written at (peopleRecords: written by an apply, or here). */
  readonly seq: number;
}

export interface GroupReplicaRow {
  readonly id: number;
  readonly uid: Buffer;
  readonly revision: number;
  readonly sealed_name: Buffer;
  readonly name_index: Buffer;
  readonly key_version: number;
  readonly created_at: number;
  readonly deleted_at: number | null;
  /** The sequence the row was last written at (peopleRecords: written by an apply, or here). */
  readonly seq: number;
}

export interface MemberReplicaRow {
  readonly group_id: number;
  readonly group_uid: Buffer;
  readonly user_uid: Buffer;
  readonly revision: number;
  readonly key_version: number;
  readonly wrapped_key: Buffer;
  readonly wrapped_secret_key: Buffer | null;
  readonly is_lead: number;
  readonly by_role: number;
  /** The sequence the row was last written at (peopleRecords: a revoke noted later of the same pair is the newer state). */
  readonly seq: number;
}

export function usersBetween(db: ReadDb, fromSeq: number, toSeq: number): UserReplicaRow[] {
  return db.prepare<[number, number], UserReplicaRow>('SELECT id, uid, revision, name, role, public_key, disabled_at, length(sealed_private_key) = 0 AS seals_nothing, seq FROM users WHERE seq > ? AND seq <= ? ORDER BY seq').all(fromSeq, toSeq);
}

export function userByName(db: ReadDb, name: string): UserReplicaRow | undefined {
  return db.prepare<[string], UserReplicaRow>('SELECT id, uid, revision, name, role, public_key, disabled_at, length(sealed_private_key) = 0 AS seals_nothing, seq FROM users WHERE name = ?').get(name);
}

export function groupsBetween(db: ReadDb, fromSeq: number, toSeq: number): GroupReplicaRow[] {
  return db.prepare<[number, number], GroupReplicaRow>(
    'SELECT id, uid, revision, sealed_name, name_index, key_version, created_at, deleted_at, seq FROM access_groups WHERE seq > ? AND seq <= ? ORDER BY seq',
  ).all(fromSeq, toSeq);
}

export function membersBetween(db: ReadDb, fromSeq: number, toSeq: number): MemberReplicaRow[] {
  return db.prepare<[number, number], MemberReplicaRow>(
    `SELECT gk.group_id, g.uid AS group_uid, u.uid AS user_uid, gk.revision, gk.key_version, gk.wrapped_key, gk.wrapped_secret_key, gk.is_lead, gk.by_role, gk.seq
     FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id JOIN users u ON u.id = gk.user_id
     WHERE gk.seq > ? AND gk.seq <= ? ORDER BY gk.seq`,
  ).all(fromSeq, toSeq);
}

/** How many of a group's entries were changed here and not yet agreed (sent and stored): edits that would be lost with it. */
export function unsentEntriesInGroup(db: ReadDb, groupId: number): number {
  return db.prepare<[number], { n: number }>(
    'SELECT count(*) AS n FROM entries e LEFT JOIN replica_base b ON b.uid = e.uid WHERE e.group_id = ? AND e.revision != coalesce(b.revision, 0)',
  ).get(groupId)?.n ?? 0;
}

/**
 * A group this desktop's person was removed from (or is granted, whose entries the server hands
 * over again): its entries are emptied here into local tombstones (nothing sealed, no lookup) at
 * revision 0, agreed at 0 — none of it is a change of this desktop's to send, any record of them
 * that arrives replaces them, and the events that name them still chain.
 */
export function dropEntriesOfGroup(db: WriteDb, groupId: number, at: number): void {
  noteSealedReplaced(db);
  db.prepare("UPDATE entries SET deleted_at = coalesce(deleted_at, ?), lookup = x'', sealed_summary = x'', sealed_details = x'' WHERE group_id = ?").run(at, groupId);
  db.prepare('UPDATE entries SET revision = 0 WHERE group_id = ?').run(groupId);
  db.prepare('DELETE FROM replica_base WHERE uid IN (SELECT uid FROM entries WHERE group_id = ?)').run(groupId);
}

/**
 * How many of a group's live entries the team holds a version of (agreed with the server once: an
 * unsent edit here changes none of that): a group deleted elsewhere waits for the signed deletes or
 * moves that took them out of it. Entries added here and never sent are not counted.
 */
export function agreedLiveEntriesInGroup(db: ReadDb, groupId: number): number {
  return db.prepare<[number], { n: number }>(
    'SELECT count(*) AS n FROM entries e JOIN replica_base b ON b.uid = e.uid WHERE e.group_id = ? AND e.deleted_at IS NULL AND b.revision > 0',
  ).get(groupId)?.n ?? 0;
}

/**
 * Live groups here whose deletion, a record from elsewhere, is set aside waiting (replica-people-new.ts
 * takeDelete: an entry agreed with the team stands in it here, and no signed record took it out), by row id.
 */
export function groupsDeletionWaiting(db: ReadDb): Set<number> {
  const waiting = new Set<number>();
  for (const row of db.prepare<[], { record_id: string; body: string }>('SELECT record_id, body FROM replica_held').all()) {
    let record: unknown;
    try {
      record = JSON.parse(row.body) as unknown;
    } catch {
      continue;
    }
    if (record === null || typeof record !== 'object') continue;
    const { kind, deletedAt } = record as { readonly kind?: unknown; readonly deletedAt?: unknown };
    if (kind !== 'group' || typeof deletedAt !== 'number') continue;
    const group = db.prepare<[Buffer], { id: number }>('SELECT id FROM access_groups WHERE uid = ? AND deleted_at IS NULL').get(Buffer.from(row.record_id.replaceAll('-', ''), 'hex'));
    if (group !== undefined) waiting.add(group.id);
  }
  return waiting;
}

/** Settings prefix of a group's record sent while its deletion from elsewhere waited here, and the group's agreed revision before it. */
const SENT_OVER_DELETION_PREFIX = 'replica.group_sent_over_deletion.';

/**
 * A group's record went to the server while its deletion from elsewhere waited here (groupsDeletionWaiting): the
 * revision agreed of the group before it, kept (the first such send's). The server holding the group deleted stored
 * it as nothing, though the send moved the agreed revision to it; the deletion, taken at last, is judged against
 * this one (replica-people-new.ts deletionStale), not read as older than a change the team never held.
 */
export function noteGroupSentOverDeletion(db: WriteDb, uid: Buffer, agreedBefore: number): void {
  if (groupSentOverDeletion(db, uid) === undefined) setSetting(db, SENT_OVER_DELETION_PREFIX + uid.toString('hex'), String(agreedBefore));
}

/** The revision agreed of a group before its record was sent over its waiting deletion (noteGroupSentOverDeletion), or undefined. */
export function groupSentOverDeletion(db: ReadDb, uid: Buffer): number | undefined {
  const text = getSetting(db, SENT_OVER_DELETION_PREFIX + uid.toString('hex'));
  const revision = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(revision) ? revision : undefined;
}

/**
 * Forgets the note (noteGroupSentOverDeletion) once it says nothing: the group deleted here, or a live record of it
 * newer than the noted revision taken from the server (which so holds the group live: the record sent over the
 * deletion stored, a deletion played back by a dishonest server). Kept, a deletion played back again, older than
 * what the team holds, was judged against that old revision and deleted the group here for good (hostile review of
 * 1f00bfb).
 */
export function forgetGroupSentOverDeletion(db: WriteDb, uid: Buffer): void {
  db.prepare('DELETE FROM settings WHERE key = ?').run(SENT_OVER_DELETION_PREFIX + uid.toString('hex'));
}

/** A user's revision as the record taken in has it, nothing of this desktop's kept (its writes of the record's fields here moved it on by their count). */
export function setUserRevision(db: WriteDb, userId: number, revision: number): void {
  db.prepare('UPDATE users SET revision = ? WHERE id = ?').run(revision, userId);
}

/** A user's revision moved up to at least `revision` (a user record taken in): never down. */
export function setUserRevisionAtLeast(db: WriteDb, userId: number, revision: number): void {
  db.prepare('UPDATE users SET revision = max(revision, ?) WHERE id = ?').run(revision, userId);
}

/** The sequence a user's row was last written at (above the sent sequence: a change of this desktop's not yet delivered). */
export function userSeq(db: ReadDb, userId: number): number {
  return db.prepare<[number], { seq: number }>('SELECT seq FROM users WHERE id = ?').get(userId)?.seq ?? 0;
}

/** The sequence a membership's row was last written at (above the sent sequence: a change of this desktop's not yet delivered). */
export function memberSeq(db: ReadDb, groupId: number, userId: number): number {
  return db.prepare<[number, number], { seq: number }>('SELECT seq FROM group_keys WHERE group_id = ? AND user_id = ?').get(groupId, userId)?.seq ?? 0;
}

/**
 * What a user's role and disabling were at their agreed revision (sent from here and stored, or
 * taken in from a record): what tells, when a record from elsewhere crosses a change made here,
 * which side changed which (replica-people-in.ts takeUser). Local bookkeeping in settings, one row
 * a user under AGREED_USER_PREFIX and their global id in hex (a role name and a flag: nothing
 * sealed); one JSON of them all was read and written whole for each user record taken in,
 * quadratic in a first sync's users, as the memberships' was (below). None for a user agreed
 * before it was kept.
 */
export interface AgreedUser {
  readonly role: string;
  readonly disabled: boolean;
}

const AGREED_USER_PREFIX = 'replica.agreed_user.';
/** Where builds before 2026-12-06 kept them all in one JSON: still read, never written. */
const AGREED_USERS_ONE_SETTING = 'replica.agreed_users';

function agreedUserOf(value: unknown): AgreedUser | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const found = value as Partial<Record<keyof AgreedUser, unknown>>;
  return typeof found.role === 'string' && typeof found.disabled === 'boolean' ? { role: found.role, disabled: found.disabled } : undefined;
}

/**
 * An agreed state kept one settings row an id (`prefix` and the id in hex), else where an older
 * build kept them all in one JSON (`oneSetting`): the raw value, for its kind's check.
 */
function agreedSetting(db: ReadDb, prefix: string, oneSetting: string, id: Buffer): unknown {
  const hex = id.toString('hex');
  const own = getSetting(db, prefix + hex);
  if (own !== undefined) return JSON.parse(own) as unknown;
  const all = getSetting(db, oneSetting);
  const parsed = all === undefined ? undefined : JSON.parse(all) as unknown;
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[hex] : undefined;
}

export function agreedUser(db: ReadDb, uid: Buffer): AgreedUser | undefined {
  return agreedUserOf(agreedSetting(db, AGREED_USER_PREFIX, AGREED_USERS_ONE_SETTING, uid));
}

export function noteAgreedUser(db: WriteDb, uid: Buffer, state: AgreedUser): void {
  setSetting(db, AGREED_USER_PREFIX + uid.toString('hex'), JSON.stringify({ role: state.role, disabled: state.disabled }));
}

/**
 * What a membership's record said at its agreed revision (sent from here and stored, taken in from
 * a record, or a copied file's): its key version, lead, whether held by role and whether it wraps
 * the secret key. What tells, when a member record from elsewhere crosses a change of the
 * membership made here, which side changed which (replica-people-in.ts takeCrossing). Local
 * bookkeeping in settings, one row a membership under AGREED_MEMBER_PREFIX and the record's id in
 * hex (no wrap, nothing sealed, no name): one JSON of them all was read and written whole for each
 * member record taken in, quadratic in a first sync's memberships. Forgotten when the membership
 * ends (forgetAgreedMember); none for a membership agreed before it was kept.
 */
export interface AgreedMember {
  readonly keyVersion: number;
  readonly lead: boolean;
  readonly byRole: boolean;
  readonly secret: boolean;
}

const AGREED_MEMBER_PREFIX = 'replica.agreed_member.';
/** Where a build of 2026-12-06 kept them all in one JSON: still read, never written. */
const AGREED_MEMBERS_ONE_SETTING = 'replica.agreed_members';

function agreedOf(value: unknown): AgreedMember | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const found = value as Partial<Record<keyof AgreedMember, unknown>>;
  return Number.isSafeInteger(found.keyVersion) && typeof found.lead === 'boolean' && typeof found.byRole === 'boolean' && typeof found.secret === 'boolean'
    ? { keyVersion: found.keyVersion as number, lead: found.lead, byRole: found.byRole, secret: found.secret } : undefined;
}

export function agreedMember(db: ReadDb, id: Buffer): AgreedMember | undefined {
  return agreedOf(agreedSetting(db, AGREED_MEMBER_PREFIX, AGREED_MEMBERS_ONE_SETTING, id));
}

/** The state a member record (or a row of one) says, as agreed state is kept. */
export function memberStateOf(r: { readonly keyVersion: number; readonly lead: boolean; readonly byRole: boolean; readonly wrappedSecretKey: unknown }): AgreedMember {
  return { keyVersion: r.keyVersion, lead: r.lead, byRole: r.byRole, secret: r.wrappedSecretKey !== null };
}

/** Each membership's agreed state noted, one row each (a copied file notes all its memberships at once). */
export function noteAgreedMembers(db: WriteDb, states: ReadonlyArray<{ readonly id: Buffer; readonly state: AgreedMember }>): void {
  for (const { id, state } of states) {
    setSetting(db, AGREED_MEMBER_PREFIX + id.toString('hex'), JSON.stringify({ keyVersion: state.keyVersion, lead: state.lead, byRole: state.byRole, secret: state.secret }));
  }
}

/**
 * A membership ended (a revoke taken in or sent, a rotation that cut them off): its agreed state goes, so the settings hold
 * only memberships that are. A file that still holds the older one JSON has it split into rows first: its row gone, the
 * JSON's state of the ended membership was read again (agreedSetting), and a re-grant crossing a record from elsewhere
 * was judged against the state from before the removal.
 */
export function forgetAgreedMember(db: WriteDb, id: Buffer): void {
  splitOneSetting(db, AGREED_MEMBER_PREFIX, AGREED_MEMBERS_ONE_SETTING);
  db.prepare('DELETE FROM settings WHERE key = ?').run(AGREED_MEMBER_PREFIX + id.toString('hex'));
}

/**
 * The older one-JSON setting (`oneSetting`), where a file still holds it, written as one row an id (a row already
 * written is newer and stays) and removed: once, so that no row forgotten later lets the JSON's state of it be read.
 */
function splitOneSetting(db: WriteDb, prefix: string, oneSetting: string): void {
  const all = getSetting(db, oneSetting);
  if (all === undefined) return;
  const parsed = JSON.parse(all) as unknown;
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [hex, state] of Object.entries(parsed as Record<string, unknown>)) {
      if (getSetting(db, prefix + hex) === undefined) setSetting(db, prefix + hex, JSON.stringify(state));
    }
  }
  db.prepare('DELETE FROM settings WHERE key = ?').run(oneSetting);
}

/**
 * A group's revision as the record taken in has it (its own writes here moved it on by their count),
 * agreed: the row, written by the apply, is the record's, not a change of this desktop's to send (peopleRecords).
 */
export function setGroupRevision(db: WriteDb, groupId: number, revision: number, keptHere = false): void {
  // `keptHere`: a change of this desktop's the record did not take over (an unsent rename) stays, one above it, to be sent.
  db.prepare('UPDATE access_groups SET revision = ? WHERE id = ?').run(keptHere ? revision + 1 : revision, groupId);
  db.prepare(`INSERT INTO replica_base (uid, revision) SELECT uid, ? FROM access_groups WHERE id = ?
    ON CONFLICT(uid) DO UPDATE SET revision = excluded.revision`).run(revision, groupId);
}

/** A membership's revision as the member record taken in has it (revision is no shared column: nothing is sequenced by it). */
export function setMemberRevision(db: WriteDb, groupId: number, userId: number, revision: number): void {
  db.prepare('UPDATE group_keys SET revision = ? WHERE group_id = ? AND user_id = ?').run(revision, groupId, userId);
}

/**
 * A membership this desktop ended (a rotation that left someone out: a revoke, a role change, a
 * disabling), kept until sent so a signed revoked member record says so (review six: a removal is
 * never inferred from a missing wrap). Local bookkeeping in settings under REVOKED_KEY: the group
 * and user ids, the key version the group moved to, the record's revision and the sequence at
 * which it was written (peopleRecords hands on those in its range).
 */
export interface RevokedMember {
  readonly groupId: number;
  readonly userId: number;
  readonly keyVersion: number;
  readonly revision: number;
  readonly seq: number;
  /** Its record stored by the server ahead of its group's rotation (electron/team/sync.ts partsOf), the rotation not yet. */
  readonly stored?: boolean;
}

const REVOKED_KEY = 'replica.revoked_members';

export function revokedMembers(db: ReadDb): RevokedMember[] {
  const text = getSetting(db, REVOKED_KEY);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as RevokedMember[]) : [];
}

/** Noted in the rotation's transaction; a later one of the same pair replaces it. */
export function noteRevokedMember(db: WriteDb, revoked: RevokedMember): void {
  const kept = revokedMembers(db).filter((m) => m.groupId !== revoked.groupId || m.userId !== revoked.userId);
  setSetting(db, REVOKED_KEY, JSON.stringify([...kept, revoked]));
}

/**
 * A pair granted again here before its revoke was sent: the note goes (the grant is the newer
 * state, and its live member record goes above the noted revision). Kept, a give-way's rotateAgain
 * took it for a revoke still to make, and left the re-granted member out again.
 */
export function forgetRevokedMember(db: WriteDb, groupId: number, userId: number): void {
  const all = revokedMembers(db);
  const kept = all.filter((m) => m.groupId !== groupId || m.userId !== userId);
  if (kept.length !== all.length) setSetting(db, REVOKED_KEY, JSON.stringify(kept));
}

/**
 * A revoke's record stored in a part ahead of the rest of its push: noted so, not sent again, and
 * kept until the push's last part is (a give-way's rotateAgain still reads who its rotation left out).
 */
export function noteRevokeStored(db: WriteDb, groupId: number, userId: number, revision: number): void {
  const all = revokedMembers(db);
  if (!all.some((m) => m.groupId === groupId && m.userId === userId && m.revision === revision && m.stored !== true)) return;
  setSetting(db, REVOKED_KEY, JSON.stringify(all.map((m) => (m.groupId === groupId && m.userId === userId && m.revision === revision ? { ...m, stored: true } : m))));
}

/**
 * A record of a pair whose revoke is noted here and not yet stored, at or above the revoke's
 * revision (sent from elsewhere before this desktop pulled it: the person's other desktop sending
 * the membership again): the revoke goes above it. At the same revision, a desktop holding that
 * record took the revoke, signed at the version the server holds (replica-people.ts agreedVersion),
 * for the one it agreed already, and the member's desktop kept the group. Returns the new revision.
 */
export function raiseNotedRevoke(db: WriteDb, groupId: number, userId: number, above: number): number | undefined {
  const all = revokedMembers(db);
  const noted = all.find((m) => m.groupId === groupId && m.userId === userId);
  if (noted === undefined || noted.stored === true || noted.revision > above) return undefined;
  setSetting(db, REVOKED_KEY, JSON.stringify(all.map((m) => (m === noted ? { ...m, revision: above + 1 } : m))));
  return above + 1;
}

/** The revokes noted here whose push has not ended yet (its last part not stored): told at each sync (electron/team/sync.ts revokesWaitingLine). */
export function revokesWaiting(db: ReadDb, sentSeq: number): RevokedMember[] {
  return revokedMembers(db).filter((m) => m.seq > sentSeq);
}

/**
 * A push ended (its last part stored): the notes whose records it carried (marked stored) are forgotten, wherever the
 * sent mark stops. Held back below them (a change kept here unsent: replica-service.ts outgoing), they were kept for
 * good: every sync told a key change waiting that had landed, and a give-way's rotateAgain still left their member out.
 */
export function forgetStoredRevokes(db: WriteDb): void {
  const all = revokedMembers(db);
  const kept = all.filter((m) => m.stored !== true);
  if (kept.length !== all.length) setSetting(db, REVOKED_KEY, JSON.stringify(kept));
}

/** Those handed on up to `seq` (a batch delivered) are forgotten. */
export function forgetRevokedMembersUpTo(db: WriteDb, seq: number): void {
  const all = revokedMembers(db);
  const kept = all.filter((m) => m.seq > seq);
  if (kept.length !== all.length) setSetting(db, REVOKED_KEY, JSON.stringify(kept));
}

/**
 * Memberships this desktop was handed a signed record of that left no trace in its rows (replica-people-in.ts
 * takeMember): a revoke of someone who held no row here (a first sync after the removal), a record of a deleted group
 * (ignored). One row a record's id and signer (`replica.member_known.<record id>.<signer's uid>`, the signer's uid its
 * value; at most one a membership for each person who signed a record of it), never forgotten: what an event naming an
 * entry this desktop lacks is judged by (event-author.ts mayHaveHeldGroup), counted only by a signer other than the
 * member who may have held the group themselves. A row without the signer (`replica.member_known.<record id>`, written by the build of 940f723 for a
 * record of anyone's signing) is never read.
 */
const MEMBER_KNOWN_PREFIX = 'replica.member_known.';

function memberKnownKey(recordId: Buffer, signerUid: Buffer): string {
  return `${MEMBER_KNOWN_PREFIX}${recordId.toString('hex')}.${signerUid.toString('hex')}`;
}

export function noteMemberKnown(db: WriteDb, recordId: Buffer, signerUid: Buffer): void {
  setSetting(db, memberKnownKey(recordId, signerUid), signerUid.toString('hex'));
}

export function memberNotedKnown(db: ReadDb, recordId: Buffer, signerUid: Buffer): boolean {
  return getSetting(db, memberKnownKey(recordId, signerUid)) !== undefined;
}

/** Who signed the records of membership `recordId` noted here (noteMemberKnown), as users of this vault. */
export function memberKnownSigners(db: ReadDb, recordId: Buffer): Array<{ readonly id: number }> {
  // The keys from `<record id>.` up to `<record id>/` ('/' follows '.'): a walk of the settings' key index, not a scan.
  const from = `${MEMBER_KNOWN_PREFIX}${recordId.toString('hex')}.`;
  const to = `${MEMBER_KNOWN_PREFIX}${recordId.toString('hex')}/`;
  return db.prepare<[string, string], { id: number }>(`SELECT u.id FROM settings s JOIN users u ON lower(hex(u.uid)) = s.value
    WHERE s.key >= ? AND s.key < ?`).all(from, to);
}

/**
 * Whether this desktop holds a membership of `userId` in `groupId` in its rows: a row now (held, or granted here), or
 * its record agreed here at some revision (`recordId`, replica_base: sent or taken in, live or revoked since; never
 * forgotten). A record noted without a row is memberKnownSigners'.
 */
export function membershipEverKnown(db: ReadDb, groupId: number, userId: number, recordId: Buffer): boolean {
  return db.prepare<[number, number, Buffer], { known: number }>(`SELECT EXISTS (SELECT 1 FROM group_keys WHERE group_id = ? AND user_id = ?)
    OR EXISTS (SELECT 1 FROM replica_base WHERE uid = ? AND revision > 0) AS known`)
    .get(groupId, userId, recordId)?.known === 1;
}

/** A membership's revision here, if the pair holds a row (before a rotation deletes it). */
export function memberRevision(db: ReadDb, groupId: number, userId: number): number | undefined {
  return db.prepare<[number, number], { revision: number }>('SELECT revision FROM group_keys WHERE group_id = ? AND user_id = ?').get(groupId, userId)?.revision;
}

/**
 * A membership's row moved up to the revision its record was sent at, while the row still holds
 * that record's key version (sent one above the agreed revision when its own was not: a moved
 * vault, a copy): a change made here after it then counts as not yet sent (above the agreed one).
 */
export function setMemberRevisionAtLeast(db: WriteDb, groupUid: Buffer, userUid: Buffer, keyVersion: number, revision: number): void {
  db.prepare(`UPDATE group_keys SET revision = max(revision, ?)
    WHERE group_id = (SELECT id FROM access_groups WHERE uid = ?) AND user_id = (SELECT id FROM users WHERE uid = ?) AND key_version = ?`).run(revision, groupUid, userUid, keyVersion);
}

/** The uids a revoked member record names. */
export function groupAndUserUids(db: ReadDb, groupId: number, userId: number): { readonly group_uid: Buffer; readonly user_uid: Buffer } | undefined {
  return db.prepare<[number, number], { group_uid: Buffer; user_uid: Buffer }>('SELECT g.uid AS group_uid, u.uid AS user_uid FROM access_groups g, users u WHERE g.id = ? AND u.id = ?').get(groupId, userId);
}

/** The sequence a group's row was last written at (above the sent sequence: a change of this desktop's not yet delivered). */
export function groupSeq(db: ReadDb, groupId: number): number {
  return db.prepare<[number], { seq: number }>('SELECT seq FROM access_groups WHERE id = ?').get(groupId)?.seq ?? 0;
}

/**
 * Whether one of `devices` (this file's own: store-device.ts ownDevices) renamed the group in an event written after
 * sequence `after` (the sent one: a rename made here not sent yet). Events taken in from elsewhere, the same person's
 * second desktop's too, are on their own devices.
 */
export function groupRenamedOnSince(db: ReadDb, groupId: number, after: number, devices: readonly Buffer[]): boolean {
  return groupChangedOnSince(db, groupId, ['group.rename'], after, devices);
}

/** As groupRenamedOnSince, for any of `actions` (the server codes turned on or off: replica-people-in.ts takeUnderOwnRotation). */
export function groupChangedOnSince(db: ReadDb, groupId: number, actions: readonly string[], after: number, devices: readonly Buffer[]): boolean {
  const statement = db.prepare<[string, number, number, Buffer], { one: number }>(
    'SELECT 1 AS one FROM audit_log WHERE action = ? AND group_id = ? AND seq > ? AND device_id = ? LIMIT 1',
  );
  return actions.some((action) => devices.some((device) => statement.get(action, groupId, after, device) !== undefined));
}

/**
 * Groups this desktop gave way in (review six hole 4: its own unsent rotation lost to one the
 * server kept) whose own revokes are still to be made again by a fresh rotation (team.ts
 * rotateAgain). Local bookkeeping in settings under ROTATE_AGAIN_KEY: the group ids.
 */
const ROTATE_AGAIN_KEY = 'replica.rotate_again';

export function groupsToRotateAgain(db: ReadDb): number[] {
  const text = getSetting(db, ROTATE_AGAIN_KEY);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? parsed.filter((id): id is number => typeof id === 'number') : [];
}

export function noteRotateAgain(db: WriteDb, groupId: number): void {
  const all = groupsToRotateAgain(db);
  if (!all.includes(groupId)) setSetting(db, ROTATE_AGAIN_KEY, JSON.stringify([...all, groupId]));
}

export function forgetRotateAgain(db: WriteDb, groupId: number): void {
  const all = groupsToRotateAgain(db);
  if (all.includes(groupId)) setSetting(db, ROTATE_AGAIN_KEY, JSON.stringify(all.filter((id) => id !== groupId)));
}

/**
 * Revokes this desktop gave way in and could not make again (team.ts rotateAgain): the person may
 * no longer make them (the group's secret key, or its management, gone from them since). Each is
 * told at every sync until the member no longer holds the group (an owner's or admin's revoke
 * landed, the group went): it needs one of them to make it. Local bookkeeping in settings under
 * REVOKES_UNMADE_KEY: the group and member row ids.
 */
const REVOKES_UNMADE_KEY = 'replica.revokes_unmade';

export interface RevokeUnmade {
  readonly groupId: number;
  readonly userId: number;
  /** Its rotation was dropped here, its maker no longer managing the group (replica-own-key.ts giveWayToHeld), not given way to another. */
  readonly undone?: boolean;
  /**
   * The revoke itself was stored (its member cut off on the server) and only its rotation undone: the group stays at
   * this key version, the one its member held, until someone who manages it rotates it (told until the version here moves past it).
   */
  readonly keyKeptAt?: number;
}

export function revokesUnmade(db: ReadDb): RevokeUnmade[] {
  const text = getSetting(db, REVOKES_UNMADE_KEY);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? parsed.filter((r): r is RevokeUnmade => typeof r === 'object' && r !== null && typeof (r as RevokeUnmade).groupId === 'number' && typeof (r as RevokeUnmade).userId === 'number') : [];
}

/** Notes the pair; false when it was noted already. */
export function noteRevokeUnmade(db: WriteDb, unmade: RevokeUnmade): boolean {
  const all = revokesUnmade(db);
  if (all.some((r) => r.groupId === unmade.groupId && r.userId === unmade.userId)) return false;
  setSetting(db, REVOKES_UNMADE_KEY, JSON.stringify([...all, { groupId: unmade.groupId, userId: unmade.userId, ...(unmade.undone === true ? { undone: true } : {}), ...(unmade.keyKeptAt === undefined ? {} : { keyKeptAt: unmade.keyKeptAt }) }]));
  return true;
}

/**
 * Forgets the pairs whose member no longer holds a live group's row here (revoked since, or the group gone), and those
 * whose key was kept (keyKeptAt) once the group here is past that version, gone, or no longer held by `me`; the rest.
 */
export function forgetRevokesUnmadeSettled(db: WriteDb, me: number): RevokeUnmade[] {
  const all = revokesUnmade(db);
  const holds = db.prepare<[number, number], { one: number }>(
    'SELECT 1 AS one FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id WHERE gk.group_id = ? AND gk.user_id = ? AND g.deleted_at IS NULL',
  );
  const version = db.prepare<[number], { key_version: number }>('SELECT key_version FROM access_groups WHERE id = ?');
  const stands = (r: RevokeUnmade): boolean => (r.keyKeptAt === undefined
    ? holds.get(r.groupId, r.userId) !== undefined
    : holds.get(r.groupId, me) !== undefined && (version.get(r.groupId)?.key_version ?? Infinity) <= r.keyKeptAt);
  const kept = all.filter(stands);
  if (kept.length !== all.length) setSetting(db, REVOKES_UNMADE_KEY, JSON.stringify(kept));
  return kept;
}

/**
 * One entry that left this person's reach (the server's pull told its id: moved out of a group
 * they hold into one they do not, review 13b hole 4), emptied as a revoke empties its group's
 * entries (dropEntriesOfGroup): tombstoned here at revision 0, its agreed revision forgotten, so
 * nothing of it is sent; a record of it that comes again (moved back) fills it in as new.
 */
export function dropEntryLeftReach(db: WriteDb, entryId: number, at: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM replica_base WHERE uid = (SELECT uid FROM entries WHERE id = ?)').run(entryId);
  db.prepare("UPDATE entries SET deleted_at = coalesce(deleted_at, ?), lookup = x'', sealed_summary = x'', sealed_details = x'' WHERE id = ?").run(at, entryId);
  db.prepare('UPDATE entries SET revision = 0 WHERE id = ?').run(entryId);
}

/**
 * The vault sequences applies wrote at (replica-service.ts applyParsed), as ranges `[after, upTo]`
 * not yet behind the sent sequence: a user, group or membership row last written in one, at or
 * below its agreed revision, is a record taken in from elsewhere, never this desktop's change —
 * its sequence alone (above the sent one) said so before, and a managing desktop pushed others'
 * records it had just pulled, signed as its own, one revision up (test/integration/
 * taken-in-not-sent.test.ts). A row the apply keeps changed here goes above its agreed revision
 * (a crossing kept), and a local write after the apply moves its sequence out of every range.
 * Local bookkeeping in settings: sequence numbers only.
 */
const TAKEN_SEQS_KEY = 'replica.taken_seqs';

export type TakenSeqs = ReadonlyArray<readonly [number, number]>;

export function takenSeqs(db: ReadDb): TakenSeqs {
  const text = getSetting(db, TAKEN_SEQS_KEY);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as TakenSeqs) : [];
}

/**
 * An apply wrote the sequences after `after` up to `upTo`: joined to the range before when nothing was written here between.
 * While pushes are refused the sent sequence stays and a range was kept for every apply after a write here (a change, its
 * event): now only what a read of them can tell apart is kept (boundedTakenSeqs), at most one range a user, group or membership row.
 */
export function noteTakenSeqs(db: WriteDb, after: number, upTo: number): void {
  if (upTo <= after) return;
  const all = [...takenSeqs(db)];
  const last = all.at(-1);
  if (last !== undefined && last[1] === after) all[all.length - 1] = [last[0], upTo];
  else all.push([after, upTo]);
  setSetting(db, TAKEN_SEQS_KEY, JSON.stringify(all.length > 1 ? boundedTakenSeqs(all, peopleSeqsBetween(db, all[0]?.[0] ?? 0, upTo)) : all));
}

/** The sequences the user, group and membership rows stand at after `after` up to `upTo`, ascending: the only rows writtenByApply is asked of. */
function peopleSeqsBetween(db: ReadDb, after: number, upTo: number): number[] {
  return db.prepare<[number, number, number, number, number, number], { seq: number }>(
    `SELECT seq FROM users WHERE seq > ? AND seq <= ?
     UNION SELECT seq FROM access_groups WHERE seq > ? AND seq <= ?
     UNION SELECT seq FROM group_keys WHERE seq > ? AND seq <= ? ORDER BY seq`,
  ).all(after, upTo, after, upTo, after, upTo).map((r) => r.seq);
}

/**
 * `ranges` (ascending, apart) as few as give every row the same answer, `people` the sequences user, group and
 * membership rows stand at now: a range no such row stands in is dropped, and two with none between them are
 * joined. A row keeps only its last sequence and a sequence number is handed once, so no row comes to stand at
 * a sequence passed (a later write takes a new one above every range): the answer stays the same for good.
 * Each range kept holds a row, so there are never more ranges than rows.
 */
export function boundedTakenSeqs(ranges: TakenSeqs, people: readonly number[]): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  /** Whether a row stands after `after` up to `upTo` (`people` ascending: the first above `after`, found by halving). */
  const rowIn = (after: number, upTo: number): boolean => {
    let low = 0;
    let high = people.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((people[mid] ?? 0) <= after) low = mid + 1;
      else high = mid;
    }
    return low < people.length && (people[low] ?? 0) <= upTo;
  };
  for (const [after, upTo] of ranges) {
    const last = out.at(-1);
    const rowBetween = last !== undefined && rowIn(last[1], after);
    if (!rowIn(after, upTo)) continue;
    if (last !== undefined && !rowBetween) out[out.length - 1] = [last[0], upTo];
    else out.push([after, upTo]);
  }
  return out;
}

/** Those wholly at or behind the sent sequence `seq` (a batch delivered) are forgotten: no row there is read for sending. */
export function forgetTakenSeqsUpTo(db: WriteDb, seq: number): void {
  const all = takenSeqs(db);
  const kept = all.filter(([, upTo]) => upTo > seq);
  if (kept.length !== all.length) setSetting(db, TAKEN_SEQS_KEY, JSON.stringify(kept));
}

/** Whether a row written at `seq` was written by an apply. */
export function writtenByApply(taken: TakenSeqs, seq: number): boolean {
  return taken.some(([after, upTo]) => seq > after && seq <= upTo);
}

/**
 * Key changes owed (issue #15, docs/SYNC.md "A key change owed"): a signed revoke taken in at the key version this
 * desktop holds of its group, no group record above that version taken in (its rotation never stored: the revoking
 * desktop abandoned, or its rotation never made). The member is cut off on the server; the group keeps the key they
 * held until someone who manages it changes it (team.ts rotateKey). Kept per group: the version held, the member and
 * the revoke's revision. Local bookkeeping in settings under KEY_CHANGES_OWED_KEY, row ids and numbers only.
 */
const KEY_CHANGES_OWED_KEY = 'replica.key_changes_owed';

export interface KeyChangeOwed {
  readonly groupId: number;
  /** The group's key version held here when the revoke was taken in: the one its member held. */
  readonly version: number;
  readonly userId: number;
  readonly revision: number;
}

export function keyChangesOwed(db: ReadDb): KeyChangeOwed[] {
  const text = getSetting(db, KEY_CHANGES_OWED_KEY);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as unknown;
  const isOwed = (o: unknown): o is KeyChangeOwed => typeof o === 'object' && o !== null
    && typeof (o as KeyChangeOwed).groupId === 'number' && typeof (o as KeyChangeOwed).version === 'number'
    && typeof (o as KeyChangeOwed).userId === 'number' && typeof (o as KeyChangeOwed).revision === 'number';
  return Array.isArray(parsed) ? parsed.filter(isOwed) : [];
}

/** Notes the key change owed; one per group and member (the later revoke replaces an earlier one of the pair). */
export function noteKeyChangeOwed(db: WriteDb, owed: KeyChangeOwed): void {
  const all = keyChangesOwed(db).filter((o) => !(o.groupId === owed.groupId && o.userId === owed.userId));
  setSetting(db, KEY_CHANGES_OWED_KEY, JSON.stringify([...all, { groupId: owed.groupId, version: owed.version, userId: owed.userId, revision: owed.revision }]));
}

/**
 * Forgets the key changes owed that are settled: the group here past the version noted (a rotation landed, or made
 * here), gone, or no longer held by `me`, or its member holding the group again (granted back: the key theirs again
 * by right); the rest.
 */
export function forgetKeyChangesSettled(db: WriteDb, me: number): KeyChangeOwed[] {
  const all = keyChangesOwed(db);
  if (all.length === 0) return all;
  const held = db.prepare<[number, number], { key_version: number }>(
    'SELECT g.key_version FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id WHERE gk.group_id = ? AND gk.user_id = ? AND g.deleted_at IS NULL',
  );
  const kept = all.filter((o) => {
    const version = held.get(o.groupId, me)?.key_version;
    return version !== undefined && version <= o.version && held.get(o.groupId, o.userId) === undefined;
  });
  if (kept.length !== all.length) setSetting(db, KEY_CHANGES_OWED_KEY, JSON.stringify(kept));
  return kept;
}
