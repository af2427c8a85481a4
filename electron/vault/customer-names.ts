/**
 * Customer names as this session has opened them: each sealed under the directory key
 * (store-customers.ts holds the rows), opened once and kept, and found or added by their
 * keyed index when an entry names a customer. The session empties the cache when a write
 * rolls back (a name it added may be gone) and when it locks. Every read takes the handle of
 * the transaction it is part of (store.ts).
 * Must never keep a name the directory key did not open intact.
 */
import type { KeyObject } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { batchKey, openJson, sealJson } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { newUid } from './ids';
import { contexts, customerIndex, normaliseName, type KeyRing, type ObjectRef } from './keys';
import { findCustomerByIndex, getCustomerRow, insertCustomer, listCustomerIds, listCustomerRows } from './store-customers';

/** Up to this many names missing, loadAll reads their rows one by one; more, every row at once. */
const MISSING_ONE_BY_ONE = 64;

export class CustomerNames {
  private readonly names = new Map<number, string>();
  /** Names as keyed lookups take them (normaliseName), by customer id: emptied with the names. */
  private readonly normalised = new Map<number, string>();
  /** Customers found or added by the exact name given, so an import naming one customer for
   * thousands of entries computes its keyed index and looks it up once. */
  private readonly byName = new Map<string, ObjectRef & { readonly id: number }>();
  private readonly ring: KeyRing;
  private readonly now: () => number;

  constructor(ring: KeyRing, now: () => number) {
    this.ring = ring;
    this.now = now;
  }

  /** The name of customer `customerId`; VAULT_CORRUPT when the row is missing. */
  name(db: ReadDb, customerId: number): string {
    const cached = this.names.get(customerId);
    if (cached !== undefined) return cached;
    const row = getCustomerRow(db, customerId);
    if (!row) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: an entry refers to a missing customer.');
    // A named-only tombstone (store-replica.ts insertNamedOnlyCustomer) has no name: a record naming it waits for the customer's own.
    if (row.sealed_name.length === 0) throw new CrewvaultError('CONFLICT', 'The records name a customer this vault holds only as named by an audit event, its own record not taken in yet. Nothing was applied.');
    const name = openJson(this.ring.directoryKey, row.sealed_name, contexts.customerName(row));
    if (typeof name !== 'string') throw new CrewvaultError('VAULT_TAMPERED', 'A customer name failed its integrity check.');
    this.names.set(customerId, name);
    return name;
  }

  /** The name of customer `customerId` normalised as entryLookup normalises it, made once a customer (a first sync checks 100,000 lookups). */
  normalisedName(db: ReadDb, customerId: number): string {
    const cached = this.normalised.get(customerId);
    if (cached !== undefined) return cached;
    const normalised = normaliseName(this.name(db, customerId));
    this.normalised.set(customerId, normalised);
    return normalised;
  }

  /** Opens every customer's name not yet opened (a list of every entry names most of them). */
  loadAll(db: ReadDb): void {
    // Ids first: every list and search calls this, and reading every row's sealed name, keyed
    // index and global id (three buffers each) only to skip them cost ~20 ms at 5,000 customers.
    const missing = listCustomerIds(db).filter((id) => !this.names.has(id));
    if (missing.length === 0) return;
    const rows = missing.length > MISSING_ONE_BY_ONE ? listCustomerRows(db) : missing.flatMap((id) => getCustomerRow(db, id) ?? []);
    let key: KeyObject | undefined; // made only when a name is missing: thousands open in a row
    for (const row of rows) {
      if (this.names.has(row.id)) continue;
      key ??= batchKey(this.ring.directoryKey);
      const name = openJson(key, row.sealed_name, contexts.customerName(row));
      if (typeof name !== 'string') throw new CrewvaultError('VAULT_TAMPERED', 'A customer name failed its integrity check.');
      this.names.set(row.id, name);
    }
  }

  /** Every name opened so far, by customer id (after loadAll: every customer). */
  opened(): IterableIterator<[number, string]> {
    return this.names.entries();
  }

  /** The customer named `name` (by keyed index), added with its sealed name when there is none. */
  findOrCreate(db: WriteDb, name: string): ObjectRef & { readonly id: number } {
    const known = this.byName.get(name);
    if (known) return known;
    const index = customerIndex(this.ring, name);
    const existing = findCustomerByIndex(db, index);
    // A named-only tombstone of the name (store-replica.ts insertNamedOnlyCustomer): made beside it, a customer here could never join the team's once its record is taken.
    if (existing !== undefined && existing.sealed_name.length === 0) {
      throw new CrewvaultError('CONFLICT', 'A customer of this name was made on another desktop and waits here for its record (its maker\'s role may not add customers now): nothing was added. Use the name once it is taken in, or another name.');
    }
    const found = existing ? { id: existing.id, uid: existing.uid } : this.insert(db, name, index);
    this.byName.set(name, found);
    return found;
  }

  private insert(db: WriteDb, name: string, index: Buffer): ObjectRef & { readonly id: number } {
    const now = this.now();
    const uid = newUid(now);
    const id = insertCustomer(db, { uid, sealed_name: sealJson(this.ring.directoryKey, name, contexts.customerName({ uid })), name_index: index, created_at: now });
    this.names.set(id, name);
    return { id, uid };
  }

  clear(): void {
    this.names.clear();
    this.normalised.clear();
    this.byName.clear();
  }
}
