/**
 * Shared rows as replica records read them (by sequence, with every foreign key as a global
 * id), the writes that apply a record where a local write would not do (an explicit revision,
 * a tombstone as it came), and the local `replica_base` (schema 16): the revision this replica
 * last agreed with the others on, per object. SQL only; the rules are replica.ts's.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';
import type { CustomerRow } from './store-customers';
import type { EntryRow } from './store-entries';
import { uidText } from './ids';

export type UidTable = 'users' | 'customers' | 'access_groups' | 'entries' | 'signing_keys';

export function idByUid(db: ReadDb, table: UidTable, uid: Buffer): number | undefined {
  return db.prepare<[Buffer], { id: number }>(`SELECT id FROM ${table} WHERE uid = ?`).get(uid)?.id;
}

export function replicaBase(db: ReadDb, uid: Buffer): number {
  return db.prepare<[Buffer], { revision: number }>('SELECT revision FROM replica_base WHERE uid = ?').get(uid)?.revision ?? 0;
}

export function setReplicaBase(db: WriteDb, uid: Buffer, revision: number): void {
  db.prepare('INSERT INTO replica_base (uid, revision) VALUES (?, ?) ON CONFLICT(uid) DO UPDATE SET revision = excluded.revision').run(uid, revision);
}

/** The vault sequence up to which this replica's own changes were handed on (0: never). */
export function sentSeq(db: ReadDb): number {
  return db.prepare<[], { sent_seq: number }>('SELECT sent_seq FROM replica_state WHERE id = 1').get()?.sent_seq ?? 0;
}

export function setSentSeq(db: WriteDb, seq: number): void {
  db.prepare('INSERT INTO replica_state (id, sent_seq) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET sent_seq = excluded.sent_seq').run(seq);
}

/** The team server's sequence up to which this replica has taken in what others pushed (0: nothing yet). */
export function pulledSeq(db: ReadDb): number {
  return db.prepare<[], { pulled_seq: number }>('SELECT pulled_seq FROM replica_state WHERE id = 1').get()?.pulled_seq ?? 0;
}

export function setPulledSeq(db: WriteDb, seq: number): void {
  db.prepare('INSERT INTO replica_state (id, sent_seq, pulled_seq) VALUES (1, 0, ?) ON CONFLICT(id) DO UPDATE SET pulled_seq = excluded.pulled_seq').run(seq);
}

/** Every signed event, whatever device wrote it, in this log's order (a vault moved onto a team server takes its history along). */
export function signedEventsBetween(db: ReadDb, fromSeq: number, toSeq: number): EventReplicaRow[] {
  return db.prepare<[number, number], EventReplicaRow>(`${EVENT} WHERE a.seq > ? AND a.seq <= ? AND a.signature IS NOT NULL ORDER BY a.id`).all(fromSeq, toSeq);
}

/** A record of this replica's that a push in flight carried: its revision and a digest of what it sealed. */
export function notePushing(db: WriteDb, recordId: string, revision: number, digest: Buffer): void {
  db.prepare('INSERT INTO replica_pushing (record_id, revision, digest) VALUES (?, ?, ?) ON CONFLICT(record_id) DO UPDATE SET revision = excluded.revision, digest = excluded.digest')
    .run(recordId, revision, digest);
}

export function pushingOf(db: ReadDb, recordId: string): { readonly revision: number; readonly digest: Buffer } | undefined {
  return db.prepare<[string], { revision: number; digest: Buffer }>('SELECT revision, digest FROM replica_pushing WHERE record_id = ?').get(recordId);
}

/** Every record noted as in flight: customers and entries at their revision, this device's events at 0. */
export function allPushing(db: ReadDb): Array<{ readonly record_id: string; readonly revision: number }> {
  return db.prepare<[], { record_id: string; revision: number }>('SELECT record_id, revision FROM replica_pushing').all();
}

export function donePushing(db: WriteDb, recordId: string): void {
  db.prepare('DELETE FROM replica_pushing WHERE record_id = ?').run(recordId);
}

export interface HeldRow {
  readonly record_id: string;
  readonly body: string;
  readonly reason: string;
  readonly held_at: number;
}

