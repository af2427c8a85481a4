/**
 * One vault on several desktops: what this replica hands on (its own changes since it last
 * did, as records: shared/sync/records.ts) and how it takes in another's, in one write
 * transaction, all or nothing. The team server will carry the records; two copies of a vault
 * file exchange them directly in the tests. docs/SYNC.md has the rules; in short:
 * - A record names its revision and its base (what its writer last agreed on). Written on
 *   top of what this replica holds (local revision = base): it replaces it. The same content:
 *   agreed. Older than what was agreed: ignored. Otherwise both sides changed the entry: the
 *   record takes the entry's place and this replica's version becomes a visible conflict copy
 *   (nothing is lost silently), except when the two differ only in an HOTP counter: then the
 *   highest counter wins and no copy is made. A delete loses to an edit made beside it.
 * - Entries are opened with the group's key before anything is written (a record that does
 *   not open is refused: VAULT_TAMPERED), and the summary pages follow.
 * - Events are chained into this log only when their author's signature holds and they
 *   follow their device's last event (store-audit.ts appendReceivedEvent).
 * - Not yet: groups, members, keys, users and roles (they will come from the team server,
 *   which decides membership). A record naming a group or user this replica lacks, or an
 *   entry sealed under a group key version it does not hold, refuses the batch.
 * Must never: write part of a batch, keep a record that did not open, or drop a local edit
 * without a copy of it.
 */
import { CrewvaultError } from '../../shared/errors';
import { FIELD_LIMITS, type EntrySummary } from '../../shared/model';
import { REPLICA_FORMAT, replicaBatchSchema, type CustomerRecord, type EntryRecord, type EventRecord, type ReplicaBatch, type ReplicaRecord, type SigningKeyRecord } from '../../shared/sync/records';
import type { ReadDb, WriteDb } from './db';
import type { EntriesService } from './entries-service';
import { pageItem, type PageChanges } from './entry-pages';
import { uidText } from './ids';
import type { GroupKey, KeyRing } from './keys';
import { openDetails, openSummary, storedOtp, type SealedDetails, type SealedSummary } from './sealed-entry';
import { appendReceivedEvent, signingKeysInForce, type AuditFields } from './store-audit';
import type { CustomerNames } from './customer-names';
import { currentSequence } from './store-changes';
import type { EntryRow } from './store-entries';
import { getMeta } from './store-meta';
import {
  customerByNameIndex, customerByUid, customersBetween, entriesBetween, entryByUid, hasEvent, idByUid, insertReplicaCustomer, insertReplicaEntry,
  insertReplicaSigningKey, overwriteReplicaEntry, ownEventsBetween, replicaBase, sentSeq, setReplicaBase, setRevision, setSentSeq, signingKeysBetween,
  thisDeviceId, updateReplicaCustomer, type EntryReplicaRow,
} from './store-replica';

/** What the replica operations need of a signed-in session. */
export interface ReplicaCore {
  readonly db: ReadDb;
  readonly ring: KeyRing;
  readonly pages: PageChanges;
  readonly customers: CustomerNames;
  readonly entries: EntriesService;
  write<T>(work: (db: WriteDb) => T): T;
  audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void;
  /** LOCKED when the session is locked. */
  requireOpen(): void;
}

/** What this replica's changes are, up to which sequence (hand it back to markSent once delivered). */
export interface Outgoing {
  readonly batch: ReplicaBatch;
  readonly upToSeq: number;
}

