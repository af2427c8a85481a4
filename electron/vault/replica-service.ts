/**
 * One vault on several desktops: what this replica hands on (its own changes since it last
 * did, as records: shared/sync/records.ts) and how it takes in another's, in one write
 * transaction, all or nothing. The team server will carry the records; two copies of a vault
 * file exchange them directly in the tests. docs/SYNC.md has the rules; in short:
 * - Entry and customer records are signed by their sender (a key of theirs in force here, a
 *   user who is not disabled), who must be allowed what the record does: create, edit or
 *   delete in a group they hold (an HOTP counter that moved is a code, not an edit). A relay
 *   (the team server) can drop or delay a record, never change one.
 * - Unchanged here since last agreed (local revision = agreed): a newer record replaces it.
 *   Changed here too (replica-both-changed.ts): the same content on both is agreed; a change
 *   here or there that says nothing new (an HOTP code, a re-seal) never makes a copy nor undoes
 *   a delete; else the record takes the entry's place and this replica's edit becomes a visible
 *   conflict copy (nothing is lost silently), except when the two differ only in an HOTP
 *   counter. The HOTP counter never goes below either side's. A delete loses to an edit beside it.
 *   Where no copy can be made here (the group's key is not held), the batch is refused.
 * - Entries are opened with the group's key before anything is written (sealed by global id
 *   only; the keyed lookup must be the one their name gives), customers' names with the
 *   directory key (and their keyed index must match); a record that does not hold refuses
 *   the batch (VAULT_TAMPERED). Tombstones carry nothing sealed. The summary pages follow.
 * - Events are chained into this log only when their author's signature holds, the author
 *   is not disabled, and they follow their device's last event (appendReceivedEvent).
 * - A received signing key counts only with an owner's certificate (a first key introducing
 *   itself is trusted only where it was made: until users travel with the team server).
 * - Users, groups and memberships this person may set go out as records too (replica-people.ts):
 *   the team server decides from them who may pull and push what. Taken in here, before the
 *   entries (replica-people-in.ts): role changes and disablings, a group's new key version with
 *   this person's wrap of it (a rotation made elsewhere), a grant to this person, their removal
 *   (from a signed revoked member record only: never a missing wrap), and other members' wraps;
 *   people and groups new here, renames, deletes, this person made or unmade a lead
 *   (replica-people-new.ts: new users before the signing keys that name them). A record naming a
 *   group or user this replica still lacks, or an entry sealed under a group key version it does
 *   not hold, refuses the batch (or is set aside, with `hold`).
 * Must never: write part of a batch, keep a record that did not open, or drop a local edit
 * without a copy of it.
 */
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import { FIELD_LIMITS, type EntrySummary } from '../../shared/model';
import { can, seesOnlyCodes, type Permission, type Role } from '../../shared/policy';
import {
  memberRecordId, recordSigningText, REPLICA_FORMAT, REPLICA_FORMAT_BATCHED, replicaBatchSchema, type Unsigned, replicaRecordSchema, type CustomerRecord, type EntryRecord, type EventRecord, type ReplicaBatch, type ReplicaRecord, type SigningKeyRecord, type UserRecord,
} from '../../shared/sync/records';
import type { HeldScopeKey } from '../../shared/sync/event-v3';
import { batchSigningText, recordBatchSchema, RECORDS_PER_BATCH, type RecordBatch } from '../../shared/sync/record-batches';
import { createHash, hash } from 'node:crypto';
import { openJson, SEAL_FORMAT_AT, SEAL_VERSION } from './crypto';
import type { ReadDb, WriteDb } from './db';
import type { EntriesService } from './entries-service';
import { agreedMember, forgetAgreedMember, forgetRevokedMembersUpTo, forgetStoredRevokes, noteRevokeStored, forgetTakenSeqsUpTo, groupAndUserUids, groupsDeletionWaiting, groupsToRotateAgain, memberStateOf, noteAgreedMembers, noteGroupSentOverDeletion, noteAgreedUser, noteTakenSeqs, setMemberRevisionAtLeast, takenSeqs, usersBetween } from './store-replica-people';
import { pageItem, type PageChanges } from './entry-pages';
import { newUid, uidText } from './ids';
import { contexts, customerIndex, DIRECTORY_WRAP_ANCHORED, entryLookupNormalised, type GroupKey, type KeyRing } from './keys';
import { signBytes, type Signer } from './signing';
import { accountRecord, agreeAllMemberships, peopleRecords, revokesWithTheirRecords, type PeopleSender } from './replica-people';
import { takePeople, type PeopleIntake, type PeopleTaken } from './replica-people-in';
import { takeGroupDeletes } from './replica-people-new';
import { takeNewUsers } from './replica-people-new';
import { agreeSent } from './replica-group-unsent';
import { deletedLeading, deletionSent, judgePutBack } from './replica-group-undelete';
import { bothChangedMove } from './replica-both-changed';
import { GivenWayIntake, givenWayMove } from './replica-given-way';
import { ENTRY_CONTENT_ACTIONS, hasUnsentEntryWrite } from './store-unsent-writes';
import { mayKeepCopy, NOT_COPIED, notCopiedText } from './replica-copy-not-added';
import { droppedText, LEFT_REACH, leaveReach, type LeftReach, type LeftTold } from './replica-left-reach';
import { openKeyRotatedFrom } from './rotated-from-keys';
import { dropRotatedFrom } from './store-rotated-from';
import { verifyAhead, VerifiedSignatures, type SignedTriple } from './replica-verify';
import { restoreEntryIndexes, setAsideEntryIndexes } from './store-bulk-indexes';
import { rolePermissions } from './store-roles';
import { markVaultObjectSent, noteVaultObjectsUpTo, takeVaultObjects, vaultObjectRecords, vaultObjectsUpTo } from './replica-vault-objects';
import { entryWriteNeeds, unheldEntryShape, type EntryShape } from '../../shared/policy-writes';
import { standingAfterMoves } from './replica-moves';
import { listSigningKeys, renewDeviceId, thisDeviceId } from './store-signing';
import { foldUnsentCustomer, isUnsentCustomer } from './replica-customer-fold';
import { goOverSquattedCustomer } from './replica-customer-squatted';
import { anyDirectoryWrapAtLeast, getUser, listUsers } from './store-users';
import { disabledUsers, eventsNotSent, noteEventsNotSent, type EventsLeftOut, type EventsNotSent } from './store-events-not-sent';
import { mayHaveHeldGroup, mayHaveWritten } from './event-author';
import { openDetails, openSummary, storedOtp, type SealedDetails, type SealedSummary } from './sealed-entry';
import { appendReceivedEvent, closeV1ChainStarts, eventSigningBytes, leaveOldDevice, moveAuditHeadToLast, signingKeysInForce, signsEventsV3, startSigningEventsV3, type AuditFields, type OldDeviceLeft } from './store-audit';
import { noteDevicesOffered } from './store-device';
import { eventRecordSigningText, eventTextV3, isV3, recordV3Columns, type ScopeKeySource } from './audit-event-texts';
import { scopeKeysOwedHere } from './scope-key-history';
import type { CustomerNames } from './customer-names';
import { currentSequence } from './store-changes';
import { deletedGroupIds, getGroupRow } from './store-groups';
import { deleteEntryRow, type EntryRow } from './store-entries';
import { getMeta, setMeta } from './store-meta';
import { eventsSentSeq, setEventsSentSeq } from './store-events-sent';
import { editAheadIn, forgetEditAhead, noteEditsAhead } from './store-edits-ahead';
import { historyCursor, setHistoryCursor, type HistoryCursor } from './store-history';
import {
  allPushing, beginRecordSavepoint, exchangedCount, holdsGroupKey, releaseRecordSavepoint, rollBackRecordSavepoint, customerByNameIndex, customerByUid, customersBetween, customersHeldBack, heldRecordOf, insertNamedOnlyCustomer, insertNamedOnlyEntry, insertReplicaEntryOverNamed, isNamedOnlyCustomer, isNamedOnlyEntry, takeCustomerOverNamed, donePushing, dropHeld, notePushing, pushingOf, entriesBetween, entryByUid, entryUidsHeld, hasEvent, idByUid, insertReplicaCustomer, listHeld, putHeld,
  insertAgreedEntry, insertReplicaSigningKey, overwriteReplicaEntry, replicaIsEmpty, ownEventsBetween, pulledSeq, replicaBase, sentSeq, setPulledSeq, setReplicaBase, setRevision, setSentSeq,
  signedEventsBetween, signingKeysBetween, groupsOwedWhole, entriesToSettle,
  updateReplicaCustomer, type EntryReplicaRow, type HeldRow,
} from './store-replica';

/** What the replica operations need of a signed-in session. */
export interface ReplicaCore {
  readonly ring: KeyRing;
  readonly pages: PageChanges;
  readonly customers: CustomerNames;
  readonly entries: EntriesService;
  /** The signed-in person's user row id. */
  userId(): number;
  now(): number;
  /** One read transaction through the session's store (store.ts): `work` never awaits. */
  read<T>(work: (db: ReadDb) => T): Promise<T>;
  /** One write transaction through the session's write path (store.ts): `work` never awaits. */
  write<T>(work: (db: WriteDb) => T): Promise<T>;
  audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void;
  /** LOCKED when the session is locked (its user read again), inside the work it guards. */
  requireOpen(db: ReadDb): void;
  /** This desktop's revokes made again in groups it gave way in (team.ts rotateAgain): its own write transaction. */
  rotateAgain(): Promise<number>;
  /** The revokes rotateAgain could not make, or whose rotation was undone here, still standing (team.ts revokesUnmadeTold): its own write transaction. */
  revokesUnmade(): Promise<RevokeUnmadeTold[]>;
  /** This desktop's revokes not yet wholly on the server, named (team.ts revokesWaitingTold). */
  revokesWaiting(): Promise<RevokeWaiting[]>;
  /** Key changes owed in groups this person manages, still standing (team.ts keyChangesOwedTold): its own write transaction. */
  keyChangesOwed(): Promise<KeyChangeOwedTold[]>;
}

/**
 * A revoke of this desktop's that it may no longer make (its person no longer manages the group): `undone` when its own
 * rotation was dropped here for the version the server holds (replica-own-key.ts giveWayToHeld), else given way to
 * another rotation kept first and not made again (team.ts rotateAgain).
 */
export interface RevokeUnmadeTold {
  readonly member: string;
  readonly group: string;
  readonly undone: boolean;
  /** The revoke was stored (its member cut off on the server), its key change undone: the group keeps the key they held. */
  readonly keyKept?: boolean;
}

/** A key change owed in a group this person manages (team.ts keyChangesOwedTold): its member cut off on the server, the key they held kept. */
export interface KeyChangeOwedTold {
  readonly member: string;
  readonly group: string;
}

/** A revoke of this desktop's whose push has not ended: its record stored already (the member cut off), or not yet. */
export interface RevokeWaiting {
  readonly member: string;
  readonly group: string;
  readonly stored: boolean;
  /** The server never held them in the group (the group or the user new to it): the removal waits, but cuts nobody off there. */
  readonly neverHeld: boolean;
}

/** What this replica's changes are, up to which sequence (hand it back to markSent once delivered). */
export interface Outgoing {
  readonly batch: ReplicaBatch;
  readonly upToSeq: number;
  /**
   * This device's events are handed on up to here (store-events-sent.ts; upToSeq when absent): past
   * the changes kept here unsent, up to the first event naming a customer or entry never sent.
   */
  readonly eventsUpToSeq?: number;
  /** This device's chain from its first event of an author disabled here, left out of a push to the server (store-events-not-sent.ts). */
  readonly eventsLeftOut?: EventsLeftOut;
  /**
   * Changes of entries made here this batch leaves out, kept here unsent (Sender.whyNotVouch), by
   * why: what the person's role lacks now, or 'group'. The changes after them still go (task 15).
   */
  readonly setAside?: ReadonlyArray<{ readonly why: Permission | 'group'; readonly count: number }>;
  /**
   * Customers made here that cannot join the team's of their name (store-replica.ts customersHeldBack),
   * left out with their entries, kept here unsent: each with its name, the set-aside record's reason
   * and how many of its entries' changes wait with it. The rest still goes (hostile review of C1).
   */
  readonly customersHeldBack?: ReadonlyArray<{ readonly name: string; readonly reason: string; readonly entries: number }>;
  /**
   * Changes of entries in groups whose deletion from elsewhere waits here (store-replica-people.ts
   * groupsDeletionWaiting), left out when asked (the server refused them): how many. The rest still goes.
   */
  readonly deletionWaiting?: number;
  /**
   * Revokes of this batch whose group or user the server never stored, by record id: they go with the records that
   * bring them, never ahead of their rotation (replica-people.ts revokesWithTheirRecords, electron/team/sync.ts partsOf).
   */
  readonly revokesWithTheirRecords?: ReadonlySet<string>;
}

export interface ApplyOutcome {
  readonly applied: number;
  /** Records this replica already held (or had moved past). */
  readonly unchanged: number;
  /**
   * Of those, entries whose sealed bytes equal this replica's own, byte for byte: only a server
   * given this vault's records can hand them (sync.ts binds an unbound replica to it so).
   */
  readonly recognised: number;
  /** Entries both sides changed: each local version kept as a copy, by the copy's summary. */
  readonly conflictCopies: readonly EntrySummary[];
  /** Of those, local versions dropped instead, told and audited: the person's role may not add entries, so no copy could go (replica-copy-not-added.ts). */
  readonly copiesNotAdded: number;
  /** HOTP counters merged (the highest kept). */
  readonly countersMerged: number;
  /** Records set aside (with `hold`): why each could not be taken in. */
  /** `revision`: the set-aside record's, where it has one (a customer's or entry's): the version refused, or waiting. */
  readonly held: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly reason: string; readonly revision?: number }>;
  /** Groups this person was removed from (their key, pages and entries dropped here), with the unsent edits made here in each. */
  readonly accessRemoved: ReadonlyArray<{ readonly group: string; readonly droppedEdits: number }>;
  /** Groups held here that a record from elsewhere deleted, named as this desktop knew them, with the unsent changes made here in each, dropped (C7). */
  readonly groupDeleted: ReadonlyArray<{ readonly group: string; readonly droppedChanges: number }>;
  /** People whose change made here, not yet sent, a record from elsewhere crossed: what was kept of each side (audited as user.crossed). */
  readonly crossed: ReadonlyArray<{ readonly user: string; readonly detail: string }>;
  /**
   * Changes of groups made here and not sent that this person may no longer send (replica-group-unsent.ts: a rename,
   * no longer managing the group; the server codes setting, no longer an owner or admin), dropped, the group as the
   * team holds it: its name as shown now, what the change was and why, audited once as group.change_unmade.
   */
  readonly groupChangesUnmade: ReadonlyArray<{ readonly group: string; readonly change: string; readonly why: string }>;
  /** Events taken redacted whose earlier-rule tag matched a key of a group held (audit-event-texts.ts V3Verdict): the server may have withheld them, told. */
  readonly mayBeWithheld: readonly string[];
  /**
   * Customers made here that went over a record of their name whose name does not open here or is
   * not its index's (replica-customer-squatted.ts): who sent that record and why it was refused, told.
   */
  readonly customersWentOver: ReadonlyArray<{ readonly by: string; readonly why: string }>;
}

export interface ApplyOptions {
  /** The team server's sequence the batch reaches, kept in the same transaction. */
  readonly pulledUpTo?: number;
  /** Set aside what this replica refuses or cannot take yet, rather than refusing the batch (apply). */
  readonly hold?: boolean;
  /**
   * Signatures checked already (checkAhead, started while an earlier page was being written).
   * A memo only: whatever it does not vouch for is verified in the write transaction.
   */
  readonly checked?: VerifiedSignatures;
  /**
   * The batch reaches the team server's head (a pull's last page). Says nothing of removals (the
   * server alone decides it): a removal is a signed revoked member record (replica-people-in.ts).
   */
  readonly caughtUp?: boolean;
  /**
   * A first sync's snapshot page (firstSync), taken into a replica that held no entry when it
   * began: an entry not held here is checked as ever (signature, sender allowed, key version,
   * opened, keyed lookup) and then inserted at its revision, agreed, without the reads that
   * judge a change against a local version (there is none) and without a savepoint (nothing is
   * written before its checks pass; one that fails is set aside, with `hold`, as ever).
   */
  readonly fresh?: boolean;
  /**
   * Where the audit history still to take in stands after this batch (first-sync.ts), kept in
   * the same transaction as what it took: null once the history is all here.
   */
  readonly history?: HistoryCursor | null;
  /**
   * A first sync's page with more to come (with `fresh`): the entries' secondary indexes are set
   * aside until its last page (store-bulk-indexes.ts). Any apply without it makes them again first.
   */
  readonly setAsideIndexes?: boolean;
  /**
   * Records of the same page that do not fit the contract's shape (electron/team/snapshot-page.ts:
   * stored on the server before a rule of it), set aside here in the same transaction with their
   * reason (`hold`), never taken in; told in `held`.
   */
  readonly unfit?: ReadonlyArray<{ readonly id: string; readonly body: string; readonly reason: string }>;
  /**
   * The signed records that moved the page's entries, the last few kept (a pull's `moves`,
   * schema 31): an entry's record is judged from where those that hold put it (replica-moves.ts).
   */
  readonly moves?: readonly EntryRecord[];
}