/** Records set aside, oldest first. */
export function listHeld(db: ReadDb): HeldRow[] {
  return db.prepare<[], HeldRow>('SELECT record_id, body, reason, held_at FROM replica_held ORDER BY held_at, rowid').all();
}

/** The record set aside here under `recordId` (a customer's or an entry's global id, an event's id), if any. */
export function heldRecordOf(db: ReadDb, recordId: string): HeldRow | undefined {
  return db.prepare<[string], HeldRow>('SELECT record_id, body, reason, held_at FROM replica_held WHERE record_id = ?').get(recordId);
}

/**
 * Whether an event of vault user `actor` (global id) is set aside here, for whatever reason (its
 * device chain waiting, its author, its signature): what it says is not in the log yet. A body
 * that does not parse may be anyone's, so it counts (the table is this file's, and files can be edited).
 */
export function heldEventOf(db: ReadDb, actor: string): boolean {
  return db.prepare<[], { body: string }>('SELECT body FROM replica_held').all().some(({ body }) => {
    try {
      const record = JSON.parse(body) as { readonly kind?: unknown; readonly actor?: unknown };
      return record.kind === 'event' && record.actor === actor;
    } catch {
      return true;
    }
  });
}

export function putHeld(db: WriteDb, row: HeldRow): void {
  db.prepare('INSERT INTO replica_held (record_id, body, reason, held_at) VALUES (?, ?, ?, ?) ON CONFLICT(record_id) DO UPDATE SET body = excluded.body, reason = excluded.reason')
    .run(row.record_id, row.body, row.reason, row.held_at);
}

export function dropHeld(db: WriteDb, recordId: string): void {
  db.prepare('DELETE FROM replica_held WHERE record_id = ?').run(recordId);
}

/** Sets a row's revision to what the record says (the update triggers count local writes only; revision is not one of their columns). */
export function setRevision(db: WriteDb, table: 'customers' | 'entries', id: number, revision: number): void {
  db.prepare(`UPDATE ${table} SET revision = ? WHERE id = ?`).run(revision, id);
}

/** A customer as a record carries it: the row as stored (store-customers.ts). */
export type CustomerReplicaRow = CustomerRow;

export function customersBetween(db: ReadDb, fromSeq: number, toSeq: number): CustomerReplicaRow[] {
  return db.prepare<[number, number], CustomerReplicaRow>('SELECT id, uid, revision, sealed_name, name_index, created_at FROM customers WHERE seq > ? AND seq <= ? ORDER BY seq').all(fromSeq, toSeq);
}

/**
 * This desktop's unsent customers that cannot join the team's of their name (hostile review of
 * C1): a customer record of the same keyed name from elsewhere is set aside here (its name does not
 * open and this person may not go over it: replica-customer-squatted.ts; or the fold refused it:
 * replica-customer-fold.ts), and the server names that record as the
 * conflict of every push adding ours. Each by its global id, with the set-aside record's reason
 * and the sequence it was written at: the push leaves it and its entries out (replica-service.ts
 * outgoing) so one customer never holds back the rest.
 */
export function customersHeldBack(db: ReadDb): Map<string, { readonly reason: string; readonly seq: number }> {
  const back = new Map<string, { readonly reason: string; readonly seq: number }>();
  for (const row of listHeld(db)) {
    let nameIndex: unknown;
    try {
      const record = JSON.parse(row.body) as { readonly kind?: unknown; readonly nameIndex?: unknown };
      if (record.kind !== 'customer') continue;
      nameIndex = record.nameIndex;
    } catch {
      continue;
    }
    if (typeof nameIndex !== 'string') continue;
    const mine = db.prepare<[Buffer], { uid: Buffer; seq: number }>('SELECT uid, seq FROM customers WHERE name_index = ?').get(Buffer.from(nameIndex, 'base64url'));
    if (mine === undefined || uidText(mine.uid) === row.record_id || replicaBase(db, mine.uid) !== 0) continue;
    back.set(uidText(mine.uid), { reason: row.reason, seq: mine.seq });
  }
  return back;
}

export function customerByUid(db: ReadDb, uid: Buffer): CustomerReplicaRow | undefined {
  return db.prepare<[Buffer], CustomerReplicaRow>('SELECT id, uid, revision, sealed_name, name_index, created_at FROM customers WHERE uid = ?').get(uid);
}