export interface ApplyOutcome {
  readonly applied: number;
  /** Records this replica already held (or had moved past). */
  readonly unchanged: number;
  /** Entries both sides changed: each local version kept as a copy, by the copy's summary. */
  readonly conflictCopies: readonly EntrySummary[];
  /** HOTP counters merged (the highest kept). */
  readonly countersMerged: number;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64url');
const bin = (text: string): Buffer => Buffer.from(text, 'base64url');
const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');

function vaultId(db: ReadDb): string {
  const id = getMeta(db, 'vault_id');
  if (id === undefined) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: it has no id.');
  return id;
}

/** Records made here since the last batch handed on: own changes only (what came from others is theirs to send). */
export function outgoing(db: ReadDb): Outgoing {
  const from = sentSeq(db);
  const upToSeq = currentSequence(db);
  const records: ReplicaRecord[] = [];
  for (const key of signingKeysBetween(db, from, upToSeq)) {
    if (replicaBase(db, key.uid) > 0) continue; // received, not made here
    records.push({
      kind: 'signing_key', id: uidText(key.uid), user: uidText(key.user_uid), publicKey: b64(key.public_key), createdAt: key.created_at,
      certifiedBy: key.certifier_uid ? uidText(key.certifier_uid) : null, certificate: key.certificate ? b64(key.certificate) : null, binding: key.binding ? b64(key.binding) : null,
    });
  }
  for (const c of customersBetween(db, from, upToSeq)) {
    const base = replicaBase(db, c.uid);
    if (c.revision === base) continue;
    records.push({ kind: 'customer', id: uidText(c.uid), revision: c.revision, base, sealedName: b64(c.sealed_name), nameIndex: b64(c.name_index), createdAt: c.created_at });
  }
  for (const e of entriesBetween(db, from, upToSeq)) {
    const base = replicaBase(db, e.uid);
    if (e.revision === base) continue;
    records.push(entryRecord(e, base));
  }
  const device = thisDeviceId(db);
  for (const a of device ? ownEventsBetween(db, device, from, upToSeq) : []) {
    records.push({
      kind: 'event', id: uidText(a.uid), at: a.at, actor: a.actor_uid ? uidText(a.actor_uid) : null, action: a.action, subject: a.subject,
      entry: a.entry_uid ? uidText(a.entry_uid) : null, customer: a.customer_uid ? uidText(a.customer_uid) : null, group: a.group_uid ? uidText(a.group_uid) : null,
      sealedDetail: a.sealed_detail ? b64(a.sealed_detail) : null, device: a.device_id ? b64(a.device_id) : null, devicePrev: a.device_prev ? b64(a.device_prev) : null,
      signerKey: a.signer_uid ? uidText(a.signer_uid) : null, signature: a.signature ? b64(a.signature) : null,
    });
  }
  return { batch: { format: REPLICA_FORMAT, vault: vaultId(db), records }, upToSeq };
}

function entryRecord(e: EntryReplicaRow, base: number): EntryRecord {
  return {
    kind: 'entry', id: uidText(e.uid), revision: e.revision, base, customer: uidText(e.customer_uid), group: uidText(e.group_uid), keyVersion: e.key_version,
    lookup: b64(e.lookup), sealedSummary: b64(e.sealed_summary), sealedDetails: b64(e.sealed_details), createdAt: e.created_at, updatedAt: e.updated_at, deletedAt: e.deleted_at,
  };
}

/** The batch was delivered: what it carried is agreed, and the next starts after `upToSeq`. */
export function markSent(db: WriteDb, sent: Outgoing): void {
  for (const record of sent.batch.records) {
    if (record.kind === 'customer' || record.kind === 'entry') setReplicaBase(db, uidBytes(record.id), record.revision);
    if (record.kind === 'signing_key') setReplicaBase(db, uidBytes(record.id), 1);
  }
  setSentSeq(db, sent.upToSeq);
}

/**
 * Everything here as agreed: for a vault file copied to start another replica, run on both
 * copies before either changes anything (the team server does this for a first sync).
 */
export function markAllAgreed(db: WriteDb): number {
  let marked = 0;
  for (const c of customersBetween(db, 0, Number.MAX_SAFE_INTEGER)) { setReplicaBase(db, c.uid, c.revision); marked++; }
  for (const e of entriesBetween(db, 0, Number.MAX_SAFE_INTEGER)) { setReplicaBase(db, e.uid, e.revision); marked++; }
  // What was sent stays where it was: this device's events since then still go (each device's
  // chain must reach the other side whole), and a receiver skips those it already holds.
  return marked;
}

function sameBytes(a: Buffer, b: string): boolean {
  return a.equals(bin(b));
}

/** Entry fields equal but for the HOTP counter (which then only moves forward). */
function onlyCounterDiffers(a: SealedDetails, b: SealedDetails, as: SealedSummary, bs: SealedSummary): boolean {
  if (a.otp?.kind !== 'hotp' || b.otp?.kind !== 'hotp') return false;
  const withoutCounter = (otp: NonNullable<SealedDetails['otp']>): string => JSON.stringify({ ...otp, counter: 0 });
  return a.p === b.p && a.n === b.n && withoutCounter(a.otp) === withoutCounter(b.otp)
    && as.t === bs.t && as.u === bs.u && as.l === bs.l && as.o === bs.o && as.c === bs.c;
}

export class ReplicaService {
  private readonly core: ReplicaCore;

