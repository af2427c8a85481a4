/**
 * Audit event signatures v3 (#15, docs/SYNC.md "Events of groups one does not hold"): an event's
 * author signs a header — who, which device and chain link, what action, when — plus a digest of
 * its body (the ids it names, its sealed detail, a random salt) and a scope tag saying which group
 * the body is about without naming it. The server can then hand a member who does not hold that
 * group the header and digest only (the *redacted* form): the signature still holds and the
 * device's chain still links through it (the next event names the SHA-256 of this signature).
 * This module is the pure part: the texts, the digest, the scope, and the checks a receiver makes
 * of either form. The caller checks the Ed25519 signature (`signatureHolds`) under a key in force
 * and hands in SHA-256 (`Sha256Hex`).
 * On the wire since schema 22 (the server) and 21 (desktops, which sign v3 once their server takes it): docs/SYNC.md, Status.
 * Must never: take a body whose digest is not the signed one, or a redacted event a receiver
 * holding its group (or an event of no group) was owed whole.
 */
import { CrewvaultError } from '../errors';

/** SHA-256 of a UTF-8 text, in hex: node:crypto's, handed in by the desktop and the server (shared/ has no Node). */
export type Sha256Hex = (text: string) => string;

/** What every member receives and the signature covers: global ids, the device and link in hex. */
export interface EventHeaderV3 {
  readonly uid: string;
  readonly at: number;
  readonly actor: string | null;
  readonly action: string;
  readonly deviceHex: string | null;
  readonly devicePrevHex: string | null;
  readonly signerKey: string | null;
  /** eventScope(vault, uid, group), hex. */
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

/**
 * Which group the body is about, as a tag only someone who knows the group's id can recompute
 * (hex): per event (its id inside), so two events of one group are not linkable. `group` null:
 * an event about no group (users, roles, sign-ins), which every member is owed whole.
 */
export function eventScope(vault: string, uid: string, group: string | null, sha256Hex: Sha256Hex): string {
  return sha256Hex(JSON.stringify(['crewvault/v3 event scope', vault, uid, group]));
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

/**
 * Checks an event received in vault `vault` by a member holding `heldGroups` (global ids);
 * `signatureHolds(text)`: whether its signature verifies over `text` under its signer's key.
 * Returns whether it came redacted (held with its header and digest only). Refuses
 * (VAULT_TAMPERED) a body whose digest is not the signed one, a whole event whose scope is not
 * its body's group, and a redacted one this member was owed whole (of a group they hold, or of none).
 */
export function checkReceivedEventV3(
  vault: string, event: ReceivedEventV3, heldGroups: readonly string[], signatureHolds: (text: string) => boolean, sha256Hex: Sha256Hex,
): { readonly redacted: boolean } {
  const { header } = event;
  if (event.form === 'whole') {
    if (!signatureHolds(eventHeaderTextV3(vault, header, eventBodyDigest(vault, header.uid, event.body, sha256Hex)))) throw tampered('does not hold under its signature (its body is not the one signed)');
    if (header.scope !== eventScope(vault, header.uid, event.body.group, sha256Hex)) throw tampered('names another group in its scope than in its body');
    return { redacted: false };
  }
  if (!/^[0-9a-f]{64}$/.test(event.bodyDigest) || !signatureHolds(eventHeaderTextV3(vault, header, event.bodyDigest))) throw tampered('does not hold under its signature');
  const owed = [null, ...heldGroups].some((group) => eventScope(vault, header.uid, group, sha256Hex) === header.scope);
  if (owed) throw tampered('came without its body, which this member may read (the server withheld it)');
  return { redacted: true };
}