/** How far past what this replica holds a record's revision may be: a revision out of reach would freeze the entry. */
const MAX_REVISION_STEP = 1_000_000;
/** How many HOTP codes may be taken between two syncs as "codes", not an edit of the counter. */
const MAX_COUNTER_STEP = 1_000;

const b64 = (bytes: Buffer): string => bytes.toString('base64url');
const bin = (text: string): Buffer => Buffer.from(text, 'base64url');
const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function vaultId(db: ReadDb): string {
  const id = getMeta(db, 'vault_id');
  if (id === undefined) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: it has no id.');
  return id;
}

const REFUSED = 'A received record ';

/** The keyed name index a set-aside customer record's body carries (store-replica.ts customersHeldBack reads it the same way). */
function heldNameIndex(body: string): Buffer | undefined {
  try {
    const record = JSON.parse(body) as { readonly kind?: unknown; readonly nameIndex?: unknown };
    return record.kind === 'customer' && typeof record.nameIndex === 'string' ? Buffer.from(record.nameIndex, 'base64url') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a customer record is set aside when all that keeps it out is its sender's role (neither `entries.create`
 * nor `entries.edit`): its signature held, its name opened and was its index's (takeCustomer). Only such a
 * customer is held as a tombstone an event names (namedOnlyCustomer).
 */
const MAY_NOT_ADD_CUSTOMER = 'adds a customer its sender may not';

function tampered(why: string): CrewvaultError {
  return new CrewvaultError('VAULT_TAMPERED', `${REFUSED}${why}: nothing was applied.`);
}

/**
 * Whether a reason a record was set aside for is a refusal (VAULT_TAMPERED: its sender may not do
 * what it does, it does not hold under their signature or does not open), which no later sync
 * undoes; not a key, group or user still to come (CONFLICT).
 */
export function isRefusal(reason: string): boolean {
  return reason.startsWith(REFUSED);
}

/** Who sends: the signed-in person, by global id, the key they sign records with, and whether they may vouch for an entry's change. */
interface Sender {
  readonly userUid: string;
  readonly signer: Signer;
  /**
   * Why this person may not vouch for an entry's change made here (the permission their role lacks
   * now, 'group': a group they do not hold, or 'counter': an HOTP counter moved by a code a
   * codes-only person took, never sent and not told), or undefined when they may. Such a change is
   * left for when they may, or for someone who may (the sent mark stops before it, so it is not skipped for good).
   */
  readonly whyNotVouch: (entry: EntryReplicaRow, base: number) => Permission | 'group' | 'counter' | 'deleted' | undefined;
}

/** What identifies a record's content: its sealed parts (fresh nonces make every seal unique) and whether it is a tombstone. */
function contentDigest(record: CustomerRecord | EntryRecord): Buffer {
  const parts = record.kind === 'customer' ? [record.sealedName, record.nameIndex] : [record.sealedSummary, record.sealedDetails, String(record.deletedAt)];
  return createHash('sha256').update(JSON.stringify([record.kind, record.id, record.revision, ...parts]), 'utf8').digest();
}

/** What an event of this device's push is recognised by when it comes back: its id and signature. */
function eventDigest(record: EventRecord): Buffer {
  return createHash('sha256').update(JSON.stringify([record.kind, record.id, record.signature]), 'utf8').digest();
}

function signText(text: string, sender: Sender): string {
  return b64(signBytes(sender.signer.privateKey, Buffer.from(text, 'utf8')));
}

/** SHA-256 of a record's signing text (UTF-8), base64url: what a batch lists at the record's index. One-shot: a first sync digests every entry. */
function recordDigest(signingText: string): string {
  return hash('sha256', signingText, 'base64url');
}

/**
 * Customer and entry records vouched for by batches (record format 2, shared/sync/record-batches.ts):
 * RECORDS_PER_BATCH records a batch, each naming its batch and index, one signature a batch.
 */
export function signInBatches(
  vault: string, unsigned: ReadonlyArray<Unsigned<CustomerRecord | EntryRecord>>, sender: Sender, atMs: number,
): { readonly records: Array<CustomerRecord | EntryRecord>; readonly batches: RecordBatch[] } {
  const records: Array<CustomerRecord | EntryRecord> = [];
  const batches: RecordBatch[] = [];
  for (let start = 0; start < unsigned.length; start += RECORDS_PER_BATCH) {
    const part = unsigned.slice(start, start + RECORDS_PER_BATCH);
    const id = uidText(newUid(atMs));
    const head = { id, author: sender.userUid, signerKey: uidText(sender.signer.keyUid), digests: part.map((r) => recordDigest(recordSigningText(vault, r))) };
    batches.push({ ...head, signature: signText(batchSigningText(vault, head), sender) });
    part.forEach((r, index) => records.push({ ...r, batch: id, index }));
  }
  return { records, batches };
}

/**
 * Records made here since the last batch handed on, signed by `sender`: own changes only (what
 * came from others is theirs to send). `everything`: the whole vault, as new to the other side
 * (base 0), with every signed event of its history — a vault moved onto a team server.
 */
/** Outgoing as the file alone gives it: a customer held back by its row id (its name needs the session's directory key). */
type OutgoingByRow = Omit<Outgoing, 'customersHeldBack'> & { readonly customersHeldBack?: ReadonlyArray<{ readonly customerId: number; readonly reason: string; readonly entries: number }> };

export function outgoing(db: ReadDb, sender: Sender, everything = false, toServer = false): OutgoingByRow {
  const from = everything ? 0 : sentSeq(db);
  const upToSeq = currentSequence(db);
  const by = { author: sender.userUid, signerKey: uidText(sender.signer.keyUid) };
  const vault = vaultId(db);
  const records: ReplicaRecord[] = [];
  const keyRecord = (key: ReturnType<typeof signingKeysBetween>[number]): ReplicaRecord => ({
    kind: 'signing_key', id: uidText(key.uid), user: uidText(key.user_uid), publicKey: b64(key.public_key), createdAt: key.created_at,
    certifiedBy: key.certifier_uid ? uidText(key.certifier_uid) : null, certificate: key.certificate ? b64(key.certificate) : null, binding: key.binding ? b64(key.binding) : null,
  });
  // The team server checks every signature (server/sync/verify.ts): every push to it carries the
  // key this person signs with (stored once; one that introduces itself is taken from their own
  // account), and a move carries every key, the events it hands on being signed by everyone's.
  const own = uidText(sender.signer.keyUid);
  if (toServer && !everything) {
    const mine = signingKeysBetween(db, 0, upToSeq).find((k) => uidText(k.uid) === own);
    if (mine !== undefined) records.push(keyRecord(mine));
  }
  // Every key new here since the last batch, made here or received (a third desktop may lack
  // one): a receiver that has it already skips it.
  for (const key of signingKeysBetween(db, from, upToSeq)) {
    // A key that introduces itself counts only where it was made: no other replica takes it.
    if (key.certifier_uid === null && !(toServer && everything)) continue;
    if (toServer && !everything && uidText(key.uid) === own) continue; // sent above
    records.push(keyRecord(key));
  }
  const vouched: Array<Unsigned<CustomerRecord | EntryRecord>> = [];
  let until = upToSeq;
  // A customer made here that the team's record of its name keeps out (the server names that record as the
  // conflict of every push adding ours) stays here with its entries, the sent mark before it, so the rest goes.
  const heldBack = toServer && !everything ? customersHeldBack(db) : new Map<string, { readonly reason: string; readonly seq: number }>();
  const heldBackEntries = new Map<string, number>();
  /**
   * Customers held back and their entries never sent (agreed revision 0): an event naming one waits with it, so that
   * replica-customer-fold.ts may sign it again under the team's customer. An entry never sent for any other reason
   * (its maker's role may not add it now) holds back no event: receivers take an event naming an entry they lack (#15,
   * replica-service.ts namedOnlyEntry).
   */
  const waitsWithCustomer = new Set<string>();
  /** The row id of each customer held back, by global id: its name is opened by the session (ReplicaService.outgoingNow). */
  const heldBackIds = new Map<string, number>();
  for (const c of customersBetween(db, from, upToSeq)) {
    const base = everything ? 0 : replicaBase(db, c.uid);
    if (c.revision === base) continue;
    const back = heldBack.get(uidText(c.uid));
    if (back !== undefined) {
      until = Math.min(until, back.seq - 1);
      waitsWithCustomer.add(c.uid.toString('hex'));
      heldBackEntries.set(uidText(c.uid), 0);
      heldBackIds.set(uidText(c.uid), c.id);
      continue;
    }
    vouched.push({ kind: 'customer', id: uidText(c.uid), revision: c.revision, base, sealedName: b64(c.sealed_name), nameIndex: b64(c.name_index), createdAt: c.created_at, ...by });
  }
  const setAside = new Map<Permission | 'group', number>();
  let deletionWaiting = 0;
  for (const e of entriesBetween(db, from, upToSeq)) {
    const base = everything ? 0 : replicaBase(db, e.uid);
    if (e.revision === base) continue;
    const waiting = heldBackEntries.get(uidText(e.customer_uid));
    if (waiting !== undefined) {
      until = Math.min(until, e.seq - 1);
      if (base === 0) waitsWithCustomer.add(e.uid.toString('hex'));
      heldBackEntries.set(uidText(e.customer_uid), waiting + 1);
      continue;
    }
    const why = sender.whyNotVouch(e, base);
    if (why !== undefined) {
      // A change this person may not vouch for now (their role narrowed since they made it, or someone
      // else's on this desktop): the sent mark stops before it, so it is kept and goes once they may.
      // The entries after it still go (task 15: one change never holds back the rest); already agreed
      // when the window is read again, they are skipped there (revision equal to base), as customers are.
      // This device's events go on (their own mark, store-events-sent.ts), those naming it too, a new entry
      // the team was never sent included: every receiver takes such an event (namedOnlyEntry), so the
      // events after it are no longer held back with it (#15: a technician's reveals never reached the owner).
      until = Math.min(until, e.seq - 1);
      if (why === 'deleted') deletionWaiting++;
      else if (why !== 'counter') setAside.set(why, (setAside.get(why) ?? 0) + 1);
      continue;
    }
    const record: Unsigned<EntryRecord> = {
      kind: 'entry', id: uidText(e.uid), revision: e.revision, base, customer: uidText(e.customer_uid), group: uidText(e.group_uid), keyVersion: e.key_version,
      lookup: b64(e.lookup), sealedSummary: b64(e.sealed_summary), sealedDetails: b64(e.sealed_details), createdAt: e.created_at, updatedAt: e.updated_at, deletedAt: e.deleted_at, ...by,
    };
    vouched.push(record);
  }
  // Customers and entries signed in batches (record format 2): one signature a batch, not one a record.
  const { records: batchedRecords, batches } = signInBatches(vault, vouched, sender, Date.now());
  records.push(...batchedRecords);
  const device = thisDeviceId(db);
  // This device's events from their own mark (store-events-sent.ts), not held back by a change kept here: a code
  // taken or a password read after it reaches the team, and an event naming a new entry kept here (receivers take it:
  // namedOnlyEntry). They stop before the first naming a customer held back or an entry of it, so that
  // replica-customer-fold.ts may sign them again under the team's customer (a receiver lacks that customer too).
  const read = everything ? signedEventsBetween(db, 0, until) : device ? ownEventsBetween(db, device, eventsSentSeq(db), upToSeq) : [];
  const waits = everything ? -1 : read.findIndex((a) => [a.entry_uid, a.customer_uid].some((uid) => uid !== null && waitsWithCustomer.has(uid.toString('hex'))));
  const gathered = waits < 0 ? read : read.slice(0, waits);
  const eventsUpToSeq = everything ? until : (read[waits]?.seq ?? upToSeq + 1) - 1;
  // The server refuses a push carrying an event of a person disabled in the vault, whole (a desktop two people share):
  // this device's chain goes up to its first such event; that one and the rest, linking through it, are left out and
  // noted once the push is stored (store-events-not-sent.ts). The move carries every author's.
  const disabled = toServer && !everything ? disabledUsers(db) : new Map<string, string>();
  const stop = gathered.findIndex((a) => a.actor_uid !== null && disabled.has(a.actor_uid.toString('hex')));
  const events = stop < 0 ? gathered : gathered.slice(0, stop);
  const leftOut = gathered[stop];
  const eventsLeftOut: EventsLeftOut | undefined = leftOut === undefined || leftOut.device_id === null ? undefined : {
    device: leftOut.device_id, from: leftOut.uid,
    authors: [...new Set(gathered.slice(stop).flatMap((a) => { const name = a.actor_uid === null ? undefined : disabled.get(a.actor_uid.toString('hex')); return name === undefined ? [] : [name]; }))],
  };
  for (const a of events) {
    records.push({
      kind: 'event', id: uidText(a.uid), at: a.at, actor: a.actor_uid ? uidText(a.actor_uid) : null, action: a.action, subject: a.subject,
      entry: a.entry_uid ? uidText(a.entry_uid) : null, customer: a.customer_uid ? uidText(a.customer_uid) : null, group: a.group_uid ? uidText(a.group_uid) : null,
      sealedDetail: a.sealed_detail ? b64(a.sealed_detail) : null, device: a.device_id ? b64(a.device_id) : null, devicePrev: a.device_prev ? b64(a.device_prev) : null,
      signerKey: a.signer_uid ? uidText(a.signer_uid) : null, signature: a.signature ? b64(a.signature) : null,
      // A v3 event (schema 21) goes whole: its scope and its body's salt (a redacted one, held only by a member, is never this device's own).
      ...(a.scope === null ? {} : { scope: a.scope.toString('hex') }), ...(a.body_salt === null ? {} : { bodySalt: a.body_salt.toString('hex') }),
      ...(a.body_digest === null ? {} : { bodyDigest: a.body_digest.toString('hex') }),
    });
  }
  if (toServer && !everything) {
    // Another person's events written on this file (two people sign in on one desktop) are signed
    // with their key, which may introduce itself: the server checks each event under its actor's
    // key, so the key goes with them (the server takes such a key from an owner's account or its
    // own person's). A key the server holds already is skipped there.
    const sent = new Set(records.flatMap((r) => (r.kind === 'signing_key' ? [r.id] : [])));
    const signers = new Set(events.flatMap((a) => (a.signer_uid ? [uidText(a.signer_uid)] : [])));
    for (const key of signingKeysBetween(db, 0, upToSeq)) {
      const id = uidText(key.uid);
      if (signers.has(id) && !sent.has(id)) records.push(keyRecord(key));
    }
  }
  return {
    batch: batches.length > 0 ? { format: REPLICA_FORMAT_BATCHED, vault, records, batches } : { format: REPLICA_FORMAT, vault, records }, upToSeq: until, eventsUpToSeq,
    ...(eventsLeftOut === undefined ? {} : { eventsLeftOut }),
    ...(setAside.size === 0 ? {} : { setAside: [...setAside].map(([why, count]) => ({ why, count })) }),
    ...(deletionWaiting === 0 ? {} : { deletionWaiting }),
    ...(heldBackEntries.size === 0 ? {} : { customersHeldBack: [...heldBackEntries].map(([uid, entries]) => ({ customerId: heldBackIds.get(uid) ?? 0, reason: heldBack.get(uid)?.reason ?? '', entries })) }),
  };
}

/**
 * What a push gathered names each object once (the server refuses a push naming one twice, whole,
 * and would for every later sync: 0933ba3 found a membership sent both live and revoked). A second
 * record of one id is this desktop's own fault, so it is said here, before anything leaves,
 * naming the kind and id (global ids: nothing secret); tests meet it as a failed sync.
 */
export function requireEachOnce(records: readonly ReplicaRecord[]): void {
  const seen = new Map<string, string>();
  for (const r of records) {
    const before = seen.get(r.id);
    if (before !== undefined) throw new CrewvaultError('INTERNAL', `This desktop gathered ${r.id} twice to push (as ${before} and as ${r.kind}): nothing was sent.`);
    seen.set(r.id, r.kind);
  }
}

/** A revoke's record stored: its note here says so (store-replica-people.ts noteRevokeStored). */
function noteStoredRevoke(db: WriteDb, record: { readonly group: string; readonly user: string; readonly revision: number }): void {
  const groupId = idByUid(db, 'access_groups', uidBytes(record.group));
  const userId = idByUid(db, 'users', uidBytes(record.user));
  if (groupId !== undefined && userId !== undefined) noteRevokeStored(db, groupId, userId, record.revision);
}

/** The batch was delivered: what it carried is agreed, and the next starts after `upToSeq` (-1: a part of a batch, which moves nothing yet). */
export function markSent(db: WriteDb, sent: Outgoing): void {
  const agreedMembers: Array<{ readonly id: Buffer; readonly state: ReturnType<typeof memberStateOf> }> = [];
  // Groups whose deletion from elsewhere waits here (set aside: an agreed entry still stands in one here, or a deletion
  // the server played back): their record still goes (kept back, the sent mark before it, a revoke's rotation never
  // reached a server holding the group live, and every later event of this device stayed here while the deletion
  // waited, for good when it never cleared: hostile review of 7106f89). A server holding the group deleted stores it as
  // nothing; the revision agreed before it is kept, so the deletion taken at last is not read as older than it.
  const deletionWaiting = new Set([...groupsDeletionWaiting(db)].flatMap((id) => { const row = getGroupRow(db, id); return row === undefined ? [] : [uidText(row.uid)]; }));
  for (const record of sent.batch.records) {
    // A membership's revision agreed too: its next record here goes above it (replica-people.ts).
    if (record.kind === 'member' && record.revision >= replicaBase(db, uidBytes(record.id))) {
      setReplicaBase(db, uidBytes(record.id), record.revision);
      // What it said, agreed: a member record from elsewhere crossing a later change here is judged against it (replica-people-in.ts takeCrossing).
      if (record.revoked) forgetAgreedMember(db, uidBytes(record.id));
      // Stored in a part ahead of its rotation's: not sent again with the parts still to go (replica-people.ts).
      if (record.revoked) noteStoredRevoke(db, record);
      else agreedMembers.push({ id: uidBytes(record.id), state: memberStateOf(record) });
      // Sent above the row's own revision (agreed + 1): the row goes there too, or its next change here would look agreed.
      if (!record.revoked) setMemberRevisionAtLeast(db, uidBytes(record.group), uidBytes(record.user), record.keyVersion, record.revision);
    }
    // A user's too (review round ten hole 2): a record of them from elsewhere is then judged against
    // what the server holds from here, and a change made here since is known as not yet sent.
    if (record.kind === 'user' && record.revision >= replicaBase(db, uidBytes(record.id))) {
      setReplicaBase(db, uidBytes(record.id), record.revision);
      noteAgreedUser(db, uidBytes(record.id), { role: record.role, disabled: record.disabledAt !== null });
    }
    // A group's too: an apply that writes its row after this (a record from elsewhere at the same revision) leaves it agreed, not changed here.
    if (record.kind === 'group' && record.deletedAt === null && deletionWaiting.has(record.id)) noteGroupSentOverDeletion(db, uidBytes(record.id), replicaBase(db, uidBytes(record.id)));
    if (record.kind === 'group' && record.revision >= replicaBase(db, uidBytes(record.id))) {
      setReplicaBase(db, uidBytes(record.id), record.revision);
      // Its name and setting, stored, are what the team holds (a later part of the push lost, the sent mark unmoved): a
      // person unmade before their next push goes back to these, never to what the change replaced (replica-group-unsent.ts).
      if (record.deletedAt === null) agreeSent(db, record);
      else deletionSent(db, record);
    }
    markVaultObjectSent(db, record);
    if (record.kind === 'event') donePushing(db, record.id);
    if (record.kind !== 'customer' && record.kind !== 'entry') continue;
    setReplicaBase(db, uidBytes(record.id), record.revision);
    donePushing(db, record.id);
  }
  // One settings row a membership (store-replica-people.ts noteAgreedMembers).
  noteAgreedMembers(db, agreedMembers);
  if (sent.upToSeq >= 0) {
    setSentSeq(db, sent.upToSeq);
    setEventsSentSeq(db, sent.eventsUpToSeq ?? sent.upToSeq);
    forgetRevokedMembersUpTo(db, sent.upToSeq);
    // People records go up to the current sequence whatever the sent mark stops at (withPeople): the ones this push carried are stored.
    forgetStoredRevokes(db);
    forgetTakenSeqsUpTo(db, sent.upToSeq);
  }
}

/**
 * Everything here as agreed, and this copy a device of its own: for a vault file copied to
 * start another replica, run on both copies before either changes anything (the team server
 * does this for a first sync). Refused once anything was exchanged: it would mark unsent
 * changes as agreed, and they would never be sent.
 */
export function markAllAgreed(db: WriteDb): number {
  if (exchangedCount(db) > 0) throw new CrewvaultError('CONFLICT', 'This vault has exchanged changes with another already: marking everything agreed would lose what it has not sent.');
  let marked = 0;
  for (const c of customersBetween(db, 0, Number.MAX_SAFE_INTEGER)) { setReplicaBase(db, c.uid, c.revision); marked++; }
  for (const e of entriesBetween(db, 0, Number.MAX_SAFE_INTEGER)) { setReplicaBase(db, e.uid, e.revision); marked++; }
  // People as they are, agreed: a user's later change here is one not yet sent (replica-people-in.ts takeUser).
  for (const u of usersBetween(db, 0, Number.MAX_SAFE_INTEGER)) {
    setReplicaBase(db, u.uid, Math.max(u.revision, replicaBase(db, u.uid)));
    noteAgreedUser(db, u.uid, { role: u.role, disabled: u.disabled_at !== null });
  }
  agreeAllMemberships(db);
  // Two copies sharing a device id would fork that device's chain of events.
  renewDeviceId(db);
  // What was sent stays where it was: this device's events since then still go (each device's
  // chain must reach the other side whole), and a receiver skips those it already holds.
  setSentSeq(db, 0);
  setEventsSentSeq(db, 0);
  return marked;
}

/** Entry fields equal but for the HOTP counter (which then only moves forward). */
function onlyCounterDiffers(a: SealedDetails, b: SealedDetails, as: SealedSummary, bs: SealedSummary): boolean {
  return sameHotpKey(a, b) && a.p === b.p && a.n === b.n
    && as.t === bs.t && as.u === bs.u && as.l === bs.l && as.o === bs.o && as.c === bs.c;
}

/** Both HOTP with the same key and settings (issuer included): only their counters may differ. */
function sameHotpKey(a: SealedDetails, b: SealedDetails): boolean {
  if (a.otp?.kind !== 'hotp' || b.otp?.kind !== 'hotp') return false;
  return canonical({ ...a.otp, counter: 0 }) === canonical({ ...b.otp, counter: 0 });
}

/** A sealed value's JSON with its keys in order (two desktops' sealings of one content compare equal). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
}

interface Tally {
  applied: number;
  unchanged: number;
  recognised: number;
  countersMerged: number;
  readonly conflictCopies: EntrySummary[];
  copiesNotAdded: number;
  readonly held: Array<{ readonly id: string; readonly kind: string; readonly reason: string; readonly revision?: number }>;
  readonly accessRemoved: Array<{ readonly group: string; readonly droppedEdits: number }>;
  readonly groupDeleted: Array<{ readonly group: string; readonly droppedChanges: number }>;
  readonly crossed: Array<{ readonly user: string; readonly detail: string }>;
  readonly groupChangesUnmade: Array<{ readonly group: string; readonly change: string; readonly why: string }>;
  readonly mayBeWithheld: string[];
  readonly customersWentOver: Array<{ readonly by: string; readonly why: string }>;
}

/** A record set aside earlier, as it came (parsed again: the table is this file's, and files can be edited). */
function heldRecord(row: HeldRow): ReplicaRecord[] {
  try {
    const body = JSON.parse(row.body) as Record<string, unknown>;
    delete body.heldBatch; // the batch it was held with (heldBatch below), not part of the record
    const parsed = replicaRecordSchema.safeParse(body);
    return parsed.success ? [parsed.data] : [];
  } catch {
    return [];
  }
}

/** A record as set aside: with the batch that vouches for it (format 2), so it can be tried again without the batch coming twice. */
function heldBody(r: ReplicaRecord, batches: ReadonlyMap<string, RecordBatch>): string {
  const vouching = (r.kind === 'customer' || r.kind === 'entry') && r.batch !== undefined ? batches.get(r.batch) : undefined;
  return JSON.stringify(vouching === undefined ? r : { ...r, heldBatch: vouching });
}

/** The signed batch a set-aside record of format 2 was held with (checked again when it is tried again). */
function heldBatch(row: HeldRow): RecordBatch[] {
  try {
    const parsed = recordBatchSchema.safeParse((JSON.parse(row.body) as Record<string, unknown>).heldBatch);
    return parsed.success ? [parsed.data] : [];
  } catch {
    return [];
  }
}

/** A record's sender as this vault knows them: their row, role and what the role may do. */
interface Author {
  readonly id: number;
  readonly permissions: readonly Permission[];
  readonly role: Role;
}

/** The moves a pull handed with its page's entries (ApplyOptions.moves), and how each one's author is vouched for. */
interface MovesHanded {
  readonly of: (entryId: string) => readonly EntryRecord[];
  readonly vouched: (move: EntryRecord) => Author;
}

/** meta key of the team server's history mark this replica holds, and the cursor it is for (historyMark). */
const HISTORY_MARK_META = 'team_server_history_mark';

/** A team server's history mark (server/store/history-marks.ts): the sequence it was written at and its value. */
export interface HistoryMark {
  readonly seq: number;
  readonly value: string;
}

/** The kept mark, or undefined when none is kept or it does not read as one. */
function readHistoryMark(text: string | undefined): { readonly at: number; readonly seq: number; readonly value: string } | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { at, seq, value: mark } = value as { at?: unknown; seq?: unknown; value?: unknown };
    return Number.isSafeInteger(at) && Number.isSafeInteger(seq) && typeof mark === 'string' ? { at: at as number, seq: seq as number, value: mark } : undefined;
  } catch {
    return undefined;
  }
}