export function customerByNameIndex(db: ReadDb, nameIndex: Buffer): CustomerReplicaRow | undefined {
  return db.prepare<[Buffer], CustomerReplicaRow>('SELECT id, uid, revision, sealed_name, name_index, created_at FROM customers WHERE name_index = ?').get(nameIndex);
}

export function insertReplicaCustomer(db: WriteDb, row: Omit<CustomerReplicaRow, 'id' | 'revision'>): number {
  return Number(db.prepare('INSERT INTO customers (uid, sealed_name, name_index, created_at) VALUES (?, ?, ?, ?)').run(row.uid, row.sealed_name, row.name_index, row.created_at).lastInsertRowid);
}

/**
 * A customer this file does not hold, named by an event of another desktop's (its maker's role may
 * no longer add it, so every desktop set its record aside: replica-service.ts namedOnlyCustomer), as
 * an emptied tombstone: no name (nothing sealed), revision 0, agreed at 0, so the event chains, nothing
 * sends it, no list shows it (store-customers.ts), and its first record replaces it. It holds the keyed
 * index of the name its set-aside record carries (`nameIndex`, checked against the name when set aside),
 * so a customer of that name typed here meets it and is refused (customer-names.ts findOrCreate) instead
 * of being made beside it: such a customer could never join the record once taken, its id the tombstone's.
 */
export function insertNamedOnlyCustomer(db: WriteDb, row: { readonly uid: Buffer; readonly nameIndex: Buffer; readonly at: number }): number {
  return Number(db.prepare(`INSERT INTO customers (uid, sealed_name, name_index, created_at, revision) VALUES (?, x'', ?, ?, 0)`)
    .run(row.uid, row.nameIndex, row.at).lastInsertRowid);
}

/** Whether `row` is only the tombstone insertNamedOnlyCustomer makes: no version of the customer this file ever held. */
export function isNamedOnlyCustomer(row: { readonly sealed_name: Buffer; readonly revision: number }): boolean {
  return row.sealed_name.length === 0 && row.revision === 0;
}

/** A customer's first record taken in over its named-only tombstone (isNamedOnlyCustomer), in place: the events naming the row keep it. */
export function takeCustomerOverNamed(db: WriteDb, id: number, row: Pick<CustomerReplicaRow, 'sealed_name' | 'name_index' | 'created_at'>): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE customers SET sealed_name = ?, name_index = ?, created_at = ? WHERE id = ?').run(row.sealed_name, row.name_index, row.created_at, id);
}

export function updateReplicaCustomer(db: WriteDb, id: number, row: Pick<CustomerReplicaRow, 'sealed_name' | 'name_index'>): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE customers SET sealed_name = ?, name_index = ? WHERE id = ?').run(row.sealed_name, row.name_index, id);
}

/** An entry as a record carries it: the row as stored (store-entries.ts), its group's global id, a tombstone's time and its sequence. */
export interface EntryReplicaRow extends EntryRow {
  readonly group_uid: Buffer;
  readonly deleted_at: number | null;
  /** The vault sequence of its last write. */
  readonly seq: number;
}

const ENTRY = `SELECT e.id, e.uid, e.revision, e.seq, e.customer_id, e.group_id, c.uid AS customer_uid, g.uid AS group_uid, e.key_version, e.lookup,
  e.sealed_summary, e.sealed_details, e.created_at, e.updated_at, e.deleted_at
  FROM entries e JOIN customers c ON c.id = e.customer_id JOIN access_groups g ON g.id = e.group_id`;

export function entriesBetween(db: ReadDb, fromSeq: number, toSeq: number): EntryReplicaRow[] {
  return db.prepare<[number, number], EntryReplicaRow>(`${ENTRY} WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq`).all(fromSeq, toSeq);
}

/** Every entry of customer `customerId`, tombstones included. */
export function entriesOfCustomer(db: ReadDb, customerId: number): EntryReplicaRow[] {
  return db.prepare<[number], EntryReplicaRow>(`${ENTRY} WHERE e.customer_id = ? ORDER BY e.id`).all(customerId);
}

