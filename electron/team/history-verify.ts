/**
 * An owner's check of a team vault's whole audit history as the server holds it (#15): every
 * event, in the server's order (its sequence numbers), must hold under a signing key in force of
 * its author — keys judged by the one rule desktops and the server share
 * (shared/sync/signing-keys.ts) over the key records the server hands, with the keys this desktop
 * holds in force besides — and continue its device's chain from that device's previous event in
 * the same order. A server that edits, drops from the middle, reorders or forges an event is
 * caught; one that drops the newest events of a device is not (nothing after them to miss them). A
 * derived device's first event must derive its id from its signer's key (shared/sync/device-ids.ts).
 * Must never: count a signature node:crypto did not verify, or fetch more than pull pages.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import type { EventRecord, ReplicaRecord } from '../../shared/sync/records';
import { derivedChainStartFault, isDerivedDeviceId } from '../../shared/sync/device-ids';
import { derivesDevice } from '../vault/store-device';
import { certificateText, certificateTextV1, eventSigningText, eventSigningTextV1, keysInForce, type EventSigningText } from '../../shared/sync/signing-keys';

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
  | { readonly ok: true; readonly events: number; readonly devices: number }
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

/** An event record's fields as its author signed them (also the join's anchor, owner-anchor.ts). */
export function eventFields(r: EventRecord): EventSigningText {
  return {
    uid: r.id, at: r.at, actor: r.actor, action: r.action, subject: r.subject, entry: r.entry, customer: r.customer, group: r.group,
    sealedDetailBase64: r.sealedDetail === null ? null : bin(r.sealedDetail).toString('base64'),
    deviceHex: r.device === null ? null : bin(r.device).toString('hex'), devicePrevHex: r.devicePrev === null ? null : bin(r.devicePrev).toString('hex'),
    signerKey: r.signerKey,
  };
}

/**
 * Whether `signature` holds over the text naming `vault` (review round seven hole 4), or the v1
 * text (no vault) signed before that fix: taken as a desktop takes it (store-audit.ts eventHolds).
 */
function holdsEither(publicKey: string, v2: string, v1: string, signature: string): boolean {
  return holds(publicKey, v2, signature) || holds(publicKey, v1, signature);
}

/** Checks `pulled` (every record of the vault from sequence 0, in the server's order). */
export function verifyServerHistory(vault: string, pulled: readonly PulledRecord[], trusted: ReadonlyMap<string, TrustedKey> = new Map()): HistoryCheck {
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
    const fields = eventFields(record);
    if (!holdsEither(key.publicKey, eventSigningText(vault, fields), eventSigningTextV1(fields), record.signature)) return broken('was changed after its author signed it');
    const head = heads.get(record.device);
    const device = bin(record.device);
    if (head === undefined && isDerivedDeviceId(device.length)) {
      // A derived device's first event shows the birth value deriving its id from its signer's key (docs/SYNC.md "Who a device is").
      const fault = derivedChainStartFault(record.devicePrev === null ? null : bin(record.devicePrev), (birth) => derivesDevice(vault, device, bin(key.publicKey), birth));
      if (fault !== undefined) return broken(fault);
    } else if ((head ?? null) !== record.devicePrev) return broken('does not follow the event before it from its device (one was removed, changed or moved)');
    heads.set(record.device, createHash('sha256').update(bin(record.signature)).digest('base64url'));
  }
  return { ok: true, events, devices: heads.size };
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