/** meta key of the team server this vault syncs with (teamServer). */
const TEAM_SERVER_META = 'team_server';

/** A team server as a vault is bound to it: its OPAQUE static key (its identity) and the origin it was reached at (for messages). */
export interface TeamServerBinding {
  readonly key: string;
  readonly origin: string;
}

/** The stored binding, or undefined when it does not read as one. */
function readTeamServerBinding(text: string): TeamServerBinding | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { key, origin } = value as { key?: unknown; origin?: unknown };
    return typeof key === 'string' && typeof origin === 'string' ? { key, origin } : undefined;
  } catch {
    return undefined;
  }
}

export class ReplicaService {
  private readonly core: ReplicaCore;
  /** Entries an event of another device in the intake being applied says it edited, over its pages (replica-given-way.ts). */
  private readonly intake = new GivenWayIntake();
  /**
   * Between startOver and settleStartOver (a pull from 0 after HISTORY_CHANGED): what the server
   * handed of each entry (uid hex): its revision, group and tombstone, and `lost` when it is a live
   * version at the revision this desktop agreed a delete at (the server lost the delete).
   */
  private restarting: Map<string, { revision: number; group: number; deleted: boolean; lost: boolean }> | undefined;
  /** Events the applies since mayBeWithheldSince was last asked took redacted on an earlier-rule tag match (ApplyOutcome.mayBeWithheld), in order. */
  private unsureWithheld: string[] = [];

  constructor(core: ReplicaCore) {
    this.core = core;
  }

  /** `everything`: the whole vault as new to the other side (moving it onto a team server; outgoing()). */
  /**
   * `holdDeletionWaiting`: changes of entries in a group whose deletion from elsewhere waits here are left out
   * (the server refused a push of them: electron/team/sync.ts), kept here unsent, so the rest goes.
   */
  async outgoing(everything = false, toServer = false, holdDeletionWaiting = false): Promise<Outgoing> {
    return this.core.read((r) => this.outgoingNow(r, everything, toServer, holdDeletionWaiting));
  }

  private outgoingNow(db: ReadDb, everything: boolean, toServer: boolean, holdDeletionWaiting = false): Outgoing {
    this.core.requireOpen(db);
    const signer = this.core.ring.signer;
    if (!signer) throw new CrewvaultError('LOCKED', 'This session holds no signing key: sign in again.');
    const user = getUser(db, this.core.userId());
    if (!user) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    const permissions = rolePermissions(db, user.role);
    const held = new Set(this.core.ring.groups.keys());
    const lacking = (p: Permission): Permission | undefined => (permissions.includes(p) ? undefined : p);
    // Groups deleted here: the deletes of their entries made before it go with the group's deletion (the
    // server deletes only a group its entries leave, in the same push: sync.ts partsOf), though no key of it is held now.
    const deletedGroups = deletedGroupIds(db);
    // A group deleted elsewhere whose deletion waits here for an entry no signed record will take out of it (one
    // moved into it here and not sent: hostile review of 0e347bd): the server refuses every change into it, whole.
    const deletionWaiting = holdDeletionWaiting ? groupsDeletionWaiting(db) : new Set<number>();
    const whyNotVouch = (e: EntryReplicaRow, base: number): Permission | 'group' | 'counter' | 'deleted' | undefined => {
      if (deletionWaiting.has(e.group_id)) return 'deleted';
      if (!held.has(e.group_id) && !(e.deleted_at !== null && deletedGroups.has(e.group_id))) return 'group';
      if (e.deleted_at !== null) return base === 0 && permissions.includes('entries.create') ? undefined : lacking('entries.delete');
      if (base === 0) return lacking('entries.create');
      // A code taken moves an HOTP counter, which codes-only people may cause; whether this change
      // is only that is the receiver's to judge against what it holds, so an editor vouches for it.
      // Someone who only sees codes changes an entry only by taking an HOTP code: nothing to tell them.
      return permissions.includes('entries.edit') ? undefined : seesOnlyCodes(permissions) ? 'counter' : 'entries.edit';
    };
    const { customersHeldBack, ...out } = outgoing(db, { userUid: uidText(user.uid), signer, whyNotVouch }, everything, toServer);
    const named = customersHeldBack?.map(({ customerId, ...back }) => ({ name: this.core.customers.name(db, customerId), ...back }));
    return this.withPeople(db, named === undefined ? out : { ...out, customersHeldBack: named }, everything);
  }