/**
 * Customer `id` becomes another's record, keeping its row id (its entries and the audit events
 * naming it stay as they are): replica-customer-fold.ts. A global id never changes in place (a
 * trigger refuses it), so the row goes and comes back with the same id in this transaction, the
 * entries' key on it checked at commit (defer_foreign_keys ends with the transaction).
 */
export function takeCustomerRecordInto(db: WriteDb, id: number, row: Pick<CustomerReplicaRow, 'uid' | 'sealed_name' | 'name_index' | 'created_at'>): void {
  noteSealedReplaced(db);
  db.prepare('PRAGMA defer_foreign_keys = ON').run();
  db.prepare('DELETE FROM customers WHERE id = ?').run(id);
  db.prepare('INSERT INTO customers (id, uid, sealed_name, name_index, created_at) VALUES (?, ?, ?, ?, ?)').run(id, row.uid, row.sealed_name, row.name_index, row.created_at);
}

/** Tombstones included. */
/** Which of `uids` name an entry held here, as lower-case hex: one query a few hundred, not one a record. */
export function entryUidsHeld(db: ReadDb, uids: readonly Buffer[]): Set<string> {
  const held = new Set<string>();
  const CHUNK = 500;
  for (let i = 0; i < uids.length; i += CHUNK) {
    const part = uids.slice(i, i + CHUNK);
    const rows = db.prepare<Buffer[], { uid: Buffer }>(`SELECT uid FROM entries WHERE uid IN (${part.map(() => '?').join(', ')})`).all(...part);
    for (const row of rows) held.add(row.uid.toString('hex'));
  }
  return held;
}

export function entryByUid(db: ReadDb, uid: Buffer): EntryReplicaRow | undefined {
  return db.prepare<[Buffer], EntryReplicaRow>(`${ENTRY} WHERE e.uid = ?`).get(uid);
}

export type EntryReplicaWrite = Omit<EntryReplicaRow, 'id' | 'revision' | 'customer_uid' | 'group_uid' | 'seq'>;

export function insertReplicaEntry(db: WriteDb, row: EntryReplicaWrite): number {
  return Number(db.prepare(`INSERT INTO entries (uid, customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at, deleted_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.uid, row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.created_at, row.updated_at, row.deleted_at).lastInsertRowid);
}

/**
 * An entry this file never held, named by an event of another desktop's, in a group deleted here
 * (its maker's unsent entry, dropped there with the group: replica-service.ts takeEvent), as the
 * emptied tombstone a dropped entry becomes (store-replica-people.ts dropEntriesOfGroup): revision
 * 0, agreed at 0, nothing sealed, so the event chains and any record of it replaces it.
 */
export function insertNamedOnlyEntry(db: WriteDb, row: { readonly uid: Buffer; readonly customer_id: number; readonly group_id: number; readonly at: number }): number {
  return Number(db.prepare(`INSERT INTO entries (uid, customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at, deleted_at, revision)
    VALUES (?, ?, ?, 0, x'', x'', x'', ?, ?, ?, 0)`).run(row.uid, row.customer_id, row.group_id, row.at, row.at, row.at).lastInsertRowid);
}

/**
 * Whether `row` is only the tombstone insertNamedOnlyEntry makes (key version 0, which no entry
 * record carries): no version of the entry this file ever held, so not what its records are judged
 * against (hostile review of 5c257f7: an event naming an entry before its record came hid it for good).
 */
export function isNamedOnlyEntry(row: { readonly key_version: number; readonly revision: number }): boolean {
  return row.key_version === 0 && row.revision === 0;
}

/**
 * An entry's first record taken in (insertReplicaEntry), over the tombstone an event alone made of it
 * when there is one (isNamedOnlyEntry), all of it as the record says: the events naming the row keep it.
 */
export function insertReplicaEntryOverNamed(db: WriteDb, row: EntryReplicaWrite): number {
  const named = entryByUid(db, row.uid);
  if (named === undefined || !isNamedOnlyEntry(named)) return insertReplicaEntry(db, row);
  noteSealedReplaced(db);
  db.prepare('UPDATE entries SET customer_id = ?, group_id = ?, key_version = ?, lookup = ?, sealed_summary = ?, sealed_details = ?, created_at = ?, updated_at = ?, deleted_at = ? WHERE id = ?')
    .run(row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.created_at, row.updated_at, row.deleted_at, named.id);
  return named.id;
}

/**
 * A new entry at the revision its record carries, agreed as that (replica_base) in the same step:
 * a first sync's snapshot taking in an entry this replica never held (one insert, no update after).
 */
export function insertAgreedEntry(db: WriteDb, row: EntryReplicaWrite, revision: number): number {
  const id = Number(db.prepare(`INSERT INTO entries (uid, customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at, deleted_at, revision)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.uid, row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.created_at, row.updated_at, row.deleted_at, revision).lastInsertRowid);
  setReplicaBase(db, row.uid, revision);
  return id;
}