  constructor(core: ReplicaCore) {
    this.core = core;
  }

  outgoing(): Outgoing {
    this.core.requireOpen();
    return outgoing(this.core.db);
  }

  markSent(sent: Outgoing): void {
    this.core.requireOpen();
    this.core.write((w) => markSent(w, sent));
  }

  /** Everything here as agreed (a vault file copied to start another replica: markAllAgreed). */
  agreeAll(): number {
    this.core.requireOpen();
    return this.core.write((w) => markAllAgreed(w));
  }

  /** Takes in another replica's batch (parsed here: it came from another machine). */
  apply(input: unknown): ApplyOutcome {
    this.core.requireOpen();
    const parsed = replicaBatchSchema.safeParse(input);
    if (!parsed.success) throw new CrewvaultError('INVALID_INPUT', `Not a batch of replica records: ${parsed.error.issues[0]?.path.join('.') || 'the batch'}: ${parsed.error.issues[0]?.message ?? 'not valid'}.`);
    const batch = parsed.data;
    if (batch.vault !== vaultId(this.core.db)) throw new CrewvaultError('INVALID_INPUT', 'These records are of another vault: nothing was applied.');
    const outcome = this.core.write((w) => {
      const tally = { applied: 0, unchanged: 0, countersMerged: 0, conflictCopies: [] as EntrySummary[] };
      // Keys first (events and certificates name them), then customers, entries, events.
      for (const r of batch.records) if (r.kind === 'signing_key') this.takeSigningKey(w, r, tally);
      for (const r of batch.records) if (r.kind === 'customer') this.takeCustomer(w, r, tally);
      for (const r of batch.records) if (r.kind === 'entry') this.takeEntry(w, r, tally);
      const keys = signingKeysInForce(w);
      for (const r of batch.records) if (r.kind === 'event') this.takeEvent(w, r, keys, tally);
      return tally;
    });
    this.core.customers.clear();
    return outcome;
  }

  private localId(db: ReadDb, table: 'users' | 'customers' | 'access_groups' | 'entries' | 'signing_keys', uid: string | null, what: string): number | null {
    if (uid === null) return null;
    const id = idByUid(db, table, uidBytes(uid));
    if (id === undefined) throw new CrewvaultError('CONFLICT', `The records name ${what} this vault does not have (${uid}): groups, members and users come with the team server. Nothing was applied.`);
    return id;
  }

  private takeSigningKey(db: WriteDb, r: SigningKeyRecord, tally: { applied: number; unchanged: number }): void {
    if (idByUid(db, 'signing_keys', uidBytes(r.id)) !== undefined) {
      tally.unchanged++;
      return;
    }
    const userId = this.localId(db, 'users', r.user, 'a user');
    if (userId === null) return;
    // Whether it vouches for anything is decided where keys are read (store-audit.ts validSigningKeys), as for any key.
    insertReplicaSigningKey(db, {
      uid: uidBytes(r.id), user_id: userId, public_key: bin(r.publicKey), created_at: r.createdAt,
      certified_by: this.localId(db, 'signing_keys', r.certifiedBy, 'a signing key'), certificate: r.certificate === null ? null : bin(r.certificate), binding: r.binding === null ? null : bin(r.binding),
    });
    setReplicaBase(db, uidBytes(r.id), 1);
    tally.applied++;
  }