  /** Who this person is, for the user, group and member records they may send (replica-people.ts). */
  private peopleSender(db: ReadDb): PeopleSender {
    const signer = this.core.ring.signer;
    const user = getUser(db, this.core.userId());
    if (!signer || !user) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    // The groups they lead here, and those the server still has them leading (their own unmaking not
    // sent: it judges a push by who led before it), so a lead unmaking themselves, and what they did
    // before it in the group (a hand-over: another made a lead first), is sent, not left out for good.
    const ownAgreedLead = (groupId: number): boolean => {
      const uids = groupAndUserUids(db, groupId, user.id);
      return uids !== undefined && agreedMember(db, uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex)))?.lead === true;
    };
    // And those they led when they deleted them here, the deletion not sent (the ring holds no deleted group).
    const leads = new Set([...[...this.core.ring.groups].filter(([id, g]) => g.lead || ownAgreedLead(id)).map(([id]) => id), ...deletedLeading(db, user.id)]);
    return { userId: user.id, userUid: uidText(user.uid), role: user.role, permissions: rolePermissions(db, user.role), leads, signer };
  }

  /** `out` with the users, groups and memberships written here since the last batch (all of them for `everything`) that this person may set, first. */
  private withPeople(db: ReadDb, out: Outgoing, everything: boolean): Outgoing {
    const sender = this.peopleSender(db);
    const people = everything ? peopleRecords(db, out.batch.vault, sender, 0, currentSequence(db)) : peopleRecords(db, out.batch.vault, sender, sentSeq(db), currentSequence(db), takenSeqs(db));
    // Custom roles, settings and the MFA policy changed here since agreed (an owner's or admin's only: task 15), before the users that name a role.
    const objects = vaultObjectRecords(db, out.batch.vault, sender);
    const records = [...objects, ...people, ...out.batch.records];
    requireEachOnce(records);
    const withTheirRecords = revokesWithTheirRecords(db, people, sender.userUid);
    return { ...out, batch: { ...out.batch, records }, ...(withTheirRecords.size > 0 ? { revokesWithTheirRecords: withTheirRecords } : {}) };
  }

  /** An owner's record saying which server account acts as vault user `userName` (pushed to the server: it binds them). */
  async accountRecord(userName: string, account: string): Promise<UserRecord> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return accountRecord(r, vaultId(r), this.peopleSender(r), userName, account);
    });
  }

  /**
   * The signed-in person's current signing key (its global id and public key), or undefined: an
   * owner moving the vault is told it, to hand over with invites — the trust anchor of a desktop
   * joining from the server alone (electron/team/owner-anchor.ts). A public key: nothing secret.
   */
  async ownSigningKey(): Promise<{ readonly id: string; readonly publicKey: Buffer } | undefined> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      const keyId = this.core.ring.signer?.keyId;
      const key = listSigningKeys(r).find((k) => k.id === keyId);
      return key === undefined ? undefined : { id: uidText(key.uid), publicKey: key.public_key };
    });
  }

  /**
   * The signing keys this vault file holds in force (store-audit.ts signingKeysInForce), by global
   * id, with whose they are and the raw public key (base64url): what an owner checks the server's
   * copy of the audit history by (electron/team/history-verify.ts). Public keys only.
   */
  /** The scope keys of the groups whose v3 audit events this person is owed whole ('every': an owner or admin): what `audit verify --server` judges a redacted event by. */
  async groupsOwedWhole(): Promise<readonly HeldScopeKey[] | 'every'> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return scopeKeysOwedHere(r, groupsOwedWhole(r, this.core.userId()), this.core.ring);
    });
  }

  async signingKeysHeld(): Promise<Map<string, { readonly user: string; readonly publicKey: string }>> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      const users = new Map(listUsers(r).map((u) => [u.id, uidText(u.uid)]));
      const held = new Map<string, { readonly user: string; readonly publicKey: string }>();
      for (const key of signingKeysInForce(r).values()) {
        const user = users.get(key.user_id);
        if (user !== undefined) held.set(uidText(key.uid), { user, publicKey: key.public_key.toString('base64url') });
      }
      return held;
    });
  }

  /** The vault's id, as records and the team server name it. */
  async vaultId(): Promise<string> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return vaultId(r);
    });
  }

  /**
   * The team server this vault's records may be pushed to: its identity (the OPAQUE static key its
   * sign-in authenticated) and the origin it was reached at, set by a confirmed move or by records
   * of this vault taken in from it (a join, a copy of the file); undefined before either. A sync
   * pushes to no other (electron/team/sync.ts): a vault leaves for a server only by a move.
   */
  async teamServer(): Promise<TeamServerBinding | undefined> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      const text = getMeta(r, TEAM_SERVER_META);
      if (text === undefined) return undefined;
      // Unreadable: bound to no server this vault could name, so to none but by a move.
      return readTeamServerBinding(text) ?? { key: '', origin: 'unknown:' };
    });
  }

  /** Records `server` as the team server this vault syncs with (after a confirmed move, or records taken in from it). */
  async bindTeamServer(server: TeamServerBinding): Promise<void> {
    await this.core.write((w) => {
      this.core.requireOpen(w);
      setMeta(w, TEAM_SERVER_META, JSON.stringify({ key: server.key, origin: server.origin }));
    });
  }

  /** The audit history a first sync still owes this replica (first-sync.ts): undefined when it is all here. */
  async historyOwed(): Promise<HistoryCursor | undefined> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return historyCursor(r);
    });
  }

  /** Whether this file signs its new audit events with the v3 text (store-audit.ts signsEventsV3). */
  async signsEventsV3(): Promise<boolean> {
    return this.core.read((r) => signsEventsV3(r));
  }

  /** From now on this file signs its new audit events v3: a team server it syncs with takes them (sync.ts). */
  async startSigningEventsV3(): Promise<void> {
    await this.core.write((w) => startSigningEventsV3(w));
  }

  /**
   * The server's sequence up to which this replica was handed the role, settings and MFA policy
   * records (sync.ts takeVaultObjectsOwed: a desktop from before task 15 pulled without them).
   */
  async vaultObjectsUpTo(): Promise<number> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return vaultObjectsUpTo(r);
    });
  }

  /** A pull naming those kinds reached `seq` (never moved back). */
  async noteVaultObjectsUpTo(seq: number): Promise<void> {
    await this.core.write((w) => {
      this.core.requireOpen(w);
      if (seq > vaultObjectsUpTo(w)) noteVaultObjectsUpTo(w, seq);
    });
  }

  /**
   * The team server's history mark this replica holds for its cursor (docs/SYNC.md "Faults"),
   * named at its next pull; undefined when the one kept is for another cursor (moved since without one).
   */
  async historyMark(): Promise<HistoryMark | undefined> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      const held = readHistoryMark(getMeta(r, HISTORY_MARK_META));
      return held !== undefined && held.at === pulledSeq(r) ? { seq: held.seq, value: held.value } : undefined;
    });
  }

  /** The server handed `mark` for cursor `at`: kept when this replica's cursor stands there. */
  async noteHistoryMark(at: number, mark: HistoryMark): Promise<void> {
    await this.core.write((w) => {
      this.core.requireOpen(w);
      if (pulledSeq(w) === at) setMeta(w, HISTORY_MARK_META, JSON.stringify({ at, seq: mark.seq, value: mark.value }));
    });
  }

  /**
   * The team server answered HISTORY_CHANGED (restored from a backup, or the vault replaced): this
   * replica takes the vault in again from 0 and sends again what the server lacks. In one
   * transaction: the pulled and sent cursors back to 0 (own events the server lost go again; those
   * it holds it skips), the role, settings and policy cursor too, the mark dropped. The agreed
   * revisions stay, each a floor (review 14 hole 1): a server that goes back, honestly restored or
   * hostile, holds every older signed version, and one below the floor is a lost change of this
   * desktop's, never taken as current (no rollback, no undelete). The pull that follows notes what
   * the server hands of each entry, for settleStartOver.
   */
  async startOver(): Promise<void> {
    await this.core.write((w) => {
      this.core.requireOpen(w);
      setPulledSeq(w, 0);
      setSentSeq(w, 0);
      setEventsSentSeq(w, 0);
      noteVaultObjectsUpTo(w, 0);
      setMeta(w, HISTORY_MARK_META, '');
      // An audit history a first sync left owed ends past a restored head: the pull from 0 hands every event instead.
      setHistoryCursor(w, null);
    });
    this.restarting = new Map();
  }

  /** The pull from 0 after startOver failed: nothing of it is settled (the next HISTORY_CHANGED starts over again). */
  // A promise, as every public member answers: the session reaches this service through lazyReplica, which forwards only those.
  abandonStartOver(): Promise<void> {
    this.restarting = undefined;
    return Promise.resolve();
  }

  /**
   * After startOver's pull from 0: the entries of held groups whose agreed version the server lost
   * (it handed none, one below the agreed revision, or a live one at the revision of an agreed
   * delete). Those this person may write as the server needs (shared/policy-writes.ts) go again
   * over the server's version: their agreed revision becomes the server's, their own one past it
   * where it was not already (`resent`, tombstones included); the others are kept here as agreed
   * (`keptHere`: the server lacks them, and this person may not vouch for them).
   */
  async settleStartOver(): Promise<{ readonly resent: number; readonly keptHere: number }> {
    const handed = this.restarting ?? new Map<string, { revision: number; group: number; deleted: boolean; lost: boolean }>();
    this.restarting = undefined;
    return this.core.write((w) => {
      this.core.requireOpen(w);
      const user = getUser(w, this.core.userId());
      const permissions = user === undefined ? [] : rolePermissions(w, user.role);
      let resent = 0;
      let keptHere = 0;
      for (const e of entriesToSettle(w, [...this.core.ring.groups.keys()])) {
        if (e.floor === 0) continue; // never agreed: an unsent change of this desktop's, pushed as ever
        const server = handed.get(e.uid.toString('hex'));
        if (server !== undefined && server.revision >= e.floor && !server.lost) continue;
        const needs = entryWriteNeeds(server === undefined ? undefined : { group: server.group, deleted: server.deleted }, { group: e.group_id, deleted: e.deleted !== 0 });
        if (!needs.every((n) => permissions.includes(n.permission))) {
          keptHere++;
          continue;
        }
        const serverRevision = server?.revision ?? 0;
        setReplicaBase(w, e.uid, serverRevision);
        if (e.revision <= serverRevision) setRevision(w, 'entries', e.id, serverRevision + 1);
        resent++;
      }
      return { resent, keptHere };
    });
  }

  /** The team server's sequence up to which this replica has taken in others' records. */
  async pulledUpTo(): Promise<number> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return pulledSeq(r);
    });
  }

  /**
   * This desktop's own unsent versions of `conflicts` go over the server's newer ones, which a
   * pull set aside here as refused (`refused`: id → reason; review round ten, holes 1 and 3): each
   * entry's agreed revision becomes the server's, its own revision one past it, so its next push
   * is taken. What it goes over is never taken in here (its sender may not write it, or it does
   * not hold): it is recorded in this desktop's audit log (entry.refused_overwritten, naming the
   * server's revision, its sender and why) rather than made a conflict copy, which would take a
   * refused person's content into the vault under this person's name. Entries not changed here,
   * or not held, are left alone. Returns how many were rebased.
   */
  async overwriteRefused(conflicts: ReadonlyArray<{ readonly id: string; readonly revision: number }>, refused: ReadonlyMap<string, string>): Promise<number> {
    return this.core.write((w) => {
      this.core.requireOpen(w);
      const heldRows = new Map(listHeld(w).map((h) => [h.record_id, h]));
      let rebased = 0;
      for (const c of conflicts) {
        const reason = refused.get(c.id);
        const uid = uidBytes(c.id);
        const local = entryByUid(w, uid);
        if (reason === undefined || local === undefined || local.revision === replicaBase(w, uid)) continue;
        const row = heldRows.get(c.id);
        const record = row === undefined ? undefined : heldRecord(row)[0];
        const authorId = record !== undefined && 'author' in record ? idByUid(w, 'users', uidBytes(record.author)) : undefined;
        const author = authorId === undefined ? 'an unknown sender' : (getUser(w, authorId)?.name ?? 'an unknown sender');
        setReplicaBase(w, uid, c.revision);
        if (local.revision <= c.revision) setRevision(w, 'entries', local.id, c.revision + 1);
        if (row !== undefined) dropHeld(w, c.id);
        this.core.audit(w, { action: 'entry.refused_overwritten', entry_id: local.id, customer_id: local.customer_id, group_id: local.group_id }, `server revision ${c.revision} by ${author}, refused here: ${reason}`);
        rebased++;
      }
      return rebased;
    });
  }

  /**
   * The batch was delivered. `stored`: where the team server's sequence stood after storing
   * it, and how many records it took: when that follows straight on from what this replica had
   * pulled (nobody else pushed in between), this replica holds the server's state up to there
   * and need not pull its own records back.
   */
  /** Returns, when this push left this device's chain out from a disabled author's event on, the note made of it (store-events-not-sent.ts). */
  async markSent(sent: Outgoing, stored?: { readonly seq: number; readonly accepted: number }): Promise<EventsNotSent | undefined> {
    return this.core.write((w) => {
      this.core.requireOpen(w);
      markSent(w, sent);
      this.dropKeysRotatedFrom(w, sent);
      if (stored && stored.seq - stored.accepted === pulledSeq(w)) setPulledSeq(w, stored.seq);
      return sent.upToSeq >= 0 && sent.eventsLeftOut !== undefined ? noteEventsNotSent(w, sent.eventsLeftOut, this.core.now()) : undefined;
    });
  }

  /** This desktop's events kept out of its pushes, as noted (store-events-not-sent.ts). */
  async eventsNotSent(): Promise<readonly EventsNotSent[]> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return eventsNotSent(r);
    });
  }

  /**
   * The server stored these group records at their key versions: the versions this desktop kept
   * from its rotations of them (rotated-from-keys.ts) open nothing the server will still hand out.
   */
  private dropKeysRotatedFrom(db: WriteDb, sent: Outgoing): void {
    for (const record of sent.batch.records) {
      if (record.kind !== 'group') continue;
      const groupId = idByUid(db, 'access_groups', uidBytes(record.id));
      if (groupId !== undefined) dropRotatedFrom(db, groupId);
    }
  }

  /**
   * About to push `out`: what it carries is noted, so that if the reply is lost and these very
   * records come back in a pull, they are recognised as this replica's own (agreed), not as
   * someone else's change beside a local one.
   */
  async pushing(out: Outgoing): Promise<void> {
    await this.core.write((w) => {
      this.core.requireOpen(w);
      for (const record of out.batch.records) if (record.kind === 'customer' || record.kind === 'entry') notePushing(w, record.id, record.revision, contentDigest(record));
      // Its events too (at revision 0): one coming back in a pull shows the server stored the push (a part is stored whole or not at all).
      for (const record of out.batch.records) if (record.kind === 'event' && record.signature !== null) notePushing(w, record.id, 0, eventDigest(record));
      // Events of this file's 16-byte device offered to a server: it keeps that id (leaveOldDevice no longer moves them).
      noteDevicesOffered(w, out.batch.records.flatMap((r) => (r.kind === 'event' && r.device !== null ? [Buffer.from(r.device, 'base64url')] : [])));
    });
  }

  /**
   * Before a sync's first pull and push: this file's 16-byte device id, if it wrote events nothing
   * handed on yet, is left for a derived one, its events re-signed onto it (store-audit.ts
   * leaveOldDevice; docs/SYNC.md "Who a device is"), so nobody who learned the old id can squat it.
   */
  async leaveOldDevice(): Promise<OldDeviceLeft> {
    return this.core.write((w) => {
      this.core.requireOpen(w);
      const signer = this.core.ring.signer;
      // The keyed anchor judged as at sign-in (vault.ts): required once any directory wrap is anchored.
      return signer === undefined ? { left: 'none' } : leaveOldDevice(w, signer, this.core.userId(), eventsSentSeq(w), { key: this.core.ring.auditKey, required: anyDirectoryWrapAtLeast(w, DIRECTORY_WRAP_ANCHORED) });
    });
  }

  /** Everything here as agreed (a vault file copied to start another replica: markAllAgreed). */
  async agreeAll(): Promise<number> {
    return this.core.write((w) => {
      this.core.requireOpen(w);
      return markAllAgreed(w);
    });
  }

  /**
   * Takes in another replica's batch (parsed here: it came from another machine).
   * `pulledUpTo`: the team server's sequence the batch reaches, kept in the same transaction.
   * `hold`: a record this replica refuses (VAULT_TAMPERED) or cannot take yet (CONFLICT: a key,
   * group or user it lacks) is set aside, tried again at each later apply, and reported —
   * rather than stopping every sync after it (what a team server relays). Without `hold` (two
   * copies exchanging directly) the batch is all or nothing.
   */
  async apply(input: unknown, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const batch = await this.core.read((r) => {
      this.core.requireOpen(r);
      const parsed = replicaBatchSchema.safeParse(input);
      if (!parsed.success) throw new CrewvaultError('INVALID_INPUT', `Not a batch of replica records: ${parsed.error.issues[0]?.path.join('.') || 'the batch'}: ${parsed.error.issues[0]?.message ?? 'not valid'}.`);
      return parsed.data;
    });
    return this.applyParsed(batch, options);
  }

  /**
   * A page a team server's pull returned, its records already parsed with the contract's own
   * record schema (client.ts parses every reply before it is believed): taken in as apply does,
   * without parsing each record a second time. The batch around them is this vault's.
   */
  async applyPulled(vault: string, records: readonly ReplicaRecord[], options: ApplyOptions = {}, batches: readonly RecordBatch[] = []): Promise<ApplyOutcome> {
    return this.applyParsed({ format: REPLICA_FORMAT_BATCHED, vault, records: [...records], batches: [...batches] }, options);
  }

  /**
   * Whether this replica may take a first sync's snapshot (electron/team/first-sync.ts): it holds
   * no entry, no customer, nothing set aside, and has pulled nothing from a server.
   */
  async isEmpty(): Promise<boolean> {
    return this.core.read((r) => {
      this.core.requireOpen(r);
      return replicaIsEmpty(r);
    });
  }

  /**
   * Starts checking the signatures of a pulled page on the worker threads, with the signing keys
   * in force now: handed to applyPulled as `checked` once the pages before it are written, so a
   * page's checks run while the one before it is written. A memo: a key a page before brings is
   * not in it yet, and those records are verified in the transaction instead.
   */
  async checkAhead(vault: string, records: readonly ReplicaRecord[], batches: readonly RecordBatch[] = []): Promise<VerifiedSignatures> {
    const triples = await this.core.read((r) => {
      this.core.requireOpen(r);
      return signedTriples(r, { format: REPLICA_FORMAT_BATCHED, vault, records: [...records], batches: [...batches] });
    });
    return verifyAhead(triples);
  }

  private async applyParsed(batch: ReplicaBatch, options: ApplyOptions): Promise<ApplyOutcome> {
    // The senders' and authors' signatures checked on worker threads before the write transaction
    // (which cannot wait); inside it every record's key and signed bytes are worked out again.
    const verified = options.checked ?? await verifyAhead(await this.core.read((r) => {
      this.core.requireOpen(r);
      return signedTriples(r, batch);
    }));
    const outcome = await this.core.write((w) => {
      this.core.requireOpen(w);
      // What this apply writes is others' records taken in: its sequences are noted below, so no
      // user, group or membership row it leaves at its agreed revision is pushed as this desktop's.
      const writtenFrom = currentSequence(w);
      if (batch.vault !== vaultId(w)) throw new CrewvaultError('INVALID_INPUT', 'These records are of another vault: nothing was applied.');
      const ids = batch.records.map((r) => r.id);
      if (new Set(ids).size !== ids.length) throw new CrewvaultError('INVALID_INPUT', 'A batch names an object twice: nothing was applied.');
      // An empty replica filling from a snapshot inserts its entries without the indexes on random keys; every other apply has them (made again here after an interrupted first sync).
      if (options.setAsideIndexes === true && options.fresh === true) setAsideEntryIndexes(w);
      else restoreEntryIndexes(w);
      const tally: Tally = { applied: 0, unchanged: 0, recognised: 0, countersMerged: 0, conflictCopies: [], copiesNotAdded: 0, held: [], accessRemoved: [], groupDeleted: [], crossed: [], groupChangesUnmade: [], mayBeWithheld: [], customersWentOver: [] };
      // What was set aside before goes first (a newer record of the same object replaces it).
      const fresh = new Set(ids);
      const earlierRows = options.hold === true ? listHeld(w).filter((h) => !fresh.has(h.record_id)) : [];
      const earlier = earlierRows.flatMap((h) => heldRecord(h));
      // Record format 2: the batches that came with this page, and those set-aside records were held with.
      const batches = new Map([...earlierRows.flatMap((h) => heldBatch(h)), ...(batch.batches ?? [])].map((b) => [b.id, b]));

      const records = [...earlier, ...batch.records];
      const take = (r: ReplicaRecord, work: () => void): void => {
        if (options.hold !== true) {
          work();
          return;
        }
        beginRecordSavepoint(w);
        try {
          work();
          releaseRecordSavepoint(w);
          dropHeld(w, r.id);
        } catch (error) {
          rollBackRecordSavepoint(w);
          if (!isCrewvaultError(error) || (error.code !== 'VAULT_TAMPERED' && error.code !== 'CONFLICT')) throw error;
          putHeld(w, { record_id: r.id, body: heldBody(r, batches), reason: error.message, held_at: this.core.now() });
          tally.held.push({ id: r.id, kind: r.kind, reason: error.message, ...(r.kind === 'entry' || r.kind === 'customer' ? { revision: r.revision } : {}) });
        }
      };
      const intake = (keys: ReturnType<typeof signingKeysInForce>): PeopleIntake => ({
        ring: this.core.ring, userId: this.core.userId(), vault: batch.vault, keys,
        customerName: (db, customerId) => this.core.customers.name(db, customerId), holds: (t) => verified.holds(t),
        caughtUp: options.caughtUp === true, pagesFollow: options.hold === true && options.caughtUp !== true, now: this.core.now(), removed: (group, droppedEdits) => tally.accessRemoved.push({ group, droppedEdits }),
        groupDeleted: (groupId, group, droppedChanges) => {
          // Its pages went with it, and so did any conflict copy this apply made in it (one of the changes dropped).
          this.core.pages.forgetGroup(groupId);
          tally.conflictCopies.splice(0, tally.conflictCopies.length, ...tally.conflictCopies.filter((c) => c.groupId !== groupId));
          tally.groupDeleted.push({ group, droppedChanges });
          // What this person made here and lost is in their log, not only in one sync's line: the group named as
          // known here in the sealed detail only (a group's name is never plain in the file), and no group id (its
          // key is gone, so the event carries no scope of it).
          if (droppedChanges > 0) this.core.audit(w, { action: 'group.changes_dropped' }, `${droppedChanges} unsent change${droppedChanges === 1 ? '' : 's'} made here dropped: the group "${group}" was deleted elsewhere`);
        },
        crossed: (user, detail) => {
          this.core.audit(w, { action: 'user.crossed', subject: user }, detail);
          tally.crossed.push({ user, detail });
        },
        // Told at each sync from the note (revokesUnmade), audited here once, as team.ts rotateAgain audits one it cannot make.
        revokeUnmade: (groupId, member, group, keyKept) => this.core.audit(w, { action: 'group.revoke_unmade', group_id: groupId, subject: member }, keyKept
          ? `${member} ✕ ${group} made, its key change not: you no longer manage the group, and your key change, never sent, was undone; the group keeps the key ${member} held until an owner or admin changes it`
          : `${member} ✕ ${group} not made: you no longer manage the group, and your key change, never sent, was undone; an owner or admin must make it`),
        // Told with this apply's outcome and audited here, once: the change is gone, nothing of it waits to be told again.
        groupChangeUnmade: (groupId, group, change, why) => {
          this.core.audit(w, { action: 'group.change_unmade', group_id: groupId }, `${group}: ${change} not made (${why}); never sent, the group stays as the team holds it`);
          tally.groupChangesUnmade.push({ group, change, why });
        },
      });
      const counted = (taken: PeopleTaken): void => {
        if (taken === 'applied') tally.applied++;
        else if (taken === 'unchanged') tally.unchanged++;
      };
      // Records of the page out of the contract's shape (electron/team/snapshot-page.ts): set aside with the reason, never taken;
      // those set aside so before stay, told again with each apply (they are never tried: nothing here takes them).
      for (const h of earlierRows) if (heldRecord(h).length === 0) tally.held.push({ id: h.record_id, kind: 'unknown', reason: h.reason });
      for (const u of options.unfit ?? []) {
        putHeld(w, { record_id: u.id, body: u.body, reason: u.reason, held_at: this.core.now() });
        tally.held.push({ id: u.id, kind: 'unknown', reason: u.reason });
      }
      // Custom roles, settings and the MFA policy (task 15) before the people: a user record may give a role the batch defines.
      takeVaultObjects(w, intake(signingKeysInForce(w)), records, take, counted);
      // People new here first: their signing keys name them (replica-people-new.ts).
      takeNewUsers(w, intake(signingKeysInForce(w)), records, take, counted);
      // Keys first (records, events and certificates name them), then customers, entries, events.
      for (const r of records) {
        if (r.kind !== 'signing_key') continue;
        take(r, () => {
          if (this.takeSigningKey(w, r, tally) && !this.keyInForce(w, signingKeysInForce(w), r.id)) throw tampered('brings a signing key no owner vouched for');
        });
      }
      this.ownPushStored(w, records);
      const keys = signingKeysInForce(w);
      // Who is who before what they sign: a group's new key version (and this person's wrap of
      // it) is taken in first, so the entries re-sealed under it open (replica-people-in.ts).
      takePeople(w, intake(keys), records, take, counted);
      const senders = new SenderRows(w, batch.vault, verified, batches);
      const movesById = new Map<string, EntryRecord[]>();
      for (const m of options.moves ?? []) movesById.set(m.id, [...(movesById.get(m.id) ?? []), m]);
      const moves: MovesHanded = { of: (id) => movesById.get(id) ?? [], vouched: (m) => this.sender(w, keys, m, senders) };
      for (const r of records) if (r.kind === 'customer') take(r, () => this.takeCustomer(w, r, this.sender(w, keys, r, senders, true), tally));
      // Which entries this replica holds, asked once for the page (a first sync's are nearly all new).
      const held = entryUidsHeld(w, records.flatMap((r) => (r.kind === 'entry' ? [uidBytes(r.id)] : [])));
      // A snapshot's entries new here skip the conflict reads; any this replica holds (or set aside before) go the usual way.
      const bulk = options.fresh === true && options.hold === true && earlier.length === 0;
      // Another device's edit whose event came ahead of its record (their own sent mark) is kept for that record's intake.
      noteEditsAhead(w, this.intake.page(records, thisDeviceId(w), options.hold === true && options.caughtUp !== true, (id) => hasEvent(w, uidBytes(id))), (id) => idByUid(w, 'entries', uidBytes(id)) !== undefined);
      for (const r of records) {
        if (r.kind !== 'entry') continue;
        if (bulk && !held.has(r.id.replaceAll('-', ''))) this.takeFreshEntry(w, r, keys, senders, tally);
        else take(r, () => {
          const agreed = replicaBase(w, uidBytes(r.id));
          this.takeEntry(w, r, this.sender(w, keys, r, senders), tally, held, moves);
          // Only a record newer than what was agreed here can carry the edit noted ahead: an older one played back
          // (a dishonest server replaying what it stored) forgot the note, and the edit's record,
          // coming next with only a code's event, had its edit written over (hostile review of b93ad33).
          if (r.revision > agreed) forgetEditAhead(w, r.id);
        });
      }
      // A group deleted here, not sent, put back for this pull: judged at its last page once its entries are in (what the
      // group holds then decides whether the deletion is made again: replica-group-undelete.ts).
      const judging = intake(keys);
      if (!judging.pagesFollow) for (const groupId of judgePutBack(w, judging, records)) this.core.pages.forgetGroup(groupId);
      // Events chained one after another, the log's head and keyed anchor moved once after the last.
      let chained = 0;
      for (const r of records) {
        if (r.kind === 'event') take(r, () => { if (this.takeEvent(w, r, keys, tally, senders)) chained++; });
      }
      // The history's last page (its cursor cleared below): events set aside for want of it, tried before this page's, are tried
      // again after them in this same transaction, so none is left waiting once the cursor is gone (review 12b hole 4).
      if (options.history === null && options.hold === true) chained += this.retryEvents(w, records, keys, tally, senders, take);
      // A group deleted elsewhere, once its entries' deletes (in this batch or before) are in: unsent changes here in it dropped, told.
      takeGroupDeletes(w, intake(keys), records, take, counted);
      if (chained > 0) moveAuditHeadToLast(w, this.core.ring);
      if (options.pulledUpTo !== undefined) setPulledSeq(w, Math.max(options.pulledUpTo, pulledSeq(w)));
      // The vault's move is in (its history comes before the server's head): a v1 event starts no chain here after this (store-audit.ts).
      if (options.history !== undefined) setHistoryCursor(w, options.history);
      // Not while history is owed: its v1 chain starts come after the head (first-sync.ts takeHistory); the first pull at the head after it closes them.
      if (options.caughtUp === true && historyCursor(w) === undefined) closeV1ChainStarts(w);
      noteTakenSeqs(w, writtenFrom, currentSequence(w));
      return { tally, rotateAgain: groupsToRotateAgain(w).length > 0 };
    });
    this.core.customers.clear();
    // A group given way in (two rotations at once, this desktop's own unsent) is rotated again only
    // at the server's head: the other side's re-sealed entries of it, on later pages, are still at its version.
    if (outcome.rotateAgain && options.caughtUp === true) await this.core.rotateAgain();
    this.unsureWithheld.push(...outcome.tally.mayBeWithheld);
    return outcome.tally;
  }

  /**
   * This desktop's revokes given way and not made again (team.ts rotateAgain), or whose rotation was undone here
   * (replica-own-key.ts giveWayToHeld), which this person may no longer make, while their member still holds the
   * group: told at each sync (sync.ts).
   */
  revokesUnmade(): Promise<readonly RevokeUnmadeTold[]> {
    return this.core.revokesUnmade();
  }

  /**
   * This desktop's revokes whose push has not ended (a round refused, BUSY or cut short): each
   * stored already, ahead of its rotation (the member cut off, the key change waiting), or not yet.
   * Told with the sync's outcome or its error (sync.ts revokesWaitingLine).
   */
  revokesWaiting(): Promise<readonly RevokeWaiting[]> {
    return this.core.revokesWaiting();
  }

  /**
   * Key changes owed in groups this person manages (a revoke taken in at the version held, its rotation never come:
   * replica-key-owed.ts), still standing: told at each sync (sync.ts keyChangesOwedLine) until the key is changed.
   */
  keyChangesOwed(): Promise<readonly KeyChangeOwedTold[]> {
    return this.core.keyChangesOwed();
  }

  /**
   * The events taken redacted on an earlier-rule tag match (ApplyOutcome.mayBeWithheld) by every
   * apply since this was last asked, and forgotten here: a sync asks at its start and end and tells them in one line.
   */
  mayBeWithheldSince(): Promise<readonly string[]> {
    const ids = this.unsureWithheld;
    this.unsureWithheld = [];
    return Promise.resolve(ids);
  }

  private localId(db: ReadDb, table: 'users' | 'customers' | 'access_groups' | 'entries' | 'signing_keys', uid: string | null, what: string): number | null {
    if (uid === null) return null;
    const id = idByUid(db, table, uidBytes(uid));
    if (id === undefined) throw new CrewvaultError('CONFLICT', `The records name ${what} this vault does not have (${uid}): groups, members and users come with the team server. Nothing was applied.`);
    return id;
  }

  /**
   * A received key counts only when an owner's key vouches for it: a key that introduces
   * itself is trusted where it was made (its user's own sign-in), never when it arrives from
   * elsewhere, where anyone could have made it in that user's name.
   */
  private keyInForce(db: ReadDb, keys: ReturnType<typeof signingKeysInForce>, uid: string): boolean {
    const id = idByUid(db, 'signing_keys', uidBytes(uid));
    const key = id === undefined ? undefined : keys.get(id);
    return key !== undefined && key.certified_by !== null;
  }

  /**
   * The record's sender, once their signature over it holds under a key of theirs in force here. `disabledToo`: a
   * sender disabled here is returned as `disabled` rather than refused (takeCustomer judges a
   * squatted name before it: the squatter disabled since, what an owner does on seeing it, still holds the name).
   */
  private sender(db: ReadDb, keys: ReturnType<typeof signingKeysInForce>, r: CustomerRecord | EntryRecord, senders: SenderRows): Author;
  private sender(db: ReadDb, keys: ReturnType<typeof signingKeysInForce>, r: CustomerRecord | EntryRecord, senders: SenderRows, disabledToo: true): Author | 'disabled';
  private sender(db: ReadDb, keys: ReturnType<typeof signingKeysInForce>, r: CustomerRecord | EntryRecord, senders: SenderRows, disabledToo = false): Author | 'disabled' {
    const authorId = senders.localId(db, 'users', r.author);
    const keyId = senders.localId(db, 'signing_keys', r.signerKey);
    if (authorId === undefined) throw new CrewvaultError('CONFLICT', `The records name a user this vault does not have (${r.author}): groups, members and users come with the team server. Nothing was applied.`);
    if (keyId === undefined) throw new CrewvaultError('CONFLICT', `The records name a signing key this vault does not have (${r.signerKey}): groups, members and users come with the team server. Nothing was applied.`);
    const key = keys.get(keyId);
    if (!key || key.user_id !== authorId) throw tampered('is signed with a key that is not its sender\'s');
    // The signing text names its fields one by one (signature, batch and index are not among them): the record as it
    // came, not a copy of it without its signature (a first sync makes 100,000 such copies: ~0.1 s of its main thread).
    const text = recordSigningText(senders.vault, r);
    const signature = r.signature;
    if (signature === undefined) senders.batchVouches(r, key.public_key, text); // record format 2: its batch's signature, its digest at its index
    else if (!senders.verified.holds({ publicKey: key.public_key, bytes: Buffer.from(text, 'utf8'), signature: bin(signature) })) throw tampered('does not hold under its sender\'s signature');
    const author = senders.author(authorId);
    if (!author && disabledToo && getUser(db, authorId) !== undefined) return 'disabled';
    if (!author) throw tampered('comes from a user who is disabled here');
    return author;
  }

  /** FORBIDDEN-as-tampered unless the sender may do `permission` in group `groupId` (holds its key). */
  private requireSenderMay(db: ReadDb, author: Author, permission: Permission, groupId: number): void {
    if (!this.senderMay(db, author, permission, groupId)) {
      throw tampered(`does what its sender may not (${permission} in a group they ${holdsGroupKey(db, groupId, author.id) ? 'hold' : 'do not hold'})`);
    }
  }

  /** Whether the sender may do `permission` in group `groupId` (holds its key, and their role allows it). */
  private senderMay(db: ReadDb, author: Author, permission: Permission, groupId: number): boolean {
    return holdsGroupKey(db, groupId, author.id) && can({ role: author.role, permissions: author.permissions, groups: new Map() }, permission);
  }

  /**
   * A record this replica pushed whose reply never came (the server stored it after all): the
   * same revision and the same sealed bytes as noted when pushing. Agreed as it is; whatever this
   * replica changed since builds on it.
   */
  private ownComingBack(db: WriteDb, r: CustomerRecord | EntryRecord): boolean {
    const noted = pushingOf(db, r.id);
    if (!noted || noted.revision !== r.revision || !noted.digest.equals(contentDigest(r))) return false;
    setReplicaBase(db, uidBytes(r.id), r.revision);
    donePushing(db, r.id);
    return true;
  }

  /**
   * A push of this desktop's the server stored though its reply was lost (findings C2/C3): one of
   * its events comes back in a pull as it was sent. A part is stored whole or not at all, and a
   * lost reply ends the sync, so every record still noted as in flight went with it: the server
   * holds their revisions, this desktop's own, and they are agreed here before the page's entries
   * are judged. Without this, another desktop's write on top of such a revision (the only version
   * the pull hands) met this desktop's own pushed version as a change of its own and made a
   * conflict copy of it. An entry changed here again since keeps that change, based on its push.
   */
  private ownPushStored(db: WriteDb, records: readonly ReplicaRecord[]): void {
    const back = records.some((r) => r.kind === 'event' && pushingOf(db, r.id)?.revision === 0 && pushingOf(db, r.id)?.digest.equals(eventDigest(r)) === true);
    if (!back) return;
    for (const noted of allPushing(db)) {
      if (noted.revision > 0) {
        const uid = uidBytes(noted.record_id);
        const held = entryByUid(db, uid) ?? customerByUid(db, uid);
        if (held && held.revision >= noted.revision && replicaBase(db, uid) < noted.revision) setReplicaBase(db, uid, noted.revision);
      }
      donePushing(db, noted.record_id);
    }
  }

  /** True when the key was new here (and is now inserted, to be judged with the rest). */
  private takeSigningKey(db: WriteDb, r: SigningKeyRecord, tally: Tally): boolean {
    if (idByUid(db, 'signing_keys', uidBytes(r.id)) !== undefined) {
      tally.unchanged++;
      return false;
    }
    const userId = this.localId(db, 'users', r.user, 'a user');
    if (userId === null) return false;
    insertReplicaSigningKey(db, {
      uid: uidBytes(r.id), user_id: userId, public_key: bin(r.publicKey), created_at: r.createdAt,
      certified_by: this.localId(db, 'signing_keys', r.certifiedBy, 'a signing key'), certificate: r.certificate === null ? null : bin(r.certificate), binding: r.binding === null ? null : bin(r.binding),
    });
    tally.applied++;
    return true;
  }

  /**
   * This desktop's unsent customer of the keyed name `r` squats goes over it (replica-customer-squatted.ts):
   * false, nothing changed, when there is none or it may not. Audited (customer.went_over: whose record
   * and why, the name in the sealed detail) and told.
   */
  private goOverSquatted(db: WriteDb, r: CustomerRecord, why: 'unopened' | 'misindexed', tally: Tally): boolean {
    const session = {
      ring: this.core.ring, userId: this.core.userId(), anchorRequired: anyDirectoryWrapAtLeast(db, DIRECTORY_WRAP_ANCHORED),
      customerName: (w: WriteDb, customerId: number) => this.core.customers.name(w, customerId),
      permissions: rolePermissions(db, getUser(db, this.core.userId())?.role ?? ''),
    };
    const over = goOverSquattedCustomer(db, session, { uid: uidBytes(r.id), revision: r.revision, base: r.base, sealedName: bin(r.sealedName), nameIndex: bin(r.nameIndex) });
    if (over === undefined) return false;
    this.core.customers.clear();
    const authorId = idByUid(db, 'users', uidBytes(r.author));
    const by = (authorId === undefined ? undefined : getUser(db, authorId)?.name) ?? 'an unknown sender';
    const refused = why === 'unopened' ? 'whose name does not open here' : 'whose name is not the one its index says';
    this.core.audit(db, { action: 'customer.went_over', customer_id: over.customerId }, `"${over.name}" made here went over ${by}'s record of that name (revision ${r.revision}), ${refused}; ${over.signedAgain} event${over.signedAgain === 1 ? '' : 's'} of yours signed again`);
    tally.customersWentOver.push({ by, why: refused });
    return true;
  }

  /** `author`: 'disabled' for a sender disabled here, refused once a squatted name is ruled out. */
  private takeCustomer(db: WriteDb, r: CustomerRecord, author: Author | 'disabled', tally: Tally): void {
    const uid = uidBytes(r.id);
    // The name opens with the directory key and is the one its keyed index says.
    const sealedName = bin(r.sealedName);
    if (sealedName[SEAL_FORMAT_AT - 1] !== SEAL_VERSION) throw tampered('is sealed in an old format');
    let name: unknown;
    let squatted: 'unopened' | 'misindexed' | undefined;
    try {
      name = openJson(this.core.ring.directoryKey, sealedName, contexts.customerName({ uid }));
    } catch {
      squatted = 'unopened';
    }
    if (squatted === undefined && (typeof name !== 'string' || !customerIndex(this.core.ring, name).equals(bin(r.nameIndex)))) squatted = 'misindexed';
    if (squatted !== undefined) {
      // A name squatted (hostile review of C1): this desktop's own unsent customer of it goes over the record, else it is set aside.
      if (!this.goOverSquatted(db, r, squatted, tally)) throw tampered(squatted === 'unopened' ? 'is a customer name that does not open' : 'is a customer whose name is not its index\'s');
      return;
    }
    if (typeof name !== 'string') throw tampered('is a customer whose name is not its index\'s');
    if (author === 'disabled') throw tampered('comes from a user who is disabled here');
    if (!author.permissions.includes('entries.create') && !author.permissions.includes('entries.edit')) throw tampered(MAY_NOT_ADD_CUSTOMER);
    if (this.ownComingBack(db, r)) {
      tally.unchanged++;
      return;
    }
    const found = customerByUid(db, uid);
    // The tombstone an event alone made of it (namedOnlyCustomer) is no version of it held here: its first record goes over it.
    const named = found !== undefined && isNamedOnlyCustomer(found) ? found : undefined;
    const local = named === undefined ? found : undefined;
    if (!local) {
      // The tombstone holds the record's keyed index (insertNamedOnlyCustomer): it is the record's own row, no customer of its name here.
      const indexed = customerByNameIndex(db, bin(r.nameIndex));
      const mine = indexed !== undefined && indexed.id !== named?.id ? indexed : undefined;
      if (mine) {
        // A record naming another name than the one its tombstone was made under (a later revision of it, set aside for its
        // sender's role too): the fold would give this desktop's row the global id the tombstone holds, named by events here by its row id.
        if (named !== undefined) throw new CrewvaultError('CONFLICT', 'A customer made here and not yet sent meets one of the same name made on another desktop, whose audit events this desktop took in before its record: it cannot join it, and is kept here unsent.');
        // Another customer's tombstone of the name (the server holding two of it): no customer made here, nothing to fold.
        if (isNamedOnlyCustomer(mine)) throw new CrewvaultError('CONFLICT', 'A customer of this name is on the team server twice (made on two desktops before the server refused a second of a name): this desktop keeps the one it holds.');
        // Two already on the team (this one sent, or taken in from elsewhere) stay two; this desktop's unsent one joins the team's (docs/SYNC.md "Same-named customers").
        if (!isUnsentCustomer(db, mine)) {
          // Not naming it: the reason is kept with the set-aside record in the file, where a name is only ever sealed.
          throw new CrewvaultError('CONFLICT', 'A customer of this name is on the team server twice (made on two desktops before the server refused a second of a name): this desktop keeps the one it holds.');
        }
        const session = { ring: this.core.ring, userId: this.core.userId(), anchorRequired: anyDirectoryWrapAtLeast(db, DIRECTORY_WRAP_ANCHORED) };
        const signedAgain = foldUnsentCustomer(db, session, mine, { uid, revision: r.revision, sealed_name: sealedName, name_index: bin(r.nameIndex), created_at: r.createdAt });
        this.core.customers.clear();
        // Signing events again is this person's act: it is in their log (the name in the sealed detail only).
        this.core.audit(db, { action: 'customer.folded', customer_id: mine.id }, `"${name}" made here joined the team's customer of that name; ${signedAgain} event${signedAgain === 1 ? '' : 's'} of yours signed again`);
        tally.applied++;
        return;
      }
      const row = { sealed_name: sealedName, name_index: bin(r.nameIndex), created_at: r.createdAt };
      const id = named === undefined ? insertReplicaCustomer(db, { uid, ...row }) : named.id;
      if (named !== undefined) takeCustomerOverNamed(db, named.id, row);
      setRevision(db, 'customers', id, r.revision);
      setReplicaBase(db, uid, r.revision);
      tally.applied++;
      return;
    }
    const agreed = replicaBase(db, uid);
    // A newer team version crossing one made here and not sent (two desktops going over one squatted
    // record at once): a customer is its name only, the same on both, so the team's is taken and
    // nothing of this one is left to send. Any other version at or below this desktop's is not new.
    const crossing = local.revision > agreed && r.revision > agreed;
    if ((!crossing && r.revision <= Math.max(local.revision, agreed)) || r.revision > local.revision + MAX_REVISION_STEP) {
      if (r.revision === local.revision && local.sealed_name.equals(sealedName)) setReplicaBase(db, uid, r.revision);
      tally.unchanged++;
      return;
    }
    // Only a name sealed again (a directory key rotation) is taken: the same name, the newer seal.
    // Customers are not renamed (the app has no rename): a record that would is refused. A crossing
    // version of the same keyed name typed otherwise (two desktops going over one squatted record, one
    // "Globex", one "GLOBEX") is taken: refused, this desktop's would be sent again and refused for good.
    if (this.core.customers.name(db, local.id) !== name) {
      if (!crossing || !local.name_index.equals(bin(r.nameIndex))) throw tampered('renames a customer');
      this.core.customers.clear();
    }
    updateReplicaCustomer(db, local.id, { sealed_name: sealedName, name_index: bin(r.nameIndex) });
    setRevision(db, 'customers', local.id, r.revision);
    setReplicaBase(db, uid, r.revision);
    tally.applied++;
  }

  /**
   * An entry of a first sync's snapshot that this replica does not hold (ApplyOptions.fresh): every
   * check takeEntry makes of a new entry, in the same order, before anything is written; then one
   * insert at its revision, agreed. A record that fails a check is set aside as take() would
   * (VAULT_TAMPERED or CONFLICT, same reason), nothing of it written.
   */
  private takeFreshEntry(db: WriteDb, r: EntryRecord, keys: ReturnType<typeof signingKeysInForce>, senders: SenderRows, tally: Tally): void {
    let checked: { readonly incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>; readonly opened: OpenedIncoming };
    try {
      const author = this.sender(db, keys, r, senders);
      const customerId = senders.localId(db, 'customers', r.customer);
      const groupId = senders.localId(db, 'access_groups', r.group);
      if (customerId === undefined) throw new CrewvaultError('CONFLICT', `The records name a customer this vault does not have (${r.customer}): groups, members and users come with the team server. Nothing was applied.`);
      if (groupId === undefined) throw new CrewvaultError('CONFLICT', `The records name an access group this vault does not have (${r.group}): groups, members and users come with the team server. Nothing was applied.`);
      const incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'> = {
        uid: uidBytes(r.id), customer_id: customerId, group_id: groupId, customer_uid: senders.uidOf(r.customer), group_uid: senders.uidOf(r.group), key_version: r.keyVersion,
        lookup: bin(r.lookup), sealed_summary: bin(r.sealedSummary), sealed_details: bin(r.sealedDetails), created_at: r.createdAt, updated_at: r.updatedAt, deleted_at: r.deletedAt,
      };
      if (r.revision > MAX_REVISION_STEP) throw tampered('jumps its revision out of reach');
      const opened = this.openIncoming(db, incoming, r);
      // A record over a revision this desktop never held is a change of it, not its writer making it (unheldEntryShape).
      const [need] = entryWriteNeeds(unheldEntryShape(r.base, groupId), { group: groupId, deleted: r.deletedAt !== null });
      const permission: Permission = need?.permission ?? 'entries.create';
      const holds = senders.holdsGroupKey(groupId, author.id);
      if (!holds || !can({ role: author.role, permissions: author.permissions, groups: new Map() }, permission)) {
        throw tampered(`does what its sender may not (${permission} in a group they ${holds ? 'hold' : 'do not hold'})`);
      }
      checked = { incoming, opened };
    } catch (error) {
      if (!isCrewvaultError(error) || (error.code !== 'VAULT_TAMPERED' && error.code !== 'CONFLICT')) throw error;
      putHeld(db, { record_id: r.id, body: senders.heldBody(r), reason: error.message, held_at: this.core.now() });
      tally.held.push({ id: r.id, kind: r.kind, reason: error.message, revision: r.revision });
      return;
    }
    const id = insertAgreedEntry(db, checked.incoming, r.revision);
    if (r.deletedAt === null && checked.opened.summary) this.core.pages.set(checked.incoming.group_id, pageItem(id, checked.incoming.customer_id, checked.opened.summary, r.updatedAt));
    tally.applied++;
  }

  /**
   * `held`: the entries this replica held when the batch's transaction began (entryUidsHeld).
   * One not among them is still not here: a batch names an object once, and a conflict copy is
   * a new entry of a new id.
   */
  private takeEntry(db: WriteDb, r: EntryRecord, author: Author, tally: Tally, held: ReadonlySet<string>, moves: MovesHanded): void {
    const uid = uidBytes(r.id);
    const customerId = this.localId(db, 'customers', r.customer, 'a customer');
    const groupId = this.localId(db, 'access_groups', r.group, 'an access group');
    if (customerId === null || groupId === null) return;
    const incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'> = {
      uid, customer_id: customerId, group_id: groupId, customer_uid: uidBytes(r.customer), group_uid: uidBytes(r.group), key_version: r.keyVersion,
      lookup: bin(r.lookup), sealed_summary: bin(r.sealedSummary), sealed_details: bin(r.sealedDetails), created_at: r.createdAt, updated_at: r.updatedAt, deleted_at: r.deletedAt,
    };
    const stored = held.has(uid.toString('hex')) ? entryByUid(db, uid) : undefined;
    // The tombstone an event alone made of an entry (namedOnlyEntry) is no version of it held here: its first record
    // is judged as new and written over it. Judged as a move out of the deleted group it stands in, which nobody holds
    // here, every record of the entry was refused for good (hostile review of 5c257f7).
    const local = stored !== undefined && isNamedOnlyEntry(stored) ? undefined : stored;
    // A pull from 0 after HISTORY_CHANGED: what the server holds of it, for settleStartOver.
    const handed = this.restarting;
    if (handed !== undefined) {
      const before = handed.get(uid.toString('hex'));
      if (before === undefined || r.revision >= before.revision) handed.set(uid.toString('hex'), { revision: r.revision, group: groupId, deleted: r.deletedAt !== null, lost: false });
    }
    if (this.ownComingBack(db, r)) {
      tally.unchanged++;
      return;
    }
    // A delete of an entry of a group deleted here (on a page after the group's record, which took it
    // and dropped any unsent change of it here): the entry went with its group, nothing is left to take.
    if (r.deletedAt !== null && getGroupRow(db, groupId) === undefined) {
      tally.unchanged++;
      return;
    }
    if (r.revision > (local?.revision ?? 0) + MAX_REVISION_STEP) throw tampered('jumps its revision out of reach');
    const agreed = local ? replicaBase(db, uid) : 0;
    const changedHere = local !== undefined && local.revision !== agreed;
    const atFloor = handed !== undefined && local !== undefined && !changedHere && r.revision === agreed;
    if (local) {
      // What this replica holds already, or has moved past, is settled without opening it (it may
      // be sealed under a group key version since replaced).
      const same = local.sealed_summary.equals(incoming.sealed_summary) && local.sealed_details.equals(incoming.sealed_details) && local.deleted_at === r.deletedAt
        && local.group_id === groupId && local.customer_id === customerId;
      if (same) {
        if (r.revision >= local.revision) {
          if (r.revision > local.revision) setRevision(db, 'entries', local.id, r.revision);
          setReplicaBase(db, uid, r.revision);
        }
        tally.unchanged++;
        tally.recognised++;
        return;
      }
      // After HISTORY_CHANGED, another version at the very revision agreed here (nothing changed here
      // since) is a real conflict: someone wrote over the revision the restored server lost. A live
      // one over an agreed delete is the delete lost: kept, and sent again (settleStartOver).
      if (atFloor && handed !== undefined && local.deleted_at !== null && r.deletedAt === null) {
        handed.set(uid.toString('hex'), { revision: r.revision, group: groupId, deleted: false, lost: true });
        tally.unchanged++;
        return;
      }
      if (r.revision <= (changedHere ? agreed : local.revision) && !atFloor) {
        tally.unchanged++; // stale, or a replay; after HISTORY_CHANGED a version the server went back to (settleStartOver sends ours again)
        return;
      }
      if (local.deleted_at !== null && r.deletedAt !== null && (local.group_id !== groupId || local.customer_id !== customerId)) {
        // Tombstones of one entry in two groups (finding C8a): this desktop's delete not sent, or one it
        // emptied (the entry left its reach), against the team's delete made where the entry had gone
        // (moved there, then deleted). Two deletes agree: the team's is taken, judged as the delete it
        // is, and nothing is sent over it. Refused as tampering ("moves a deleted entry"), it was set
        // aside, this desktop's own pushed over it (overwriteRefused, its log blaming the teammate), and
        // that set aside for good on every desktop holding the first (sync-tombstones-two-groups.test.ts).
        if (changedHere || local.revision === 0) {
          this.requireSenderMay(db, author, 'entries.delete', groupId);
          this.replace(db, local, r, {}, incoming);
          tally.applied++;
          return;
        }
        // Over the team's own tombstone a record carries nothing: it moves the entry's group only as a
        // move may (requireAllowed: entries.edit in both, as the server asks), never its customer.
        if (local.customer_id !== customerId) throw tampered('moves a deleted entry to another customer');
      }
    }
    // Opened before anything is written: a record its group's key does not open is refused.
    const opened = this.openIncoming(db, incoming, r);
    // Judged from where the moves of it this desktop did not see put it, as far as each holds (replica-moves.ts).
    const base = local === undefined ? undefined : this.afterMoves(db, local, agreed, r, moves);
    this.requireAllowed(db, author, r, local, opened, groupId, base);
    if (opened.rotatedFrom) {
      this.takeAcrossRotation(db, local, r, opened, incoming, tally);
      return;
    }
    if (!local) {
      const id = insertReplicaEntryOverNamed(db, incoming);
      this.settle(db, id, r, opened, incoming);
      tally.applied++;
      return;
    }
    if (!changedHere && !atFloor) {
      // Nothing changed here since last agreed: the newer record replaces it.
      this.replace(db, local, r, opened, incoming);
      tally.applied++;
      return;
    }
    // Changed here and there since last agreed.
    if (this.givenWay(db, local, r, opened, incoming, agreed)) {
      tally.applied++;
      return;
    }
    this.takeBothChanged(db, local, r, opened, incoming, agreed, tally);
  }

  /**
   * An entry changed here and in the record since they last agreed (replica-both-changed.ts
   * decides): an edit here is kept as a conflict copy (or merged, differing only in the HOTP
   * counter); a change that says nothing new — a counter step, a re-seal — never makes a copy
   * nor undoes a delete; the HOTP counter never goes below either side's.
   */
  private takeBothChanged(db: WriteDb, local: EntryReplicaRow, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>, agreed: number, tally: Tally): void {
    const mine = this.openLocal(local);
    const samePlace = local.group_id === incoming.group_id && local.customer_id === incoming.customer_id;
    const move = bothChangedMove({
      deletedHere: local.deleted_at !== null,
      deletedThere: r.deletedAt !== null,
      sameContent: samePlace && mine !== undefined && opened.summary !== undefined && opened.details !== undefined
        && canonical(mine.summary) === canonical(opened.summary) && canonical(mine.details) === canonical(opened.details),
      contentWrittenHere: hasUnsentEntryWrite(db, local.id, sentSeq(db), thisDeviceId(db), ENTRY_CONTENT_ACTIONS),
      // Its edit's event may have come in an earlier pull than the record (store-edits-ahead.ts), the edit in it or not.
      contentEditedElsewhere: this.intake.contentEditedElsewhere(r.id) || editAheadIn(db, r.id, r, agreed) === 'content',
      codesTakenElsewhere: this.intake.codesTakenElsewhere(r.id),
      resealedElsewhere: samePlace && r.revision === agreed + 1 && r.keyVersion > local.key_version,
      morePages: this.intake.morePages,
    });
    // Set aside until the pull's last page: an edit event of theirs on a later page keeps their version instead.
    if (move === 'wait') throw new CrewvaultError('CONFLICT', 'An entry deleted on this desktop waits for the rest of the pull (an edit of it may come on a later page): nothing was applied.');
    if (move === 'keep-delete') {
      // Theirs agreed, this desktop's delete written again over it: sent next, based on theirs.
      this.replace(db, local, r, opened, incoming);
      deleteEntryRow(db, local.id, local.deleted_at ?? this.core.now());
      this.removeFromPage(incoming.group_id, local.id);
      tally.applied++;
      return;
    }
    if (move === 'take-theirs') {
      this.replace(db, local, r, opened, incoming);
      if (this.raiseCounter(db, incoming.uid, mine?.details, opened)) tally.countersMerged++;
      tally.applied++;
      return;
    }
    const merged = this.mergeCounters(local, opened);
    if (merged) {
      this.replace(db, local, r, opened, incoming);
      const row = entryByUid(db, incoming.uid);
      // This replica's counter was ahead: written again over the record (a change of its own, sent next).
      if (row && merged.summary) this.core.entries.rewrite(db, entryRowOf(row), fieldsOf(merged.summary), merged.details);
      tally.countersMerged++;
      tally.applied++;
      return;
    }
    this.keepOwnVersion(db, local, tally, opened.details);
    this.replace(db, local, r, opened, incoming);
    this.raiseCounter(db, incoming.uid, mine?.details, opened);
    tally.applied++;
  }

  /** This replica's live version opened with its group's key, where it is held (a codes-only member holds no secret key: undefined). */
  private openLocal(local: EntryReplicaRow): { readonly summary: SealedSummary; readonly details: SealedDetails } | undefined {
    if (local.deleted_at !== null) return undefined;
    const group = this.groupKey(local.group_id);
    if (!group?.secret) return undefined;
    try {
      const row = entryRowOf(local);
      return { summary: openSummary(row, group), details: openDetails(row, group) };
    } catch {
      return undefined; // sealed under a key version this desktop no longer opens: nothing to compare
    }
  }

  /**
   * The record just taken in holds the same HOTP key as this replica's version had, at a lower
   * counter: written again at this side's counter (a change of this replica's, sent next), so a
   * code used here is never shown again. True when it was.
   */
  private raiseCounter(db: WriteDb, uid: Buffer, mine: SealedDetails | undefined, opened: OpenedIncoming): boolean {
    if (!mine?.otp || !opened.summary || !opened.details?.otp || !sameHotpKey(mine, opened.details)) return false;
    if (mine.otp.counter <= opened.details.otp.counter) return false;
    const row = entryByUid(db, uid);
    if (!row) return false;
    this.core.entries.rewrite(db, entryRowOf(row), fieldsOf(opened.summary), { ...opened.details, otp: { ...opened.details.otp, counter: mine.otp.counter } });
    return true;
  }

  /**
   * What the record does, its sender must be allowed (shared/policy-writes.ts entryWriteNeeds,
   * which the server asks too): create (a new entry), delete (a tombstone), edit (a change, or a
   * move: in both groups) — in groups they hold. A change of the HOTP counter alone is the code
   * someone took (codes-service.ts), allowed to whoever may see codes.
   */
  private requireAllowed(db: ReadDb, author: Author, r: EntryRecord, local: EntryReplicaRow | undefined, opened: OpenedIncoming, groupId: number, base?: EntryShape<number>): void {
    // Seen here and not by the server (it cannot open the seal): a live entry's HOTP counter stepped on alone.
    if (local && r.deletedAt === null && local.deleted_at === null && local.group_id === groupId && this.onlyCounterMovedOn(local, opened)) {
      this.requireSenderMay(db, author, 'otp.view', groupId);
      return;
    }
    // The rest as the team server judges it (shared/policy-writes.ts: one rule for both).
    const next = { group: groupId, deleted: r.deletedAt !== null };
    const mayFrom = (held: EntryShape<number> | undefined): boolean => entryWriteNeeds(held, next).every((need) => this.senderMay(db, author, need.permission, need.group));
    // A row emptied here (revision 0: a revoke, a grant, an entry that left reach, a deleted group's)
    // holds nothing of the entry but the group it was emptied in, which the team may have moved it out
    // of since: a record over it is taken as by a file that never held it (a first sync's), or as over
    // that group. Judged as a move out of it alone, an edit by someone who never held it was set aside
    // (until someone who held it wrote it again), the entry missing from a group this person holds (sync-tombstones-two-groups.test.ts).
    // A record over a revision the team held (base > 0) whose earlier ones this desktop never held (or holds
    // emptied) is a change of the entry, judged as one in the record's group (unheldEntryShape): judged as its
    // writer making it, an edit or a move in by someone whose role lacks entries.create was set aside for good.
    const unheld = unheldEntryShape(r.base, groupId);
    if (local?.revision === 0 && (mayFrom(undefined) || (unheld !== undefined && mayFrom(unheld)))) return;
    const here = local === undefined ? unheld : { group: local.group_id, deleted: local.deleted_at !== null };
    // From where the moves this desktop did not see put the entry, or else from where it stands here, as before them:
    // a chain stopped part way (a move's author lost a group since, a move not handed) ends where the entry had gone
    // on from, and judged from there alone a record taken before the moves was set aside for good (hostile review of e041305).
    const held = base !== undefined && mayFrom(base) ? base : here;
    for (const need of entryWriteNeeds(held, next)) this.requireSenderMay(db, author, need.permission, need.group);
  }

  /**
   * Where the entry held here as `local` (agreed at `agreed`) stands once the moves of it handed
   * with `r` that hold are followed (replica-moves.ts; SECURITY.md Known limits, the missed move):
   * a move made and changed again before this desktop synced, the change by someone who holds only
   * the group it went to, was judged from where it was here and set aside for good.
   */
  private afterMoves(db: ReadDb, local: EntryReplicaRow, agreed: number, r: EntryRecord, moves: MovesHanded): EntryShape<number> {
    const from = { group: local.group_id, deleted: local.deleted_at !== null, revision: agreed };
    const handed = moves.of(r.id);
    if (handed.length === 0) return from;
    return standingAfterMoves(from, r, handed, {
      vouched: (m) => moves.vouched(m),
      groupHere: (uid) => { const id = idByUid(db, 'access_groups', uidBytes(uid)); return id === undefined || getGroupRow(db, id) === undefined ? undefined : id; },
      may: (author, permission, group) => this.senderMay(db, author, permission, group),
    });
  }

  /**
   * Only the HOTP counter changed, and forward by a few steps (codes taken): what someone who
   * may only see codes can cause. Backward, or far ahead, is an edit like any other.
   */
  private onlyCounterMovedOn(local: EntryReplicaRow, opened: OpenedIncoming): boolean {
    const group = this.groupKey(local.group_id);
    if (!group?.secret || !opened.summary || !opened.details?.otp) return false;
    const row = entryRowOf(local);
    const mine = openDetails(row, group);
    if (!mine.otp || !onlyCounterDiffers(mine, opened.details, openSummary(row, group), opened.summary)) return false;
    const step = opened.details.otp.counter - mine.otp.counter;
    return step > 0 && step <= MAX_COUNTER_STEP;
  }

  /** Writes the record over the local row, at the record's revision, agreed. */
  private replace(db: WriteDb, local: EntryReplicaRow, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>): void {
    overwriteReplicaEntry(db, local.id, incoming);
    if (local.group_id !== incoming.group_id && local.deleted_at === null) this.removeFromPage(local.group_id, local.id);
    this.settle(db, local.id, r, opened, incoming);
  }

  /**
   * Takes an entry off its group's summary page, where this person holds that group's key: a
   * group they never held has no page here (its rows stay sealed as they came), so an entry moved
   * out of it into one of theirs, or a tombstone of it, is taken in as new there, never asking for
   * a key this desktop lacks (review 13b, hole 3: every later sync ended NOT_FOUND).
   */
  private removeFromPage(groupId: number, entryId: number): void {
    if (this.groupKey(groupId) !== undefined) this.core.pages.remove(groupId, entryId);
  }

  private settle(db: WriteDb, id: number, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>): void {
    setRevision(db, 'entries', id, r.revision);
    setReplicaBase(db, incoming.uid, r.revision);
    if (r.deletedAt !== null) this.removeFromPage(incoming.group_id, id);
    else if (opened.summary) this.core.pages.set(incoming.group_id, pageItem(id, incoming.customer_id, opened.summary, r.updatedAt));
  }

  private groupKey(groupId: number): GroupKey | undefined {
    return this.core.ring.groups.get(groupId);
  }

  /**
   * The incoming entry opened with this person's key of its group: sealed by global id only,
   * its lookup the one its customer and title give. A group whose key is not held: stored as
   * it came, signed by a sender who holds it (requireAllowed).
   */
  private openIncoming(db: ReadDb, incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>, r: EntryRecord): OpenedIncoming {
    if (r.deletedAt !== null) return {};
    for (const sealed of [incoming.sealed_summary, incoming.sealed_details]) {
      if (sealed[SEAL_FORMAT_AT - 1] !== SEAL_VERSION) throw tampered('is sealed in an old format');
    }
    const held = this.groupKey(incoming.group_id);
    if (!held) return {};
    // An edit sealed under the version this desktop's unsent rotation replaced (it reached the
    // server first): opened with that version, kept here until the rotation is stored.
    const group = held.version === r.keyVersion ? held : r.keyVersion < held.version ? openKeyRotatedFrom(db, this.core.ring.keyPair, this.core.userId(), incoming.group_id, r.keyVersion) : undefined;
    if (!group) {
      throw new CrewvaultError('CONFLICT', 'The records are sealed under a key of an access group this vault does not hold yet (keys follow membership with the team server): nothing was applied.');
    }
    // Sealed by global id, so the row id it will get here plays no part in opening it.
    const row = entryRowOf({ id: 0, revision: r.revision, ...incoming });
    let summary: SealedSummary;
    let details: SealedDetails | undefined;
    try {
      summary = openSummary(row, group);
      details = group.secret ? openDetails(row, group) : undefined;
    } catch {
      throw tampered('is an entry that does not open with its group\'s key');
    }
    if (!entryLookupNormalised(group, this.core.customers.normalisedName(db, incoming.customer_id), summary.t).equals(incoming.lookup)) throw tampered('is an entry whose lookup is not its name\'s');
    if (group !== held) return details ? { summary, details, rotatedFrom: true } : { summary, rotatedFrom: true };
    return { summary, details };
  }

  /**
   * An entry of a group this desktop gave way in (review six hole 4: its own unsent rotation lost
   * to the other side's, replica-people-in.ts giveWay), both sides' versions now under the key the
   * other side rotated to (replica-given-way.ts decides): where they say the same, or this
   * desktop wrote nothing to it since it last sent, the other side's version is taken as agreed
   * (no conflict copy, nothing sent); where the other side's is its rotation's re-seal (one write
   * past the agreed one, no edit of it by another device coming with it) and this desktop's says
   * something else (an edit not yet sent), the edit is written again over it and sent. Anything
   * else is an edit on both sides: false, a conflict copy as ever.
   */
  private givenWay(db: WriteDb, local: EntryReplicaRow, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>, agreed: number): boolean {
    if (local.deleted_at !== null || r.deletedAt !== null || !opened.summary || !opened.details) return false;
    if (local.group_id !== incoming.group_id || local.customer_id !== incoming.customer_id || !groupsToRotateAgain(db).includes(local.group_id)) return false;
    const group = this.groupKey(local.group_id);
    if (!group?.secret || group.version !== local.key_version) return false;
    const row = entryRowOf(local);
    let mineSummary: SealedSummary;
    let mine: SealedDetails;
    try {
      mineSummary = openSummary(row, group);
      mine = openDetails(row, group);
    } catch {
      return false;
    }
    const move = givenWayMove({
      sameContent: canonical(mineSummary) === canonical(opened.summary) && canonical(mine) === canonical(opened.details),
      writtenHere: hasUnsentEntryWrite(db, local.id, sentSeq(db), thisDeviceId(db)),
      revision: r.revision, agreed, editedElsewhere: this.intake.editedElsewhere(r.id) || editAheadIn(db, r.id, r, agreed) !== undefined, morePages: this.intake.morePages,
    });
    // Set aside until the pull's last page: an edit event of the winner's on a later page makes it a conflict copy instead.
    if (move === 'wait') throw new CrewvaultError('CONFLICT', 'An entry of a group this desktop gave way in waits for the rest of the pull (an edit of it may come on a later page): nothing was applied.');
    if (move === 'conflict') return false;
    this.replace(db, local, r, opened, incoming);
    if (move === 'take-theirs') return true;
    const after = entryByUid(db, incoming.uid);
    if (after) this.core.entries.rewrite(db, entryRowOf(after), fieldsOf(mineSummary), mine);
    return true;
  }

  /**
   * An entry sealed under the key version this desktop rotated from, stored by the server before
   * the rotation (docs/SYNC.md, "an edit crossing a rotation"): taken as agreed and sealed again at
   * once under the group's current key, a change of this desktop's sent with its rotation. This
   * desktop's own unsent edit of it (beyond the rotation's re-seal) is kept as a conflict copy.
   * Where this person holds no secret key to seal the details again, the record waits (CONFLICT).
   */
  private takeAcrossRotation(db: WriteDb, local: EntryReplicaRow | undefined, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision' | 'seq'>, tally: Tally): void {
    if (!opened.summary || !opened.details) throw new CrewvaultError('CONFLICT', 'An entry sealed under the key this desktop rotated from needs the group\'s secret key to seal again: nothing was applied.');
    if (local) {
      if (local.deleted_at === null && hasUnsentEntryWrite(db, local.id, sentSeq(db), thisDeviceId(db))) {
        this.keepOwnVersion(db, local, tally);
      }
      this.replace(db, local, r, opened, incoming);
    } else this.settle(db, insertReplicaEntryOverNamed(db, incoming), r, opened, incoming);
    const after = entryByUid(db, incoming.uid);
    if (after) this.core.entries.rewrite(db, entryRowOf(after), fieldsOf(opened.summary), opened.details);
    tally.applied++;
  }

  /** Local and incoming differ only in an HOTP counter: the incoming one with the highest counter. */
  private mergeCounters(local: EntryReplicaRow, opened: OpenedIncoming): { summary: SealedSummary | undefined; details: SealedDetails } | undefined {
    if (local.deleted_at !== null || !opened.summary || !opened.details) return undefined;
    const group = this.groupKey(local.group_id);
    if (!group?.secret) return undefined;
    const row = entryRowOf(local);
    const mineSummary = openSummary(row, group);
    const mine = openDetails(row, group);
    if (!onlyCounterDiffers(mine, opened.details, mineSummary, opened.summary) || !mine.otp || !opened.details.otp) return undefined;
    if (mine.otp.counter <= opened.details.otp.counter) return { summary: undefined, details: opened.details };
    return { summary: opened.summary, details: { ...opened.details, otp: { ...opened.details.otp, counter: mine.otp.counter } } };
  }

  /**
   * Entries the team server's pull told left this person's reach (moved out of a group they hold
   * into one they do not: replica-left-reach.ts), dropped here when the signed record that moved
   * each holds (its signature or its batch's, in `batches`, checked as a pulled record's); an edit
   * of one made here and not sent is kept as a copy in the group it was in. Its own transaction,
   * before the page that told it is taken in (the server tells no entry the same pull hands): told
   * again if this one is lost; those it leaves standing are judged once more after the page
   * (electron/team/sync.ts), whose grants, keys and groups a move may need.
   */
  async leaveReach(told: LeftTold, batches: readonly RecordBatch[] = []): Promise<LeftReach> {
    return this.core.write((w) => {
      this.core.requireOpen(w);
      const keys = signingKeysInForce(w);
      const senders = new SenderRows(w, vaultId(w), new VerifiedSignatures(), new Map(batches.map((b) => [b.id, b])));
      return leaveReach(w, told, {
        userId: this.core.userId(), now: this.core.now(), keepCopy: (db, local) => this.conflictCopy(db, local), unlist: (groupId, entryId) => this.removeFromPage(groupId, entryId),
        // Named by its ids only, scoped to the group it was in here (held): the sealed detail says what and why, no name.
        dropped: (db, local, change) => this.core.audit(db, { action: 'group.changes_dropped', subject: LEFT_REACH, entry_id: local.id, customer_id: local.customer_id, group_id: local.group_id }, droppedText(change)),
        vouched: (db, r) => this.sender(db, keys, r, senders),
      });
    });
  }

  /**
   * This replica's version of an entry both sides changed: kept as a copy (conflictCopy) where the
   * person's role may add entries; else dropped, told and audited (replica-copy-not-added.ts), as a
   * copy no push of theirs may carry would stay here for good, never reaching the team.
   */
  private keepOwnVersion(db: WriteDb, local: EntryReplicaRow, tally: Tally, theirs?: SealedDetails): void {
    if (local.deleted_at !== null) return;
    const user = getUser(db, this.core.userId());
    if (user !== undefined && mayKeepCopy(rolePermissions(db, user.role))) {
      const copy = this.conflictCopy(db, local, theirs);
      if (copy) tally.conflictCopies.push(copy);
      return;
    }
    this.core.audit(db, { action: 'group.changes_dropped', subject: NOT_COPIED, entry_id: local.id, customer_id: local.customer_id, group_id: local.group_id }, notCopiedText());
    tally.copiesNotAdded++;
  }

  /**
   * This replica's version of an entry both sides changed, kept as a new entry beside it
   * (audited). A local delete needs none (a delete loses to an edit made beside it). Where
   * the signed-in person cannot open it to copy it, the batch waits for someone who can.
   */
  private conflictCopy(db: WriteDb, local: EntryReplicaRow, theirs?: SealedDetails): EntrySummary | undefined {
    if (local.deleted_at !== null) return undefined;
    const group = this.groupKey(local.group_id);
    if (!group?.secret) {
      throw new CrewvaultError('CONFLICT', 'An entry was changed on this desktop and on another, and your role holds no key to keep a copy of this desktop\'s version: nothing was applied (someone who holds the group\'s key can take these changes in).');
    }
    const row = entryRowOf(local);
    const summary = openSummary(row, group);
    const details = openDetails(row, group);
    const stored = storedOtp(details);
    // The copy holds the same HOTP key as the entry beside it: never at a counter below theirs (a code used there).
    const theirCounter = theirs?.otp && sameHotpKey(details, theirs) ? theirs.otp.counter : 0;
    const otp = stored && stored.params.kind === 'hotp' && stored.params.counter < theirCounter ? { ...stored, params: { ...stored.params, counter: theirCounter } } : stored;
    // The person's own edit, kept: as a copy beside the entry (no entries.create asked of a
    // sync, which creates nothing new in substance), in the group it was in.
    const copy = this.core.entries.insert(db, {
      customer: this.core.customers.name(db, local.customer_id),
      title: `${summary.t.slice(0, FIELD_LIMITS.title - COPY_SUFFIX.length)}${COPY_SUFFIX}`,
      username: summary.u, url: summary.l, password: details.p, notes: details.n,
      otp: otp ? { params: otp.params, ...(otp.issuer ? { issuer: otp.issuer } : {}) } : null,
      groupId: local.group_id,
    }, new Set([local.group_id]), false);
    this.core.audit(db, { action: 'entry.conflict_copy', entry_id: copy.id, customer_id: local.customer_id, group_id: local.group_id }, `${copy.customer}/${copy.title}`);
    return copy;
  }

  /**
   * Tries again, in record order, the events of `records` this apply set aside, pass after pass while one is taken (a chain's
   * next waits on the one before it); returns how many were chained. Each is set aside again (with its reason) or taken.
   */
  private retryEvents(w: WriteDb, records: readonly ReplicaRecord[], keys: ReturnType<typeof signingKeysInForce>, tally: Tally, senders: SenderRows, take: (r: ReplicaRecord, work: () => void) => void): number {
    let chained = 0;
    for (let taken = true; taken;) {
      taken = false;
      const waiting = new Set(tally.held.filter((h) => h.kind === 'event').map((h) => h.id));
      if (waiting.size === 0) break;
      // Their earlier verdicts are replaced by this pass's.
      for (let i = tally.held.length - 1; i >= 0; i--) if (waiting.has(tally.held[i]?.id ?? '')) tally.held.splice(i, 1);
      for (const r of records) {
        if (r.kind === 'event' && waiting.has(r.id)) {
          take(r, () => {
            if (this.takeEvent(w, r, keys, tally, senders)) {
              chained++;
              taken = true;
            }
          });
        }
      }
    }
    return chained;
  }

  /**
   * An event naming an entry this file never held, and a customer and group it holds (live or deleted):
   * the entry is held here as an emptied tombstone (store-replica.ts insertNamedOnlyEntry) so the event,
   * and every later one of its device, chains. Such an entry is one the team has not been sent (yet, or
   * ever): its author made it offline in a group deleted since (docs/SYNC.md "A group deleted while
   * changes in it wait here"; hostile review of C7), or made it while their role had `entries.create`
   * and it waits on their desktop since the role lost it (#15: before, the event waited there too, and
   * every later one of the chain, so the owner never saw that technician's reveals and codes). Nothing
   * the receiver checks is weakened: the event's signature, its author's key and its device's chain are
   * checked as for any event (appendReceivedEvent), and its signed bytes name the entry by its global id,
   * which the tombstone carries. The tombstone holds nothing (no name, nothing sealed, revision 0, never
   * sent) and is no version of the entry: the entry's first record is taken in over it (ab5e676,
   * takeEntry). An unknown group is still refused (takeEvent: localId), and so is an unknown customer, but
   * one whose record is set aside here for its sender's role alone (namedOnlyCustomer). So is an author this
   * desktop knows no membership of in the group, and whose role does not hold every group (event-author.ts
   * mayHaveHeldGroup; hostile review of #15: a member signed a reveal of a made-up entry in a group they never
   * held, and every desktop took it): CONFLICT, as before #15, the event and its device's chain after it set
   * aside and tried again at each sync (a member record that comes later lets it in).
   */
  private namedOnlyEntry(db: WriteDb, r: EventRecord, actorId: number): void {
    if (r.entry === null || r.group === null || r.customer === null || idByUid(db, 'entries', uidBytes(r.entry)) !== undefined) return;
    const groupId = idByUid(db, 'access_groups', uidBytes(r.group));
    const customerId = idByUid(db, 'customers', uidBytes(r.customer));
    if (groupId === undefined || customerId === undefined) return;
    if (!mayHaveHeldGroup(db, actorId, groupId)) {
      throw new CrewvaultError('CONFLICT', `The records name an entry this vault does not have (${r.entry}), in an access group its event's author is not known here to have held: the event waits (set aside) with the later events of its device. Nothing was applied.`);
    }
    insertNamedOnlyEntry(db, { uid: uidBytes(r.entry), customer_id: customerId, group_id: groupId, at: r.at });
  }

  /**
   * An event naming a customer this file does not hold: the customer is held here as an emptied tombstone
   * named only (store-replica.ts insertNamedOnlyCustomer), so the event, and every later one of its device,
   * chains. Such a customer is one whose record every desktop set aside: its maker made it while their role
   * had `entries.create` or `entries.edit` and the role has neither now ("adds a customer its sender may
   * not", retried at each sync: an open item of #15, where the event of the making of its entry and every later
   * event of that device were set aside with it, and the owner never saw that technician's reveals and
   * codes). Nothing the receiver checks is weakened: the event's signature, its author's key and its
   * device's chain are checked as for any event (appendReceivedEvent; refused, the tombstone is rolled
   * back with it), and its signed bytes name the customer by its global id, which the tombstone carries.
   * The tombstone holds no name (nothing sealed; the keyed index its record carries, so a customer of the name
   * typed here is refused, not made beside it: customer-names.ts findOrCreate), is never sent and never listed, and
   * is no version of the customer: its first record is taken in over it (takeCustomer), and a record of an
   * entry of it waits for that (CustomerNames.name refuses it, CONFLICT).
   */
  private namedOnlyCustomer(db: WriteDb, r: EventRecord): void {
    if (r.customer === null) return;
    const uid = uidBytes(r.customer);
    if (idByUid(db, 'customers', uid) !== undefined) return;
    // Only a customer whose own record is set aside here for its sender's role alone: a record that is not (a name
    // squatted, never come) keeps its events waiting as before, so that a customer made here of that name may go over
    // it (replica-customer-squatted.ts) or join it (replica-customer-fold.ts), which a tombstone holding its id would stop.
    const held = heldRecordOf(db, uidText(uid));
    if (held === undefined || !held.reason.includes(MAY_NOT_ADD_CUSTOMER)) return;
    // A customer of this desktop's of the same name joins the record once its sender's role allows it (the fold): its events wait for that.
    const nameIndex = heldNameIndex(held.body);
    if (nameIndex === undefined || customerByNameIndex(db, nameIndex) !== undefined) return;
    insertNamedOnlyCustomer(db, { uid, nameIndex, at: r.at });
  }

  /** True when the event was chained into this log (its head is then moved by the caller: moveAuditHeadToLast). */
  private takeEvent(db: WriteDb, r: EventRecord, keys: ReturnType<typeof signingKeysInForce>, tally: Tally, senders: SenderRows): boolean {
    const uid = uidBytes(r.id);
    if (hasEvent(db, uid)) {
      tally.unchanged++;
      return false;
    }
    const actorId = this.localId(db, 'users', r.actor, 'a user');
    // A user disabled here still wrote the events they signed before the disabling (event-author.ts), in whichever order the two arrive.
    if (actorId === null || !mayHaveWritten(db, actorId, r.at, senders.author(actorId) !== undefined)) throw tampered('is an event by a user who is disabled here (signed after the disabling), or nobody');
    this.namedOnlyCustomer(db, r);
    this.namedOnlyEntry(db, r, actorId);
    appendReceivedEvent(db, {
      uid, at: r.at, actor_id: actorId, action: r.action, subject: r.subject,
      entry_id: this.localId(db, 'entries', r.entry, 'an entry'), customer_id: this.localId(db, 'customers', r.customer, 'a customer'),
      group_id: this.localId(db, 'access_groups', r.group, 'an access group'), sealed_detail: r.sealedDetail === null ? null : bin(r.sealedDetail),
      device_id: r.device === null ? null : bin(r.device), device_prev: r.devicePrev === null ? null : bin(r.devicePrev),
      signer_key_id: this.localId(db, 'signing_keys', r.signerKey, 'a signing key'), signature: r.signature === null ? null : bin(r.signature),
      ...recordV3Columns(r),
    }, keys, this.core.ring, { holds: (publicKey, bytes, signature) => senders.verified.holds({ publicKey, bytes, signature }), headLater: true, heldGroups: senders.heldGroups(this.core.userId(), this.core.ring), mayBeWithheld: () => tally.mayBeWithheld.push(r.id) });
    tally.applied++;
    return true;
  }
}

