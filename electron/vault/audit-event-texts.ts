/**
 * The texts a desktop checks an audit event's signature over, from a stored row or a received
 * record alike (#15): the v2/v1 text of shared/sync/signing-keys.ts (`EventSigningText`, the one
 * shape of an event as signed, here and on the server), and the v3 header and body digest of
 * shared/sync/event-v3.ts for an event whose row or record carries a scope (docs/SYNC.md "Events
 * of groups one does not hold"): whole (its body and salt) or redacted (its body's digest only).
 * Pure (node:crypto's SHA-256 only): store-audit.ts checks in the write transaction, the worker
 * pre-check (replica-service.ts) works out the same text ahead, history-verify.ts walks the server's.
 * Must never: take a body that does not hash to the signed digest, a whole event whose scope is not
 * its body's group, or a redacted event of no group or named as of a group the receiver holds
 * (withheld); nor refuse one by the earlier rule's tag, which names no group (told instead).
 */
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { eventBodyDigest, eventHeaderTextV3, eventScope, heldScopeMatch, taggedAsAnotherGroup, TAGGED_AS_ANOTHER, type EventBodyV3, type EventHeaderV3, type GroupScope, type HeldScopeKey, type ScopeHashes } from '../../shared/sync/event-v3';
import type { EventRecord } from '../../shared/sync/records';
import type { EventSigningText } from '../../shared/sync/signing-keys';

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** node:crypto's SHA-256 and HMAC-SHA-256, as shared/sync/event-v3.ts takes them. */
export const scopeHashes: ScopeHashes = {
  sha256Hex,
  hmacSha256Hex: (keyHex, text) => createHmac('sha256', Buffer.from(keyHex, 'hex')).update(text, 'utf8').digest('hex'),
};

/**
 * The key a group's v3 event scope tags are keyed with (hex), from the group's list key at one
 * version: every member of the group holds it (auditors too), nobody else (docs/SYNC.md "Events of
 * groups one does not hold"). A rotation gives the group a new one.
 */
export function eventScopeKey(groupListKey: Buffer): string {
  return Buffer.from(hkdfSync('sha256', groupListKey, Buffer.alloc(0), Buffer.from('crewvault/v3 event scope key', 'utf8'), 32)).toString('hex');
}

const bin = (b64url: string): Buffer => Buffer.from(b64url, 'base64url');

/** Schema 21's columns of an audit row: a v3 event's scope tag and its body's salt (whole) or digest (redacted); all null for v1/v2. */
export interface EventV3Columns {
  readonly scope: Buffer | null;
  readonly body_salt: Buffer | null;
  readonly body_digest: Buffer | null;
}

export const NOT_V3: EventV3Columns = { scope: null, body_salt: null, body_digest: null };

/** An event record's fields as its author signed them (global ids, detail in standard base64, device and link in hex). */
export function eventRecordSigningText(r: EventRecord): EventSigningText {
  return {
    uid: r.id, at: r.at, actor: r.actor, action: r.action, subject: r.subject, entry: r.entry, customer: r.customer, group: r.group,
    sealedDetailBase64: r.sealedDetail === null ? null : bin(r.sealedDetail).toString('base64'),
    deviceHex: r.device === null ? null : bin(r.device).toString('hex'), devicePrevHex: r.devicePrev === null ? null : bin(r.devicePrev).toString('hex'),
    signerKey: r.signerKey,
  };
}

/** An event record's v3 fields as a row stores them (hex on the wire, bytes in the row). */
export function recordV3Columns(r: EventRecord): EventV3Columns {
  const bytes = (hex: string | undefined): Buffer | null => (hex === undefined ? null : Buffer.from(hex, 'hex'));
  return { scope: bytes(r.scope), body_salt: bytes(r.bodySalt), body_digest: bytes(r.bodyDigest) };
}

function headerOf(f: EventSigningText, scope: Buffer): EventHeaderV3 {
  return { uid: f.uid, at: f.at, actor: f.actor, action: f.action, deviceHex: f.deviceHex, devicePrevHex: f.devicePrevHex, signerKey: f.signerKey, scope: scope.toString('hex') };
}

