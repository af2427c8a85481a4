/**
 * The vault sequence up to which this device's own audit events were handed on, kept apart from
 * the sent sequence of its customers, entries and people (store-replica.ts sentSeq). A change
 * this desktop keeps unsent (its person may not vouch for it now: replica-service.ts outgoing)
 * stops that sent sequence before it, so it is read again and goes once it may; the events after
 * it are no part of it and go on (last session's review, LOW 1: a technician's reveals and codes
 * never reached the owner while one edit waited). Events stop only before the first that names a
 * customer held back (or an entry of it), so the customer fold may sign them again: an event naming
 * a new entry kept here goes (receivers hold the entry as a tombstone named only: #15).
 * Local bookkeeping in settings: a sequence number only. Absent (a vault from before it): the
 * events went as far as the sent sequence, as they did then.
 */
import type { ReadDb, WriteDb } from './db';
import { getSetting, setSetting } from './store-meta';
import { sentSeq } from './store-replica';

const EVENTS_SENT_KEY = 'replica.events_sent_seq';

export function eventsSentSeq(db: ReadDb): number {
  const text = getSetting(db, EVENTS_SENT_KEY);
  const seq = text === undefined ? Number.NaN : Number(text);
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : sentSeq(db);
}

export function setEventsSentSeq(db: WriteDb, seq: number): void {
  setSetting(db, EVENTS_SENT_KEY, String(seq));
}