/**
 * The bytes an event record's author signed, worked out from the record alone (global ids as it
 * names them): what appendReceivedEvent works out from the row it chains, for a record that
 * holds, over the text naming vault `vault`. Used only to check signatures ahead: an event signed
 * before review round seven hole 4's fix (v1, no vault) misses the memo and is checked in the transaction.
 */
export function receivedEventBytes(vault: string, record: EventRecord): Buffer {
  const fields = eventRecordSigningText(record);
  const v3 = recordV3Columns(record);
  // A v3 event (whole or redacted): its header and its body's digest; the transaction judges the rest (audit-event-texts.ts v3Fault).
  return isV3(v3) ? Buffer.from(eventTextV3(vault, fields, v3) ?? '', 'utf8') : eventSigningBytes(vault, fields);
}

/**
 * The (key, bytes, signature) of each customer, entry and event record whose signing key is in
 * force here now: checked ahead. Only a memo (VerifiedSignatures): the transaction works out
 * each key and signed bytes again from what it holds, and verifies there whatever is not here.
 */
function signedTriples(db: ReadDb, batch: ReplicaBatch): SignedTriple[] {
  const keys = signingKeysInForce(db);
  const byUid = new Map<string, Buffer | undefined>();
  const keyOf = (signerKey: string): Buffer | undefined => {
    if (!byUid.has(signerKey)) {
      const id = idByUid(db, 'signing_keys', uidBytes(signerKey));
      byUid.set(signerKey, id === undefined ? undefined : keys.get(id)?.public_key);
    }
    return byUid.get(signerKey);
  };
  const triples: SignedTriple[] = [];
  // Record format 2: each batch's one signature (its records are checked by digest in the transaction).
  for (const b of batch.batches ?? []) {
    const publicKey = keyOf(b.signerKey);
    const { signature, ...head } = b;
    if (publicKey) triples.push({ publicKey, bytes: Buffer.from(batchSigningText(batch.vault, head), 'utf8'), signature: bin(signature) });
  }
  for (const record of batch.records) {
    if (record.kind === 'customer' || record.kind === 'entry') {
      const publicKey = keyOf(record.signerKey);
      if (!publicKey) continue;
      const { signature, ...unsigned } = record;
      if (signature !== undefined) triples.push({ publicKey, bytes: Buffer.from(recordSigningText(batch.vault, unsigned), 'utf8'), signature: bin(signature) });
    } else if (record.kind === 'event' && record.signerKey !== null && record.signature !== null) {
      const publicKey = keyOf(record.signerKey);
      if (!publicKey) continue;
      triples.push({ publicKey, bytes: receivedEventBytes(batch.vault, record), signature: bin(record.signature) });
    }
  }
  return triples;
}