  private takeCustomer(db: WriteDb, r: CustomerRecord, tally: { applied: number; unchanged: number }): void {
    const uid = uidBytes(r.id);
    const local = customerByUid(db, uid);
    if (!local) {
      const sameName = customerByNameIndex(db, bin(r.nameIndex));
      if (sameName) {
        throw new CrewvaultError('CONFLICT', 'A customer of the same name was made on another desktop at the same time: nothing was applied. (Merging the two comes with the team server.)');
      }
      const id = insertReplicaCustomer(db, { uid, sealed_name: bin(r.sealedName), name_index: bin(r.nameIndex), created_at: r.createdAt });
      setRevision(db, 'customers', id, r.revision);
      setReplicaBase(db, uid, r.revision);
      tally.applied++;
      return;
    }
    if (r.revision <= local.revision) {
      if (local.revision === r.revision && sameBytes(local.sealed_name, r.sealedName)) setReplicaBase(db, uid, r.revision);
      tally.unchanged++;
      return;
    }
    updateReplicaCustomer(db, local.id, { sealed_name: bin(r.sealedName), name_index: bin(r.nameIndex) });
    setRevision(db, 'customers', local.id, r.revision);
    setReplicaBase(db, uid, r.revision);
    tally.applied++;
  }

  private takeEntry(db: WriteDb, r: EntryRecord, tally: { applied: number; unchanged: number; countersMerged: number; conflictCopies: EntrySummary[] }): void {
    const uid = uidBytes(r.id);
    const customerId = this.localId(db, 'customers', r.customer, 'a customer');
    const groupId = this.localId(db, 'access_groups', r.group, 'an access group');
    if (customerId === null || groupId === null) return;
    const incoming: Omit<EntryReplicaRow, 'id' | 'revision'> = {
      uid, customer_id: customerId, group_id: groupId, customer_uid: uidBytes(r.customer), group_uid: uidBytes(r.group), key_version: r.keyVersion,
      lookup: bin(r.lookup), sealed_summary: bin(r.sealedSummary), sealed_details: bin(r.sealedDetails), created_at: r.createdAt, updated_at: r.updatedAt, deleted_at: r.deletedAt,
    };
    const local = entryByUid(db, uid);
    // Opened before anything is written: a record its group's key does not open is refused.
    const opened = this.openIncoming(incoming, r);
    if (!local) {
      const id = insertReplicaEntry(db, incoming);
      this.settle(db, id, r, opened, incoming);
      tally.applied++;
      return;
    }
    const agreed = replicaBase(db, uid);
    const same = local.revision === r.revision && local.sealed_summary.equals(incoming.sealed_summary) && local.sealed_details.equals(incoming.sealed_details) && local.deleted_at === r.deletedAt;
    if (same || r.revision <= agreed) {
      if (same) setReplicaBase(db, uid, r.revision);
      tally.unchanged++;
      return;
    }
    if (local.revision !== r.base) {
      // Both sides changed it since they last agreed.
      const merged = this.mergeCounters(local, opened);
      if (merged) {
        this.replace(db, local, r, opened, incoming);
        const row = entryByUid(db, uid);
        // This replica's counter was ahead: written again over the record (a change of its own, sent next).
        if (row && merged.summary) this.core.entries.rewrite(db, entryRowOf(row), fieldsOf(merged.summary), merged.details);
        tally.countersMerged++;
        tally.applied++;
        return;
      }
      const copy = this.conflictCopy(db, local);
      if (copy) tally.conflictCopies.push(copy);
    }
    this.replace(db, local, r, opened, incoming);
    tally.applied++;
  }

  /** Writes the record over the local row, at the record's revision, agreed. */
  private replace(db: WriteDb, local: EntryReplicaRow, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision'>): void {
    overwriteReplicaEntry(db, local.id, incoming);
    if (local.group_id !== incoming.group_id && local.deleted_at === null) this.core.pages.remove(local.group_id, local.id);
    this.settle(db, local.id, r, opened, incoming);
  }

  private settle(db: WriteDb, id: number, r: EntryRecord, opened: OpenedIncoming, incoming: Omit<EntryReplicaRow, 'id' | 'revision'>): void {
    setRevision(db, 'entries', id, r.revision);
    setReplicaBase(db, incoming.uid, r.revision);
    if (r.deletedAt !== null) this.core.pages.remove(incoming.group_id, id);
    else if (opened.summary) this.core.pages.set(incoming.group_id, pageItem(id, incoming.customer_id, opened.summary, r.updatedAt));
  }

  private groupKey(groupId: number): GroupKey | undefined {
    return this.core.ring.groups.get(groupId);
  }

