/**
 * Creating, editing and deleting entries, and the one path that seals an entry and writes
 * it (writeEntry): its global id, the customer named by global id, the keyed lookup, both
 * sealed halves and the summary page, all in the caller's write transaction. A code that
 * advances an HOTP counter (codes-service.ts) and an import (import-export.ts) write through
 * it too. Each change is audited with which fields changed, never their values.
 * Must never write an entry over a revision the person did not read (schema 10: CONFLICT).
 */
import { CrewvaultError } from '../../shared/errors';
import type { EntryChanges, EntryInput, EntrySummary } from '../../shared/model';
import type { Permission } from '../../shared/policy';
import type { CustomerNames } from './customer-names';
import type { ReadDb, WriteDb } from './db';
import { defaultGroupId, heldGroupKey, notFound, visibleEntryRow } from './entry-access';
import { field, otpFromInput } from './entry-fields';
import { pageItem, type PageChanges } from './entry-pages';
import { newUid, uidText } from './ids';
import { entryLookup, type KeyRing, type ObjectRef } from './keys';
import { openDetails, openSummary, sealDetails, sealSummary, summaryView, type SealedDetails, type SealedSummary } from './sealed-entry';
import type { AuditFields } from './store-audit';
import { deleteEntryRow, getEntryRow, insertEntryRow, updateEntryRow, type EntryRow } from './store-entries';
import { refOf } from './store-ids';

/** What the entry operations need of a signed-in session. */
export interface EntriesCore {
  readonly ring: KeyRing;
  readonly customers: CustomerNames;
  readonly pages: PageChanges;
  now(): number;
  /** One read transaction through the session's store (store.ts): `work` never awaits. */
  read<T>(work: (db: ReadDb) => T): Promise<T>;
  /** One write transaction through the session's write path (store.ts): `work` never awaits. */
  write<T>(work: (db: WriteDb) => T): Promise<T>;
  audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void;
  /**
   * LOCKED when the session is locked; FORBIDDEN (naming the permission) when `can` says no.
   * Called inside the work it guards, with its handle: the check and the act are one transaction.
   */
  require(db: ReadDb, permission: Permission, groupId?: number): void;
}

/** Where an entry is, as writeEntry names it. */
interface EntryPlace {
  readonly id?: number;
  readonly customer: ObjectRef & { readonly id: number };
  readonly groupId: number;
}

export class EntriesService {
  private readonly core: EntriesCore;

  constructor(core: EntriesCore) {
    this.core = core;
  }

  async create(input: EntryInput): Promise<EntrySummary> {
    return this.core.write((w) => {
      this.core.require(w, 'entries.create');
      return this.insert(w, input);
    });
  }

  /** Creates many entries in one transaction (imports, benches): all or nothing. */
  async createMany(inputs: readonly EntryInput[]): Promise<EntrySummary[]> {
    return this.core.write((w) => {
      this.core.require(w, 'entries.create');
      const allowed = new Set<number>();
      return inputs.map((input) => this.insert(w, input, allowed));
    });
  }

  /** `baseRevision`: the revision the change was made from (EntrySummary.revision), required; CONFLICT when it is stale. */
  async update(id: number, changes: EntryChanges, baseRevision: number): Promise<EntrySummary> {
    return this.core.write((w) => {
      this.core.require(w, 'entries.edit');
      const row = this.rowToWrite(w, id, baseRevision);
      const group = heldGroupKey(this.core.ring, row.group_id);
      const summary = openSummary(row, group);
      const details = openDetails(row, group);
      const customer = changes.customer === undefined ? this.core.customers.name(w, row.customer_id) : field(changes.customer, 'customer', true);
      const place = entryPlace(row);
      const customerRef = changes.customer === undefined ? place.customer : this.core.customers.findOrCreate(w, customer);
      const nextSummary: Omit<SealedSummary, 'c'> = {
        t: changes.title === undefined ? summary.t : field(changes.title, 'title', true),
        u: changes.username === undefined ? summary.u : field(changes.username, 'username', false),
        l: changes.url === undefined ? summary.l : field(changes.url, 'url', false),
        o: changes.otp === undefined ? summary.o : changes.otp ? changes.otp.params.kind : null,
      };
      const nextDetails: SealedDetails = {
        p: changes.password === undefined ? details.p : field(changes.password, 'password', false),
        n: changes.notes === undefined ? details.n : field(changes.notes, 'notes', false),
        otp: changes.otp === undefined ? details.otp : otpFromInput(changes.otp),
      };
      const stored = this.writeEntry(w, { ...place, customer: customerRef }, nextSummary, nextDetails);
      // Which fields changed, never their values.
      const changed = Object.keys(changes).filter((k) => changes[k as keyof EntryChanges] !== undefined).sort().join(', ');
      this.core.audit(w, { action: changes.otp === null && changed === 'otp' ? 'entry.remove_otp' : 'entry.edit', entry_id: id, customer_id: customerRef.id, group_id: row.group_id }, `${customer}/${nextSummary.t} (${changed || 'nothing'})`);
      return summaryView(stored.row, stored.summary, customer);
    });
  }