/**
 * Within one apply (one write transaction): each sender's user row and role read once, not once
 * a record (a first sync brings an entry and an event per entry, by a handful of people). Sound
 * because it is made after the batch's user records are taken in (the only records that change a
 * user or a role), and the transaction holds the database still; the next apply reads them
 * afresh. Undefined: no such user, or disabled.
 */
class SenderRows {
  private readonly authors = new Map<number, Author | undefined>();

  constructor(private readonly db: ReadDb, readonly vault: string, readonly verified: VerifiedSignatures, private readonly batches: ReadonlyMap<string, RecordBatch> = new Map()) {}

  private readonly batchVerdicts = new Map<string, boolean>();

  /** `r` as set aside in replica_held (with its batch). */
  heldBody(r: ReplicaRecord): string {
    return heldBody(r, this.batches);
  }

  /**
   * Record format 2: throws tampered unless the record's batch came with it, is its sender's under
   * the same key (`publicKey`, the key in force the caller found for the record), lists SHA-256 of
   * `signingText` at the record's index, and its signature holds (verified once a batch).
   */
  batchVouches(r: CustomerRecord | EntryRecord, publicKey: Buffer, signingText: string): void {
    const batch = r.batch === undefined ? undefined : this.batches.get(r.batch);
    if (batch === undefined || r.index === undefined) throw tampered('names a signed batch that did not come with it');
    if (batch.author !== r.author || batch.signerKey !== r.signerKey) throw tampered('names a batch of another sender or key');
    if (batch.digests[r.index] !== recordDigest(signingText)) throw tampered('is not the record its batch lists at its index');
    let verdict = this.batchVerdicts.get(batch.id);
    if (verdict === undefined) {
      const { signature, ...head } = batch;
      verdict = this.verified.holds({ publicKey, bytes: Buffer.from(batchSigningText(this.vault, head), 'utf8'), signature: bin(signature) });
      this.batchVerdicts.set(batch.id, verdict);
    }
    if (!verdict) throw tampered('names a batch that does not hold under its sender\'s signature');
  }