  /** The incoming entry opened with this person's key of its group (none held: stored as it came, unopened). */
  private openIncoming(incoming: Omit<EntryReplicaRow, 'id' | 'revision'>, r: EntryRecord): OpenedIncoming {
    if (r.deletedAt !== null) return {};
    const group = this.groupKey(incoming.group_id);
    if (!group) return {};
    if (group.version !== r.keyVersion) {
      throw new CrewvaultError('CONFLICT', 'The records are sealed under a key of an access group this vault does not hold yet (keys follow membership with the team server): nothing was applied.');
    }
    // Sealed by global id (format 2), so the row id it will get here plays no part in opening it.
    const row = entryRowOf({ id: 0, revision: r.revision, ...incoming });
    const summary = openSummary(row, group);
    const details = group.secret ? openDetails(row, group) : undefined;
    return { summary, details };
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

  /** This replica's version of an entry both sides changed, kept as a new entry beside it (audited). */
  private conflictCopy(db: WriteDb, local: EntryReplicaRow): EntrySummary | undefined {
    if (local.deleted_at !== null) return undefined; // a delete loses to an edit made beside it
    const group = this.groupKey(local.group_id);
    if (!group) return undefined;
    const row = entryRowOf(local);
    const summary = openSummary(row, group);
    if (!group.secret) {
      throw new CrewvaultError('CONFLICT', 'An entry was changed here and on another desktop, and your role holds no key to keep a copy of yours: nothing was applied.');
    }
    const details = openDetails(row, group);
    const otp = storedOtp(details);
    const copy = this.core.entries.insert(db, {
      customer: this.core.customers.name(local.customer_id),
      title: `${summary.t.slice(0, FIELD_LIMITS.title - COPY_SUFFIX.length)}${COPY_SUFFIX}`,
      username: summary.u, url: summary.l, password: details.p, notes: details.n,
      otp: otp ? { params: otp.params, ...(otp.issuer ? { issuer: otp.issuer } : {}) } : null,
      groupId: local.group_id,
    }, new Set([local.group_id]), false);
    this.core.audit(db, { action: 'entry.conflict_copy', entry_id: copy.id, customer_id: local.customer_id, group_id: local.group_id }, `${copy.customer}/${copy.title}`);
    return copy;
  }

  private takeEvent(db: WriteDb, r: EventRecord, keys: ReturnType<typeof signingKeysInForce>, tally: { applied: number; unchanged: number }): void {
    const uid = uidBytes(r.id);
    if (hasEvent(db, uid)) {
      tally.unchanged++;
      return;
    }
    appendReceivedEvent(db, {
      uid, at: r.at, actor_id: this.localId(db, 'users', r.actor, 'a user'), action: r.action, subject: r.subject,
      entry_id: this.localId(db, 'entries', r.entry, 'an entry'), customer_id: this.localId(db, 'customers', r.customer, 'a customer'),
      group_id: this.localId(db, 'access_groups', r.group, 'an access group'), sealed_detail: r.sealedDetail === null ? null : bin(r.sealedDetail),
      device_id: r.device === null ? null : bin(r.device), device_prev: r.devicePrev === null ? null : bin(r.devicePrev),
      signer_key_id: this.localId(db, 'signing_keys', r.signerKey, 'a signing key'), signature: r.signature === null ? null : bin(r.signature),
    }, keys, this.core.ring);
    tally.applied++;
  }
}

interface OpenedIncoming {
  readonly summary?: SealedSummary;
  readonly details?: SealedDetails;
}

const COPY_SUFFIX = ' (conflict copy)';

function entryRowOf(row: EntryReplicaRow): EntryRow {
  return {
    id: row.id, uid: row.uid, revision: row.revision, customer_id: row.customer_id, group_id: row.group_id, key_version: row.key_version, lookup: row.lookup,
    sealed_summary: row.sealed_summary, sealed_details: row.sealed_details, created_at: row.created_at, updated_at: row.updated_at, customer_uid: row.customer_uid,
  };
}

function fieldsOf(summary: SealedSummary): Omit<SealedSummary, 'c'> {
  return { t: summary.t, u: summary.u, l: summary.l, o: summary.o };
}