  /** Leaves a tombstone (store-entries.ts); `baseRevision` as for update, required. */
  async delete(id: number, baseRevision: number): Promise<void> {
    await this.core.write((w) => {
      this.core.require(w, 'entries.delete');
      const row = this.rowToWrite(w, id, baseRevision);
      const summary = openSummary(row, heldGroupKey(this.core.ring, row.group_id));
      this.core.audit(w, { action: 'entry.delete', entry_id: id, customer_id: row.customer_id, group_id: row.group_id }, `${this.core.customers.name(w, row.customer_id)}/${summary.t}`);
      deleteEntryRow(w, id, this.core.now());
      this.core.pages.remove(row.group_id, id);
    });
  }

  /**
   * Checks, seals and inserts one new entry in the caller's write transaction.
   * `allowed`: groups already checked for entries.create in this transaction (a bulk insert
   * asks once per group, not once per entry: the check re-reads the user and their keys).
   * `auditEach` false: the caller audits the whole batch in one row (an import).
   */
  insert(db: WriteDb, input: EntryInput, allowed?: Set<number>, auditEach = true): EntrySummary {
    const customer = field(input.customer, 'customer', true);
    const title = field(input.title, 'title', true);
    const username = field(input.username, 'username', false);
    const url = field(input.url, 'url', false);
    const details: SealedDetails = { p: field(input.password, 'password', false), n: field(input.notes, 'notes', false), otp: otpFromInput(input.otp) };
    const groupId = input.groupId ?? defaultGroupId(db, this.core.ring);
    if (!allowed?.has(groupId)) {
      this.core.require(db, 'entries.create', groupId);
      allowed?.add(groupId);
    }
    const customerRef = this.core.customers.findOrCreate(db, customer);
    const { row, summary } = this.writeEntry(db, { customer: customerRef, groupId }, { t: title, u: username, l: url, o: details.otp ? details.otp.kind : null }, details);
    if (auditEach) this.core.audit(db, { action: 'entry.create', entry_id: row.id, customer_id: row.customer_id, group_id: groupId }, `${customer}/${title}`);
    return summaryView(row, summary, customer);
  }

  /** Seals `row` again where it is, with new contents (an HOTP counter that advanced). */
  rewrite(db: WriteDb, row: EntryRow, fields: Omit<SealedSummary, 'c'>, details: SealedDetails): void {
    this.writeEntry(db, entryPlace(row), fields, details);
  }

  /**
   * Seals and writes an entry: a new one (no `id`: it gets its global id here and is sealed
   * before it is inserted) or an existing one. The summary names the customer by global id.
   */
  private writeEntry(db: WriteDb, target: EntryPlace, fields: Omit<SealedSummary, 'c'>, details: SealedDetails): { readonly row: EntryRow; readonly summary: SealedSummary } {
    const group = heldGroupKey(this.core.ring, target.groupId);
    const now = this.core.now();
    const entry: ObjectRef = target.id === undefined ? { uid: newUid(now) } : refOf(db, 'entries', target.id);
    const summary: SealedSummary = { c: uidText(target.customer.uid), ...fields };
    const written = {
      customer_id: target.customer.id,
      group_id: target.groupId,
      key_version: group.version,
      lookup: entryLookup(group, this.core.customers.name(db, target.customer.id), summary.t),
      sealed_summary: sealSummary(entry, group, summary),
      sealed_details: sealDetails(entry, group, details),
      updated_at: now,
    };
    if (target.id === undefined) {
      // A new row is what was just written (revision 1): no need to read it back.
      const id = insertEntryRow(db, { uid: entry.uid, ...written, created_at: now });
      this.core.pages.set(target.groupId, pageItem(id, target.customer.id, summary, now));
      return { row: { id, uid: entry.uid, revision: 1, customer_uid: target.customer.uid, created_at: now, ...written }, summary };
    }
    updateEntryRow(db, { id: target.id, ...written });
    this.core.pages.set(target.groupId, pageItem(target.id, target.customer.id, summary, now));
    const row = getEntryRow(db, target.id);
    if (!row) throw notFound();
    return { row, summary };
  }

  /**
   * The entry `id` as this person may write it: CONFLICT when `baseRevision` (the revision
   * they read) is not the stored one — someone else wrote it since, and their change is not
   * to be overwritten unseen (schema 10).
   */
  private rowToWrite(db: ReadDb, id: number, baseRevision: number): EntryRow {
    const row = visibleEntryRow(db, this.core.ring, id);
    requireBaseRevision(row, baseRevision);
    return row;
  }
}

/**
 * Every shared write of an entry (edit, OTP removal or replacement, delete, move) names the
 * revision it was made from, whatever the door (#13: the rule is the vault's, not the caller's
 * choice): none is INVALID_INPUT, another than the stored one CONFLICT — someone wrote it since,
 * and their change is not to be overwritten, or an access change undone, unseen.
 */
export function requireBaseRevision(row: EntryRow, baseRevision: number): void {
  if (typeof baseRevision !== 'number' || !Number.isSafeInteger(baseRevision) || baseRevision < 0) {
    throw new CrewvaultError('INVALID_INPUT', 'A change to an entry must name the revision it was made from: open the entry again.');
  }
  if (baseRevision !== row.revision) {
    throw new CrewvaultError('CONFLICT', `This entry was changed since you opened it (revision ${baseRevision}, now ${row.revision}): open it again and redo your change.`);
  }
}

/** Where a stored entry is, as writeEntry names it. */
function entryPlace(row: EntryRow): EntryPlace & { readonly id: number } {
  return { id: row.id, customer: { id: row.customer_id, uid: row.customer_uid }, groupId: row.group_id };
}