  /** Row ids found, a map a table keyed by the global id as the records name it (a key made of table and id was a new string to hash each time, three a record). */
  private readonly ids = { users: new Map<string, number>(), signing_keys: new Map<string, number>(), customers: new Map<string, number>(), access_groups: new Map<string, number>() };
  private readonly holding = new Map<string, boolean>();
  private owedWhole: readonly HeldScopeKey[] | 'every' | undefined;

  /** The scope keys of the groups whose v3 events `me` is owed whole (read once an apply, after its people records: groupsOwedWhole). */
  heldGroups(me: number, ring: ScopeKeySource & { readonly groups: ReadonlyMap<number, GroupKey> }): readonly HeldScopeKey[] | 'every' {
    this.owedWhole ??= scopeKeysOwedHere(this.db, groupsOwedWhole(this.db, me), ring);
    return this.owedWhole;
  }

  /** A user's, signing key's, customer's or group's row id by global id (undefined: not here). Rows of these are not renumbered within a transaction. */
  localId(db: ReadDb, table: 'users' | 'signing_keys' | 'customers' | 'access_groups', uid: string): number | undefined {
    const ids = this.ids[table];
    const known = ids.get(uid);
    if (known !== undefined) return known;
    const id = idByUid(db, table, uidBytes(uid));
    // A customer or group not here yet may come with a later record of this batch: only ids found are kept.
    if (id !== undefined) ids.set(uid, id);
    return id;
  }

