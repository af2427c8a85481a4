/**
 * Global ids (schema 10): every shared object — user, role, group, customer, entry, audit
 * event — has a random 128-bit id that is the same on every desktop and on a team server, and
 * that every seal's associated data names (crypto.ts format 2). SQLite row ids stay as this
 * file's private keys: two desktops mint the same row ids, never the same global id.
 *
 * The ids are UUIDv7 (RFC 9562 §5.7): 48 bits of milliseconds, then 74 random bits, so new
 * ids land at the end of their index instead of all over it. Nothing may depend on the time
 * in an id: it is the writer's clock, and ids made by the migration take the row's own date.
 */
import { randomNonSecret } from './random-pool';

export const UID_BYTES = 16;

/** A new global id for an object made at `atMs` (the writer's clock). */
export function newUid(atMs: number): Buffer {
  const uid = randomNonSecret(UID_BYTES);
  const ms = Math.max(0, Math.min(Math.trunc(atMs), 2 ** 48 - 1));
  uid.writeUIntBE(ms, 0, 6);
  uid[6] = 0x70 | (uid[6]! & 0x0f); // version 7
  uid[8] = 0x80 | (uid[8]! & 0x3f); // variant 10
  return uid;
}

/** The canonical text of a global id (8-4-4-4-12 lower-case hex), as seals and views name it. */
export function uidText(uid: Buffer): string {
  const hex = uid.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