function bodyOf(f: EventSigningText, salt: Buffer): EventBodyV3 {
  return { saltHex: salt.toString('hex'), subject: f.subject, entry: f.entry, customer: f.customer, group: f.group, sealedDetailBase64: f.sealedDetailBase64 };
}

/** Whether the row or record is of a v3 event (it carries a scope tag). */
export function isV3(v3: EventV3Columns): v3 is EventV3Columns & { readonly scope: Buffer } {
  return v3.scope !== null;
}

/** Whether a v3 event is held redacted: its body's digest and no body. */
export function isRedacted(v3: EventV3Columns): boolean {
  return v3.scope !== null && v3.body_salt === null;
}

/** A v3 event's body digest (hex): worked out from its body when whole, the one it came with when redacted. */
function digestOf(vault: string, f: EventSigningText, v3: EventV3Columns): string | undefined {
  if (v3.body_salt !== null) return eventBodyDigest(vault, f.uid, bodyOf(f, v3.body_salt), sha256Hex);
  return v3.body_digest === null ? undefined : v3.body_digest.toString('hex');
}

/** The text a v3 event's author signed (header and body digest), or undefined when the event is neither whole nor redacted. */
export function eventTextV3(vault: string, f: EventSigningText, v3: EventV3Columns & { readonly scope: Buffer }): string | undefined {
  const digest = digestOf(vault, f, v3);
  return digest === undefined ? undefined : eventHeaderTextV3(vault, headerOf(f, v3.scope), digest);
}

/**
 * Groups whose events this receiver is owed whole: the scope keys (eventScopeKey, hex) of those it
 * holds, each with its group and whether it is worked out here (shared/sync/event-v3.ts
 * HeldScopeKey), or 'every' (an owner or admin); 'unjudged': only signature and shape (a walk of
 * what is stored by someone not signed in: which groups the file's person holds is not known without keys).
 */
export type HeldGroups = readonly HeldScopeKey[] | 'every' | 'unjudged';

/** What gives a held group's scope key: a session's key ring (keys.ts KeyRing.eventScopeKey). */
export interface ScopeKeySource {
  eventScopeKey(groupId: number): string | undefined;
}

/**
 * The scope keys of the groups (row ids) whose events a person is owed whole, as `ring` holds them
 * (derived: from the list key held), with each held group's earlier versions' (`earlier`:
 * scope-key-history.ts, carried across its rotations on the list's signer's word, so a tag written
 * before one is matched by a holder granted after it), each named by its group's global id
 * (`groupUid`): a tag refuses only when it names that group (an earlier-rule tag, naming none, only tells). 'every' stays.
 */
export function scopeKeysOwed(
  owed: readonly number[] | 'every', ring: ScopeKeySource, groupUid: (groupId: number) => string, earlier: (groupId: number) => readonly string[] = () => [],
): readonly HeldScopeKey[] | 'every' {
  if (owed === 'every') return 'every';
  return owed.flatMap((groupId) => {
    const key = ring.eventScopeKey(groupId);
    if (key === undefined) return [];
    const group = groupUid(groupId);
    return [{ group, key, derived: true }, ...earlier(groupId).filter((k) => k !== key).map((k) => ({ group, key: k, derived: false }))];
  });
}

/**
 * What a v3 event's check finds: why it must not be taken (`fault`), or that it holds, and
 * whether it came redacted tagged by the earlier rule under a key held (`mayBeWithheld`:
 * shared/sync/event-v3.ts scopeMatches 'earlier', taken and told, never refused).
 */
export type V3Verdict = { readonly fault: string; readonly mayBeWithheld?: undefined } | { readonly fault?: undefined; readonly mayBeWithheld: boolean };

