/**
 * Same-named customers meeting (docs/SYNC.md "Same-named customers"): a customer made here and
 * not yet sent, met by another desktop's customer of the same name (a pull brings it first, or
 * the server refused this desktop's as a CONFLICT naming it), is folded into that one. The row
 * keeps its id (the audit log's hashes and keyed anchor name it by that) and takes the pulled
 * record's global id, sealed name and revision, agreed; its entries' list lines, which name their
 * customer by global id, are sealed again under the same key; this person's events naming it,
 * and every later event of their device chain, are signed again (their texts name the customer's
 * global id). Nothing of the customer was handed on, so nothing sent is changed.
 * Must never fold a customer the team has seen (sent here, or taken in from elsewhere: two such
 * are left as two), nor sign another person's event: what cannot fold is refused with a reason
 * and changes nothing.
 */
import { CrewvaultError } from '../../shared/errors';
import type { WriteDb } from './db';
import { uidText } from './ids';
import type { KeyRing } from './keys';
import { openSummary, sealSummary } from './sealed-entry';
import { checkAuditAnchor, customerEventsChain, forgetEventUids, signChainAgain, verifyAuditChain } from './store-audit';
import { updateEntryRow } from './store-entries';
import { eventsSentSeq } from './store-events-sent';
import { entriesOfCustomer, replicaBase, setReplicaBase, setRevision, takeCustomerRecordInto, type CustomerReplicaRow } from './store-replica';

/** The other desktop's customer, as its record carries it (its name opened and matching its index already). */
export interface PulledCustomer {
  readonly uid: Buffer;
  readonly revision: number;
  readonly sealed_name: Buffer;
  readonly name_index: Buffer;
  readonly created_at: number;
}

/** What the fold needs of the signed-in session. */
export interface FoldSession {
  readonly ring: KeyRing;
  readonly userId: number;
  /** The keyed anchor as sign-in judges it (required once any directory wrap is anchored). */
  readonly anchorRequired: boolean;
}

/** Whether `mine` was never handed on: no revision of it agreed with the team. */
export function isUnsentCustomer(db: WriteDb, mine: CustomerReplicaRow): boolean {
  return replicaBase(db, mine.uid) === 0;
}

/**
 * CONFLICT, one line: its unsent customer is kept here as it is. Never naming the customer: the reason is kept
 * with the set-aside record in the file, where a name is only ever sealed (the sync's line names it: sync.ts).
 */
function notFolded(why: string): CrewvaultError {
  return new CrewvaultError('CONFLICT', `A customer made here and not yet sent meets one of the same name made on another desktop, and cannot join it: ${why}. It is kept here unsent.`);
}

/**
 * Folds this desktop's unsent customer `mine` into `pulled`, in the caller's write
 * transaction; CONFLICT (nothing changed) when it cannot. Returns how many of this person's
 * events were signed again (the caller audits the fold).
 */
export function foldUnsentCustomer(db: WriteDb, session: FoldSession, mine: CustomerReplicaRow, pulled: PulledCustomer): number {
  const entries = entriesOfCustomer(db, mine.id);
  if (entries.some((e) => replicaBase(db, e.uid) !== 0)) throw notFolded('an entry of it was handed on already');
  const live = entries.filter((e) => e.deleted_at === null);
  const keys = new Map(live.map((e) => [e.id, session.ring.groups.get(e.group_id)]));
  if (live.some((e) => keys.get(e.id)?.version !== e.key_version)) throw notFolded('an entry of it is in a group this person does not hold at its key');
  const chain = customerEventsChain(db, mine.id, session.userId, eventsSentSeq(db));
  if ('why' in chain) throw notFolded(chain.why);
  const signer = session.ring.signer;
  if (chain.rows.length > 0) {
    if (signer === undefined) throw notFolded('this person holds no signing key here to sign its audit events again');
    // Signed again only over a log that holds as its people signed it: a row changed in the file stays one whose signature fails.
    const verified = verifyAuditChain(db);
    if (!verified.ok) throw notFolded(`this desktop's audit log does not verify (${verified.reason.replace(/\.$/, '')})`);
    const anchored = checkAuditAnchor(db, session.ring.auditKey, session.anchorRequired);
    if (!anchored.ok) throw notFolded(`this desktop's audit log does not verify (${anchored.reason.replace(/\.$/, '')})`);
  }
  // Opened under the old global id before it goes: each list line names its customer.
  const opened = live.map((e) => {
    const key = keys.get(e.id);
    if (key === undefined) throw new CrewvaultError('INTERNAL', 'a key checked above is gone');
    return { row: e, key, summary: openSummary(e, key) };
  });
  takeCustomerRecordInto(db, mine.id, pulled);
  setRevision(db, 'customers', mine.id, pulled.revision);
  setReplicaBase(db, pulled.uid, pulled.revision);
  forgetEventUids(db);
  const c = uidText(pulled.uid);
  for (const { row, key, summary } of opened) {
    // What the entry says is unchanged, its details and lookup too (the lookup is keyed by the customer's name, the same).
    updateEntryRow(db, {
      id: row.id, customer_id: row.customer_id, group_id: row.group_id, key_version: row.key_version, lookup: row.lookup,
      sealed_summary: sealSummary(row, key, { ...summary, c }), sealed_details: row.sealed_details, updated_at: row.updated_at,
    });
  }
  if (signer !== undefined && chain.rows.length > 0) signChainAgain(db, signer, chain.rows);
  return chain.rows.length;
}
