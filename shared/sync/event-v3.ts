/**
 * Audit event signatures v3 (#15, docs/SYNC.md "Events of groups one does not hold"): an event's
 * author signs a header — who, which device and chain link, what action, when — plus a digest of
 * its body (the ids it names, its sealed detail, a random salt) and a scope tag that only the
 * holders of the body's group can recompute (an HMAC under a key derived from the group's list key:
 * eventScopeKey, desktops only, over a text naming the group: review round fourteen), so a member who
 * does not hold it cannot match the tag against the group ids their own file names. The server — which sees every body whole when it is pushed, and
 * decides whom to redact for by the group the body names, not by the tag — can then hand a member who does not hold that
 * group the header and digest only (the *redacted* form): the signature still holds and the
 * device's chain still links through it (the next event names the SHA-256 of this signature).
 * This module is the pure part: the texts, the digest, the scope, and the checks a receiver makes
 * of either form. The caller checks the Ed25519 signature (`signatureHolds`) under a key in force
 * and hands in SHA-256 and HMAC-SHA-256 (`ScopeHashes`).
 * On the wire since schema 22 (the server) and 21 (desktops, which sign v3 once their server takes it): docs/SYNC.md, Status.
 * Must never: take a body whose digest is not the signed one, or a redacted event a receiver
 * holding its group (or an event of no group) was owed whole, by its named tag; nor refuse one by
 * the earlier rule's tag, which cannot tell groups apart (taken and told: may have been withheld).
 */
import { CrewvaultError } from '../errors';

/** SHA-256 of a UTF-8 text, in hex: node:crypto's, handed in by the desktop and the server (shared/ has no Node). */
export type Sha256Hex = (text: string) => string;

/** SHA-256, and HMAC-SHA-256 under a key given in hex, of a UTF-8 text, in hex (node:crypto's). */
export interface ScopeHashes {
  readonly sha256Hex: Sha256Hex;
  readonly hmacSha256Hex: (keyHex: string, text: string) => string;
}

/** What every member receives and the signature covers: global ids, the device and link in hex. */
export interface EventHeaderV3 {
  readonly uid: string;
  readonly at: number;
  readonly actor: string | null;
  readonly action: string;
  readonly deviceHex: string | null;
  readonly devicePrevHex: string | null;
  readonly signerKey: string | null;
  /** eventScope(vault, uid, the body's group and its scope key, or null), hex. */
  readonly scope: string;
}

/** What only members who may see it receive: the ids the event names, its sealed detail (standard base64), a salt (16 random bytes, hex). */
export interface EventBodyV3 {
  readonly saltHex: string;
  readonly subject: string | null;
  readonly entry: string | null;
  readonly customer: string | null;
  readonly group: string | null;
  readonly sealedDetailBase64: string | null;
}

/** An event as a receiver gets it: whole (header and body) or redacted (header and the body's digest). */
export type ReceivedEventV3 =
  | { readonly form: 'whole'; readonly header: EventHeaderV3; readonly body: EventBodyV3 }
  | { readonly form: 'redacted'; readonly header: EventHeaderV3; readonly bodyDigest: string };

/** SHA-256 (hex) of the body, with the vault and the event's id inside: a body cannot be moved under another event's header. */
export function eventBodyDigest(vault: string, uid: string, body: EventBodyV3, sha256Hex: Sha256Hex): string {
  return sha256Hex(JSON.stringify(['crewvault/v3 audit event body', vault, uid, body.saltHex, body.subject, body.entry, body.customer, body.group, body.sealedDetailBase64]));
}

/** A group's scope key (hex) and the group it is the key of (its global id): what a group's tag is keyed with and names. */
export interface GroupScope {
  readonly key: string;
  readonly group: string;
}

/**
 * The scope tag (hex): per event (its id inside), so two events of one group are not linkable.
 * `scope` null: an event about no group (users, roles, sign-ins), which every member is owed
 * whole — a SHA-256 anyone can recompute. Else an HMAC under the scope key of the body's group at
 * the key version its author held (eventScopeKey on desktops), over a text naming that group:
 * recomputable only by a holder of that version, never from the group's id, which every member's
 * file names; and a key of another group, carried in this group's list on its signer's word
 * (review round fourteen, "a planted sealedScopeKeys list"), never reproduces that other group's
 * tags when matched as this group's key.
 */
export function eventScope(vault: string, uid: string, scope: GroupScope | null, hashes: ScopeHashes): string {
  if (scope === null) return hashes.sha256Hex(JSON.stringify(['crewvault/v3 event scope', vault, uid, null]));
  return hashes.hmacSha256Hex(scope.key, JSON.stringify(['crewvault/v3 event scope of group', vault, uid, scope.group]));
}

/**
 * The tag of a group's event by the rule before the group was named in it (events signed before
 * review round fourteen): an HMAC under the scope key alone, which names no group. A match of it
 * therefore cannot tell groups apart (two groups' keys may be equal: a list key its rotator chose,
 * or a key carried in a list on its signer's word), so it never refuses an event: a redacted one
 * so matched is taken, and the receiver told it may have been withheld (scopeMatches 'earlier').
 */
export function eventScopeUnnamed(vault: string, uid: string, scopeKeyHex: string, hashes: ScopeHashes): string {
  return hashes.hmacSha256Hex(scopeKeyHex, JSON.stringify(['crewvault/v3 event scope of a group', vault, uid]));
}

/**
 * A scope key a receiver matches redacted events with: the group it is this member's key of, and
 * `derived`: worked out here from the group's list key this member holds (true), or carried across
 * a rotation in the list a group record's signer sealed (false: that signer's word only; a key
 * planted from another group matches none of that group's named tags, as the group is named).
 */