/** Whether this replica holds no entry, no customer and nothing set aside, and has pulled nothing: a first sync may take a snapshot in. */
export function replicaIsEmpty(db: ReadDb): boolean {
  const row = db.prepare<[], { n: number }>(`SELECT (SELECT count(*) FROM entries) + (SELECT count(*) FROM customers) + (SELECT count(*) FROM replica_held)
    + (SELECT count(*) FROM replica_state WHERE pulled_seq > 0) AS n`).get();
  return row?.n === 0;
}

/** Every column a record carries, a tombstone's emptiness and deleted_at included. */
export function overwriteReplicaEntry(db: WriteDb, id: number, row: Omit<EntryReplicaWrite, 'uid' | 'created_at'>): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE entries SET customer_id = ?, group_id = ?, key_version = ?, lookup = ?, sealed_summary = ?, sealed_details = ?, updated_at = ?, deleted_at = ? WHERE id = ?')
    .run(row.customer_id, row.group_id, row.key_version, row.lookup, row.sealed_summary, row.sealed_details, row.updated_at, row.deleted_at, id);
}

export interface SigningKeyReplicaRow {
  readonly uid: Buffer;
  readonly user_uid: Buffer;
  readonly public_key: Buffer;
  readonly created_at: number;
  readonly certifier_uid: Buffer | null;
  readonly certificate: Buffer | null;
  readonly binding: Buffer | null;
}

export function signingKeysBetween(db: ReadDb, fromSeq: number, toSeq: number): SigningKeyReplicaRow[] {
  return db.prepare<[number, number], SigningKeyReplicaRow>(`SELECT k.uid, u.uid AS user_uid, k.public_key, k.created_at, c.uid AS certifier_uid, k.certificate, k.binding
    FROM signing_keys k JOIN users u ON u.id = k.user_id LEFT JOIN signing_keys c ON c.id = k.certified_by WHERE k.seq > ? AND k.seq <= ? ORDER BY k.seq`).all(fromSeq, toSeq);
}

