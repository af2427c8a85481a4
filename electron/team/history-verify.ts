/**
 * An owner's check of a team vault's whole audit history as the server holds it (#15): every
 * event, in the server's order (its sequence numbers), must hold under a signing key in force of
 * its author — keys judged by the one rule desktops and the server share
 * (shared/sync/signing-keys.ts) over the key records the server hands, with the keys this desktop
 * holds in force besides — and continue its device's chain from that device's previous event in
 * the same order. A server that edits, drops from the middle, reorders or forges an event is
 * caught; one that drops the newest events of a device is not (nothing after them to miss them). A
 * derived device's first event must derive its id from its signer's key (shared/sync/device-ids.ts).
 * A v3 event is checked whole (its body hashing to the signed digest) or, for a checker who does
 * not hold its group, redacted (its header and digest under the signature), and counted as such;
 * a redacted one an owner or admin was handed (or one of a group the checker holds) is refused.
 * Must never: count a signature node:crypto did not verify, or fetch more than pull pages.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import type { EventRecord, ReplicaRecord } from '../../shared/sync/records';
import { derivedChainStartFault, isDerivedDeviceId } from '../../shared/sync/device-ids';
import { derivesDevice } from '../vault/store-device';
import { certificateText, certificateTextV1, eventSigningText, eventSigningTextV1, keysInForce } from '../../shared/sync/signing-keys';
import { eventRecordSigningText, scopeHashes } from '../vault/audit-event-texts';
import { checkReceivedEventV3, eventHeaderTextV3, TAGGED_AS_ANOTHER, type HeldScopeKey } from '../../shared/sync/event-v3';

export interface PulledRecord {
  readonly seq: number;
  readonly record: ReplicaRecord;
}

/** A signing key this desktop holds in force: whose (global id), and its raw public key (base64url). */
export interface TrustedKey {
  readonly user: string;
  readonly publicKey: string;
}

export type HistoryCheck =
  /**
   * `redacted`: v3 events handed without their body (groups the checker does not hold), checked by signature and chain only;
   * `mayBeWithheld`: the ids of those whose tag by the earlier rule matched a key of a group held (shared/sync/event-v3.ts scopeMatches 'earlier'): a warning.
   */
  | { readonly ok: true; readonly events: number; readonly devices: number; readonly redacted: number; readonly mayBeWithheld: readonly string[] }
  | { readonly ok: false; readonly events: number; readonly seq: number; readonly reason: string };

const bin = (b64url: string): Buffer => Buffer.from(b64url, 'base64url');

function holds(publicKey: string, text: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, Buffer.from(text, 'utf8'), key, bin(signature));
  } catch {
    return false;
  }
}

/**
 * Whether `signature` holds over the text naming `vault` (review round seven hole 4), or the v1
 * text (no vault) signed before that fix: taken as a desktop takes it (store-audit.ts eventHolds).
 */
function holdsEither(publicKey: string, v2: string, v1: string, signature: string): boolean {
  return holds(publicKey, v2, signature) || holds(publicKey, v1, signature);
}

const hexOf = (b64url: string | null): string | null => (b64url === null ? null : bin(b64url).toString('hex'));

/**
 * A v3 event (signed over a header and its body's digest, docs/SYNC.md "Events of groups one does
 * not hold") as shared/sync/event-v3.ts checks it: whole (its body hashing to the signed digest,
 * its scope the no-group tag exactly when its body names no group) or redacted (the signature over
 * the header and the digest handed, refused when its scope is the named tag of a group in `held` under its key or
 * is the no-group tag: withheld; the earlier rule's tag under a held key is taken, `mayBeWithheld`). Returns whether it came
 * redacted, or why it is refused.
 */
function checkV3(vault: string, r: EventRecord & { readonly scope: string }, publicKey: string, signature: string, held: 'every' | readonly HeldScopeKey[]): { readonly redacted: boolean; readonly mayBeWithheld?: true } | { readonly fault: string } {
  const header = { uid: r.id, at: r.at, actor: r.actor, action: r.action, deviceHex: hexOf(r.device), devicePrevHex: hexOf(r.devicePrev), signerKey: r.signerKey, scope: r.scope };
  const holdsText = (text: string): boolean => holds(publicKey, text, signature);
  if (r.bodyDigest !== undefined) {
    if (r.bodySalt !== undefined || r.subject !== null || r.entry !== null || r.customer !== null || r.group !== null || r.sealedDetail !== null) return { fault: 'came redacted with a body' };
    // An owner or admin (held 'every') is owed every body: any redacted event was withheld.
    if (held === 'every') return holdsText(eventHeaderTextV3(vault, header, r.bodyDigest)) ? { fault: 'came without its body, which this checker may read (the server withheld it)' } : { fault: 'was changed after its author signed it' };
    try {
      return checkReceivedEventV3(vault, { form: 'redacted', header, bodyDigest: r.bodyDigest }, held, holdsText, scopeHashes);
    } catch (e) {
      return { fault: e instanceof Error && /withheld/.test(e.message) ? 'came without its body, which this checker may read (the server withheld it)' : 'was changed after its author signed it' };
    }
  }
  if (r.bodySalt === undefined) return { fault: 'carries a scope but neither its body\'s salt nor its digest' };
  const body = { saltHex: r.bodySalt, subject: r.subject, entry: r.entry, customer: r.customer, group: r.group, sealedDetailBase64: r.sealedDetail === null ? null : bin(r.sealedDetail).toString('base64') };
  try {
    return checkReceivedEventV3(vault, { form: 'whole', header, body }, held === 'every' ? [] : held, holdsText, scopeHashes);
  } catch (e) {
    // Tagged by its author as another group's (review of 02a52ce, finding 4): said as such, not as a change.
    return { fault: e instanceof Error && e.message.includes(TAGGED_AS_ANOTHER) ? TAGGED_AS_ANOTHER : 'was changed after its author signed it (its body is not the one signed)' };
  }
}