  private readonly uids = new Map<string, Buffer>();

  /**
   * A customer's or group's global id as bytes, made once a page (a first sync's entries name a few
   * thousand customers between them). The same Buffer for every row naming it: read, never written.
   */
  uidOf(text: string): Buffer {
    let bytes = this.uids.get(text);
    if (bytes === undefined) {
      bytes = uidBytes(text);
      this.uids.set(text, bytes);
    }
    return bytes;
  }

  /** Whether a user holds a group's key, read once a pair (entries are taken in after the batch's memberships). */
  holdsGroupKey(groupId: number, userId: number): boolean {
    const key = `${groupId}/${userId}`;
    let holds = this.holding.get(key);
    if (holds === undefined) {
      holds = holdsGroupKey(this.db, groupId, userId);
      this.holding.set(key, holds);
    }
    return holds;
  }

  author(userId: number): Author | undefined {
    if (this.authors.has(userId)) return this.authors.get(userId);
    const user = getUser(this.db, userId);
    const author = !user || user.disabled_at !== null ? undefined : { id: userId, role: user.role, permissions: rolePermissions(this.db, user.role) };
    this.authors.set(userId, author);
    return author;
  }
}

interface OpenedIncoming {
  readonly summary?: SealedSummary;
  readonly details?: SealedDetails;
  /** Opened with a key version this desktop rotated from, its rotation not yet on the server (rotated-from-keys.ts). */
  readonly rotatedFrom?: true;
}

const COPY_SUFFIX = ' (conflict copy)';

function entryRowOf(row: Omit<EntryReplicaRow, 'group_uid' | 'deleted_at' | 'seq'> & Partial<Pick<EntryReplicaRow, 'group_uid' | 'deleted_at' | 'seq'>>): EntryRow {
  return {
    id: row.id, uid: row.uid, revision: row.revision, customer_id: row.customer_id, group_id: row.group_id, key_version: row.key_version, lookup: row.lookup,
    sealed_summary: row.sealed_summary, sealed_details: row.sealed_details, created_at: row.created_at, updated_at: row.updated_at, customer_uid: row.customer_uid,
  };
}

function fieldsOf(summary: SealedSummary): Omit<SealedSummary, 'c'> {
  return { t: summary.t, u: summary.u, l: summary.l, o: summary.o };
}