export function insertReplicaSigningKey(db: WriteDb, row: { uid: Buffer; user_id: number; public_key: Buffer; created_at: number; certified_by: number | null; certificate: Buffer | null; binding: Buffer | null }): number {
  return Number(db.prepare('INSERT INTO signing_keys (uid, user_id, public_key, created_at, certified_by, certificate, binding) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(row.uid, row.user_id, row.public_key, row.created_at, row.certified_by, row.certificate, row.binding).lastInsertRowid);
}

export interface EventReplicaRow {
  readonly uid: Buffer;
  /** The vault sequence it was written at. */
  readonly seq: number;
  readonly at: number;
  readonly actor_uid: Buffer | null;
  readonly action: string;
  readonly subject: string | null;
  readonly entry_uid: Buffer | null;
  readonly customer_uid: Buffer | null;
  readonly group_uid: Buffer | null;
  readonly sealed_detail: Buffer | null;
  readonly device_id: Buffer | null;
  readonly device_prev: Buffer | null;
  readonly signer_uid: Buffer | null;
  readonly signature: Buffer | null;
  /** Schema 21: a v3 event's scope and its body's salt (whole) or digest (redacted). */
  readonly scope: Buffer | null;
  readonly body_salt: Buffer | null;
  readonly body_digest: Buffer | null;
}

const EVENT = `SELECT a.uid, a.seq, a.at, u.uid AS actor_uid, a.action, a.subject, e.uid AS entry_uid, c.uid AS customer_uid, g.uid AS group_uid,
  a.sealed_detail, a.device_id, a.device_prev, k.uid AS signer_uid, a.signature, a.scope, a.body_salt, a.body_digest
  FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN entries e ON e.id = a.entry_id LEFT JOIN customers c ON c.id = a.customer_id
  LEFT JOIN access_groups g ON g.id = a.group_id LEFT JOIN signing_keys k ON k.id = a.signer_key_id`;

/** Events written here (this device's): those from elsewhere are the other replicas' to send. */
export function ownEventsBetween(db: ReadDb, device: Buffer, fromSeq: number, toSeq: number): EventReplicaRow[] {
  return db.prepare<[number, number, Buffer], EventReplicaRow>(`${EVENT} WHERE a.seq > ? AND a.seq <= ? AND a.device_id = ? ORDER BY a.seq`).all(fromSeq, toSeq, device);
}

export function hasEvent(db: ReadDb, uid: Buffer): boolean {
  return db.prepare<[Buffer], { one: number }>('SELECT 1 AS one FROM audit_log WHERE uid = ?').get(uid) !== undefined;
}

/** Whether this replica has exchanged anything yet (an agreed base, or a sent/pulled sequence). */
export function exchangedCount(db: ReadDb): number {
  return db.prepare<[], { n: number }>('SELECT (SELECT count(*) FROM replica_base) + (SELECT count(*) FROM replica_state) AS n').get()?.n ?? 0;
}

/** Whether `userId` holds a key of group `groupId` (a record's sender, judged by what this replica holds). */
/**
 * The groups whose v3 audit events `userId` is owed whole, as the team server judges it
 * (server/sync/events-v3.ts wholeEventsFor): 'every' for an owner or admin, else the live groups
 * whose key they hold here (row ids: the session's key ring gives their scope keys,
 * audit-event-texts.ts scopeKeysOwed).
 */
export function groupsOwedWhole(db: ReadDb, userId: number): readonly number[] | 'every' {
  const role = db.prepare<[number], { role: string }>('SELECT role FROM users WHERE id = ?').get(userId)?.role;
  if (role === 'owner' || role === 'admin') return 'every';
  return db.prepare<[number], { id: number }>('SELECT DISTINCT g.id FROM group_keys k JOIN access_groups g ON g.id = k.group_id WHERE k.user_id = ? AND g.deleted_at IS NULL')
    .all(userId).map((r) => r.id);
}

export function holdsGroupKey(db: ReadDb, groupId: number, userId: number): boolean {
  return db.prepare<[number, number], { one: number }>('SELECT 1 AS one FROM group_keys WHERE group_id = ? AND user_id = ?').get(groupId, userId) !== undefined;
}

/** One received record taken in on its own inside a batch's transaction: kept (release) or undone (roll back). */
export function beginRecordSavepoint(db: WriteDb): void {
  db.prepare('SAVEPOINT replica_record').run();
}

export function releaseRecordSavepoint(db: WriteDb): void {
  db.prepare('RELEASE replica_record').run();
}

export function rollBackRecordSavepoint(db: WriteDb): void {
  db.prepare('ROLLBACK TO replica_record').run();
  db.prepare('RELEASE replica_record').run();
}

/**
 * A team server whose history is not the one this replica pulled from (docs/SYNC.md "Faults"):
 * after the pull from 0, every entry of `groups` (those whose key this person holds) with its
 * agreed revision kept as a floor (replica_base is never forgotten: an older version the server
 * hands is no rollback), for ReplicaService.settleStartOver to find those the server lost.
 */
export function entriesToSettle(db: ReadDb, groups: readonly number[]): Array<{ readonly id: number; readonly uid: Buffer; readonly revision: number; readonly group_id: number; readonly deleted: number; readonly floor: number }> {
  if (groups.length === 0) return [];
  const marks = groups.map(() => '?').join(', ');
  return db.prepare<number[], { id: number; uid: Buffer; revision: number; group_id: number; deleted: number; floor: number }>(
    `SELECT e.id, e.uid, e.revision, e.group_id, e.deleted_at IS NOT NULL AS deleted, coalesce(b.revision, 0) AS floor FROM entries e LEFT JOIN replica_base b ON b.uid = e.uid WHERE e.group_id IN (${marks}) AND e.revision > 0`,
  ).all(...groups);
}