/**
 * Checks `pulled` (every record of the vault from sequence 0, in the server's order). `held`: the
 * scope keys (audit-event-texts.ts eventScopeKey, hex, each with its group) of the groups whose v3 events the checker is owed whole; 'every' for an owner or admin,
 * to whom the server hands every body (`crewvault audit verify --server`).
 */
export function verifyServerHistory(vault: string, pulled: readonly PulledRecord[], trusted: ReadonlyMap<string, TrustedKey> = new Map(), held: 'every' | readonly HeldScopeKey[] = 'every'): HistoryCheck {
  const roles = new Map<string, string>();
  const disabledAt = new Map<string, number | null>();
  for (const { record } of pulled) {
    if (record.kind !== 'user') continue;
    roles.set(record.id, record.role);
    disabledAt.set(record.id, record.disabledAt);
  }
  const keyRecords = pulled.flatMap(({ record }) => (record.kind === 'signing_key'
    ? [{ id: record.id, user: record.user, certifiedBy: record.certifiedBy, hasCertificate: record.certificate !== null, publicKey: record.publicKey, certificate: record.certificate, createdAt: record.createdAt }]
    : []));
  const served = keysInForce<string, (typeof keyRecords)[number]>(keyRecords, (user) => roles.get(user), (key, certifier) => key.certificate !== null
    && holdsEither(certifier.publicKey, certificateText(vault, key.id, key.user, bin(key.publicKey).toString('base64')),
      certificateTextV1(key.id, key.user, bin(key.publicKey).toString('base64')), key.certificate), (key, certifier) => {
    const off = disabledAt.get(certifier.user) ?? null; // a disabled owner vouches only for keys made before the disable
    return off === null || key.createdAt < off;
  });
  const keyOf = (id: string): TrustedKey | undefined => trusted.get(id) ?? served.get(id);
  const heads = new Map<string, string>();
  let events = 0;
  let redacted = 0;
  const unsure: string[] = [];
  let lastSeq = 0;
  for (const { seq, record } of pulled) {
    if (seq <= lastSeq) return { ok: false, events, seq, reason: `the server's order goes back at sequence ${seq}` };
    lastSeq = seq;
    if (record.kind !== 'event') continue;
    events++;
    const broken = (reason: string): HistoryCheck => ({ ok: false, events, seq, reason: `the event at sequence ${seq} ${reason}` });
    if (record.signature === null || record.signerKey === null || record.device === null || record.actor === null) return broken('is not signed by its author on a device');
    const key = keyOf(record.signerKey);
    if (key === undefined || key.user !== record.actor) return broken('is signed with a key that is not its author\'s');
    if (record.scope !== undefined) {
      const v3 = checkV3(vault, { ...record, scope: record.scope }, key.publicKey, record.signature, held);
      if ('fault' in v3) return broken(v3.fault);
      if (v3.redacted) redacted++;
      if (v3.mayBeWithheld === true) unsure.push(record.id);
    } else if (record.bodySalt !== undefined || record.bodyDigest !== undefined) {
      return broken('carries a body salt or digest without a scope');
    } else {
      const fields = eventRecordSigningText(record);
      if (!holdsEither(key.publicKey, eventSigningText(vault, fields), eventSigningTextV1(fields), record.signature)) return broken('was changed after its author signed it');
    }
    const head = heads.get(record.device);
    const device = bin(record.device);
    if (head === undefined && isDerivedDeviceId(device.length)) {
      // A derived device's first event shows the birth value deriving its id from its signer's key (docs/SYNC.md "Who a device is").
      const fault = derivedChainStartFault(record.devicePrev === null ? null : bin(record.devicePrev), (birth) => derivesDevice(vault, device, bin(key.publicKey), birth));
      if (fault !== undefined) return broken(fault);
    } else if ((head ?? null) !== record.devicePrev) return broken('does not follow the event before it from its device (one was removed, changed or moved)');
    heads.set(record.device, createHash('sha256').update(bin(record.signature)).digest('base64url'));
  }
  return { ok: true, events, devices: heads.size, redacted, mayBeWithheld: unsure };
}

/** Anything that calls the server's pull route (electron/team/client.ts TeamClient). */
export interface Puller {
  call(name: 'syncPull', input: ServerRouteInput<'syncPull'>): Promise<ServerRouteOutput<'syncPull'>>;
}

/** Every record of `vault` the server hands this person, from sequence 0, page by page. */
export async function pullHistory(client: Puller, vault: string): Promise<PulledRecord[]> {
  const all: PulledRecord[] = [];
  let since = 0;
  for (;;) {
    const page = await client.call('syncPull', { vault, since });
    all.push(...page.records);
    if (!page.more || page.upTo <= since) return all;
    since = page.upTo;
  }
}