/**
 * Why a v3 event must not be taken, or that it holds (V3Verdict): `holds(text)` checks the signature over
 * `text` under its author's key. Whole: its body must hash to the signed digest, its scope be the
 * no-group tag exactly when its body names no group, and not the named tag of another group in
 * `held` than its body names (its author tagged it so: taggedAsAnotherGroup); a tag is not
 * otherwise matched (it may be of a key version before the one held now). Redacted: no body field
 * and no salt, the signature over the header and the digest it came with, and not owed whole (a
 * scope of no group, or the named tag of a group in `held` under its key: the server withheld it);
 * the earlier rule's tag under a key in `held` is `mayBeWithheld`.
 */
export function v3Fault(vault: string, f: EventSigningText, v3: EventV3Columns & { readonly scope: Buffer }, holds: (text: string) => boolean, held: HeldGroups): V3Verdict {
  const fault = (why: string): V3Verdict => ({ fault: why });
  const scope = v3.scope.toString('hex');
  if (v3.body_salt !== null) {
    if (v3.body_digest !== null) return fault('carries both its body and a digest in its place');
    const text = eventTextV3(vault, f, v3);
    if (text === undefined || !holds(text)) return fault('does not hold under its author\'s signature (its body is not the one signed)');
    if ((scope === eventScope(vault, f.uid, null, scopeHashes)) !== (f.group === null)) return fault('names another group in its scope than in its body');
    if (f.group !== null && held !== 'unjudged' && held !== 'every' && taggedAsAnotherGroup(vault, f.uid, scope, f.group, held, scopeHashes)) return fault(TAGGED_AS_ANOTHER);
    return { mayBeWithheld: false };
  }
  if (v3.body_digest === null) return fault('is signed over a body it carries neither whole nor as a digest');
  if (f.subject !== null || f.entry !== null || f.customer !== null || f.group !== null || f.sealedDetailBase64 !== null) return fault('came redacted with parts of a body');
  const text = eventTextV3(vault, f, v3);
  if (text === undefined || !holds(text)) return fault('does not hold under its author\'s signature');
  if (eventScope(vault, f.uid, null, scopeHashes) === scope) return fault('came without its body and names no group: every member is owed it whole (the server withheld it)');
  if (held === 'every') return fault('came without its body, which this desktop\'s person (an owner or admin) may read: the server withheld it');
  const match = held === 'unjudged' ? undefined : heldScopeMatch(vault, f.uid, scope, held, scopeHashes);
  if (match === 'named') return fault('came without its body, of a group this desktop holds: the server withheld it');
  return { mayBeWithheld: match === 'earlier' };
}

/**
 * The one line told (by a sync, and as a warning by `audit verify`) of `count` events taken
 * redacted whose tag, by the earlier rule that names no group, matched a scope key of a group this
 * person holds (V3Verdict.mayBeWithheld): ids only, never a key.
 */
export function mayBeWithheldLine(count: number, ids: readonly string[] = []): string {
  const one = count === 1;
  const named = ids.length === 0 ? '' : ` (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''})`;
  return `${count} audit event${one ? '' : 's'} of a group you hold may have been withheld by the server${named}: ${one ? 'it came' : 'they came'} without ${one ? 'its' : 'their'} body, tagged by the rule from before tags named their group, which cannot tell that group from another whose key is the same; taken without ${one ? 'its' : 'their'} body, and ${one ? 'its author\'s' : 'their authors\''} later events as usual.`;
}

/**
 * The v3 fields a desktop signs a new event with: a fresh salt and the scope tag of its body's group
 * (`scope`: that group and its scope key as its author holds it; null: an event of no group;
 * undefined: of a group its author holds no key of, tagged at random, which nobody can match).
 */
export function newV3Columns(vault: string, uid: string, scope: GroupScope | null | undefined, salt: Buffer): EventV3Columns & { readonly scope: Buffer } {
  const tag = scope === undefined ? randomBytes(32) : Buffer.from(eventScope(vault, uid, scope, scopeHashes), 'hex');
  return { scope: tag, body_salt: salt, body_digest: null };
}

/** VAULT_TAMPERED for a received event, one line. */
export function refusedEvent(why: string): CrewvaultError {
  return new CrewvaultError('VAULT_TAMPERED', `A received audit event ${why}: nothing was applied.`);
}