export interface HeldScopeKey extends GroupScope {
  readonly derived: boolean;
}

/**
 * How a tag matches a held key: 'named' (the tag of the key's group under it, the rule that names
 * the group: an event of that group), 'earlier' (the earlier rule's tag under it, which names no
 * group: of that group, or of another whose key is the same), or undefined (no match).
 */
export type ScopeMatch = 'named' | 'earlier' | undefined;

/** How `scope` (hex) of event `uid` matches `held` (ScopeMatch), under any key held, derived or carried. */
export function scopeMatches(vault: string, uid: string, scope: string, held: HeldScopeKey, hashes: ScopeHashes): ScopeMatch {
  if (eventScope(vault, uid, held, hashes) === scope) return 'named';
  return eventScopeUnnamed(vault, uid, held.key, hashes) === scope ? 'earlier' : undefined;
}

/** The strongest match of `scope` among `held`: 'named' by any key, else 'earlier' by any, else undefined. */
export function heldScopeMatch(vault: string, uid: string, scope: string, held: readonly HeldScopeKey[], hashes: ScopeHashes): ScopeMatch {
  let found: ScopeMatch;
  for (const key of held) {
    const match = scopeMatches(vault, uid, scope, key, hashes);
    if (match === 'named') return match;
    found ??= match;
  }
  return found;
}

/**
 * Whether a whole event's scope is the named tag of a group in `held` other than the one its body
 * names (`bodyGroup`, not null): its author tagged it as that group's (an honest desktop tags an
 * event with its body's group), so a holder of that group only would refuse it, redacted, as
 * withheld, blaming the server (review of 02a52ce, finding 4).
 */
export function taggedAsAnotherGroup(vault: string, uid: string, scope: string, bodyGroup: string, held: readonly HeldScopeKey[], hashes: ScopeHashes): boolean {
  return held.some((key) => key.group !== bodyGroup && eventScope(vault, uid, key, hashes) === scope);
}

/** The text an event's author signs (UTF-8) in vault `vault`: its header and its body's digest. */
export function eventHeaderTextV3(vault: string, header: EventHeaderV3, bodyDigest: string): string {
  return JSON.stringify([
    'crewvault/v3 audit event', vault, header.uid, header.at, header.actor, header.action, header.deviceHex, header.devicePrevHex,
    header.signerKey, header.scope, bodyDigest,
  ]);
}

/** The form the server may hand to a member who does not hold the event's group. */
export function redactEventV3(vault: string, header: EventHeaderV3, body: EventBodyV3, sha256Hex: Sha256Hex): ReceivedEventV3 {
  return { form: 'redacted', header, bodyDigest: eventBodyDigest(vault, header.uid, body, sha256Hex) };
}

function tampered(why: string): CrewvaultError {
  return new CrewvaultError('VAULT_TAMPERED', `A received audit event ${why}: it is set aside, nothing of it taken.`);
}

/** Why a whole event tagged as another group's than its body names is refused: its author's doing, not the server's. */
export const TAGGED_AS_ANOTHER = 'is tagged by its author as an event of another group than the one its body names (its author signed it so; the server is not at fault)';

/**
 * Checks an event received in vault `vault` by a member holding `heldScopeKeys` (the scope keys, hex,
 * of the groups whose events they are owed whole, at the versions they hold, each with its group);
 * `signatureHolds(text)`: whether its signature verifies over `text` under its signer's key.
 * Returns whether it came redacted (held with its header and digest only), and `mayBeWithheld`
 * when it came redacted tagged by the earlier rule under a key held (scopeMatches 'earlier': taken,
 * told, never refused: that match cannot tell groups apart). Refuses
 * (VAULT_TAMPERED) a body whose digest is not the signed one, a whole event of no group whose scope
 * is not the no-group tag (or of a group whose scope is), a whole event tagged by its author as
 * another held group's than its body names (taggedAsAnotherGroup), and a redacted one this member was
 * owed whole (of no group, or the named tag of a group they hold). A whole event's tag is not
 * otherwise matched against the receiver's keys: it may be of a key version before the one they hold now.
 */
export function checkReceivedEventV3(
  vault: string, event: ReceivedEventV3, heldScopeKeys: readonly HeldScopeKey[], signatureHolds: (text: string) => boolean, hashes: ScopeHashes,
): { readonly redacted: boolean; readonly mayBeWithheld?: true } {
  const { header } = event;
  const noGroup = eventScope(vault, header.uid, null, hashes);
  if (event.form === 'whole') {
    if (!signatureHolds(eventHeaderTextV3(vault, header, eventBodyDigest(vault, header.uid, event.body, hashes.sha256Hex)))) throw tampered('does not hold under its signature (its body is not the one signed)');
    if ((header.scope === noGroup) !== (event.body.group === null)) throw tampered('names another group in its scope than in its body');
    if (event.body.group !== null && taggedAsAnotherGroup(vault, header.uid, header.scope, event.body.group, heldScopeKeys, hashes)) throw tampered(TAGGED_AS_ANOTHER);
    return { redacted: false };
  }
  if (!/^[0-9a-f]{64}$/.test(event.bodyDigest) || !signatureHolds(eventHeaderTextV3(vault, header, event.bodyDigest))) throw tampered('does not hold under its signature');
  const match = header.scope === noGroup ? 'named' : heldScopeMatch(vault, header.uid, header.scope, heldScopeKeys, hashes);
  if (match === 'named') throw tampered('came without its body, which this member may read (the server withheld it)');
  return match === 'earlier' ? { redacted: true, mayBeWithheld: true } : { redacted: true };
}
