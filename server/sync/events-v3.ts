/**
 * Audit events signed with the v3 text on the server (#15, docs/SYNC.md "Events of groups one does
 * not hold"): what a pushed v3 event must be (whole, its body hashing to the digest its author
 * signed, its scope the no-group tag exactly when its body names no group: shared/sync/event-v3.ts
 * decides), and which form each pulling member is handed — whole to owners, admins and whoever holds
 * the group its body names (or when it names none), else redacted: the header, the body's digest and
 * the signature, no body. The server decides by the body it was pushed, whole, and stores that group's
 * id beside the event (the `scope` column: '' for none): the header's scope tag is keyed with the
 * group's key, which the server never holds, so it can neither recompute nor match it; the members
 * holding the group check it (a redacted event tagged under a key they hold was withheld). v1 and v2
 * events are handed as they are (their signature covers the ids: never redacted).
 * Must never: hand a body to a member who does not hold its group, or store a v3 event whose body
 * is not the one signed.
 */
import { createHash, createHmac } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { checkReceivedEventV3, eventBodyDigest, eventHeaderTextV3, type EventBodyV3, type EventHeaderV3, type ScopeHashes } from '../../shared/sync/event-v3';
import type { EventRecord } from '../../shared/sync/records';
import type { Queryable } from '../store/db';
import { groupsOf, holdsEveryGroup } from '../store/membership';
import type { InVault } from './membership';

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** node:crypto's, for shared/sync/event-v3.ts (the server computes the no-group tag only: it holds no group's key). */
const hashes: ScopeHashes = { sha256Hex, hmacSha256Hex: (keyHex, text) => createHmac('sha256', Buffer.from(keyHex, 'hex')).update(text, 'utf8').digest('hex') };

const hexOf = (b64url: string | null): string | null => (b64url === null ? null : Buffer.from(b64url, 'base64url').toString('hex'));

/** Whether a record carries the v3 fields (a scope tag): else a v2 or v1 event. */
export function isEventV3(r: EventRecord): boolean {
  return r.scope !== undefined || r.bodySalt !== undefined || r.bodyDigest !== undefined;
}

function headerOf(r: EventRecord & { readonly scope: string }): EventHeaderV3 {
  return { uid: r.id, at: r.at, actor: r.actor, action: r.action, deviceHex: hexOf(r.device), devicePrevHex: hexOf(r.devicePrev), signerKey: r.signerKey, scope: r.scope };
}

function bodyOf(r: EventRecord, saltHex: string): EventBodyV3 {
  return {
    saltHex, subject: r.subject, entry: r.entry, customer: r.customer, group: r.group,
    sealedDetailBase64: r.sealedDetail === null ? null : Buffer.from(r.sealedDetail, 'base64url').toString('base64'),
  };
}

/**
 * A pushed v3 event's check: whole (its author holds the group, so it never arrives redacted), its
 * body hashing to the digest `holds` finds signed over its header, its scope the no-group tag
 * exactly when its body names no group. Returns what the server stores beside it. Throws
 * BAD_SIGNATURE (nothing stored).
 */
export function checkPushedEventV3(vault: string, r: EventRecord, holds: (text: string) => boolean): { readonly scope: string; readonly bodyDigest: string } {
  const bad = (why: string): CrewvaultError => new CrewvaultError('BAD_SIGNATURE', `An event ${why}: nothing was stored.`);
  if (r.scope === undefined || r.bodySalt === undefined || r.bodyDigest !== undefined) throw bad('signed with the v3 text must be pushed whole (its scope, body and salt, no digest)');
  const header = headerOf({ ...r, scope: r.scope });
  const body = bodyOf(r, r.bodySalt);
  try {
    checkReceivedEventV3(vault, { form: 'whole', header, body }, [], holds, hashes);
  } catch (e) {
    if (e instanceof CrewvaultError && e.code === 'VAULT_TAMPERED') throw bad('does not hold under its author\'s signature in this vault (its body, digest or scope is not the one signed)');
    throw e;
  }
  return { scope: r.group ?? NO_GROUP, bodyDigest: eventBodyDigest(vault, r.id, body, sha256Hex) };
}

/** The `scope` column of a v3 event of no group (group ids are never empty). */
const NO_GROUP = '';

/**
 * What the server stores beside a v3 event checked by checkPushedEventV3 (verify.ts): the group its
 * body names ('' for none: the `scope` column, what a pull decides redaction by) and its body's digest.
 */
export function storedScope(vault: string, r: EventRecord): { readonly scope: string; readonly bodyDigest: string } | Record<string, never> {
  if (r.scope === undefined || r.bodySalt === undefined) return {};
  return { scope: r.group ?? NO_GROUP, bodyDigest: eventBodyDigest(vault, r.id, bodyOf(r, r.bodySalt), sha256Hex) };
}

/** The redacted form of a stored whole v3 event: header, digest and signature; no body, no salt. */
export function redactedEvent(r: EventRecord, bodyDigest: string): EventRecord {
  const redacted: EventRecord = { ...r, subject: null, entry: null, customer: null, group: null, sealedDetail: null, bodyDigest };
  delete redacted.bodySalt;
  return redacted;
}

/** The v3 header text of a redacted event as a receiver checks it (tests and audit verify use it too). */
export function redactedHeaderText(vault: string, r: EventRecord & { readonly scope: string; readonly bodyDigest: string }): string {
  return eventHeaderTextV3(vault, headerOf(r), r.bodyDigest);
}

/**
 * Whether `me` is handed v3 events whole, by the group stored beside each (storedScope): (uid, group) → whole or not.
 * Owners and admins: always; others: when its body names no group or a group they hold now.
 */
export async function wholeEventsFor(db: Queryable, vault: string, me: InVault): Promise<(uid: string, group: string) => boolean> {
  if (holdsEveryGroup(me.role)) return () => true;
  const held = me.vaultUser === null ? new Set<string>() : await groupsOf(db, vault, me.vaultUser);
  return (_uid, group) => group === NO_GROUP || held.has(group);
}
