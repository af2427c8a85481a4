/**
 * Real Ed25519 signatures for the server tests' records (the server checks them since schema 17,
 * server/sync/verify.ts). Each vault user a test names gets a test signing key of their own, made
 * once; `signedBatch` signs, with its author's key, every record written in the tests' shorthand
 * (`signerKey` equal to the author's own id) and every event whose `signerKey` is its actor's id,
 * chains each device's events on from the last this module signed for that vault and device, and
 * puts the authors' self-introduced key records first (the server skips those it holds).
 * A record carrying any other signerKey is left exactly as the test wrote it (the forgeries).
 * For tests only: must never stand in for a desktop's records where a vault file is at hand.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { REPLICA_FORMAT, recordSigningText, type EntryRecord, type EventRecord, type ReplicaBatch, type ReplicaRecord, type SigningKeyRecord } from '../../shared/sync/records';
import { certificateText, eventSigningText, eventSigningTextV1, type EventSigningText } from '../../shared/sync/signing-keys';

export interface TestSigner {
  readonly keyId: string;
  /** Raw public key, base64url. */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

const signers = new Map<string, TestSigner>();

function uidFrom(text: string): string {
  const hex = createHash('sha256').update(text, 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A test signing key for vault user `user`: made once, its id a global id worked out from theirs. */
export function signerOf(user: string): TestSigner {
  let signer = signers.get(user);
  if (signer === undefined) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new Error('ed25519 key without x');
    signer = { keyId: uidFrom(`test signing key ${user}`), publicKey: jwk.x, privateKey };
    signers.set(user, signer);
  }
  return signer;
}

/** A signing key record that introduces itself (as a desktop's first key of a user does). */
export function keyRecordOf(user: string, signer: TestSigner = signerOf(user)): SigningKeyRecord {
  return { kind: 'signing_key', id: signer.keyId, user, publicKey: signer.publicKey, createdAt: 1, certifiedBy: null, certificate: null, binding: null };
}

/** A new key of `user` (a password reset: `signer`'s) certified in `vault` by `certifier`, as an owner's desktop certifies it. */
export function certifiedKeyOf(vault: string, user: string, signer: TestSigner, certifier: TestSigner): SigningKeyRecord {
  const publicKey = Buffer.from(signer.publicKey, 'base64url').toString('base64');
  return { ...keyRecordOf(user, signer), certifiedBy: certifier.keyId, certificate: signText(certificateText(vault, signer.keyId, user, publicKey), certifier) };
}

export function signText(text: string, signer: TestSigner): string {
  return sign(null, Buffer.from(text, 'utf8'), signer.privateKey).toString('base64url');
}

/** `record` signed by `signer` as it stands (its signerKey set to the signer's key). */
export function signedBy<T extends Exclude<ReplicaRecord, { kind: 'event' | 'signing_key' }>>(vault: string, record: T, signer: TestSigner): T {
  const resigned = { ...record, signerKey: signer.keyId };
  return { ...resigned, signature: signText(recordSigningText(vault, resigned), signer) };
}

const bin = (b64url: string): Buffer => Buffer.from(b64url, 'base64url');

/** The link an event hands the next one of its device (store-audit.ts deviceLink). */
export function linkOf(signature: string): string {
  return createHash('sha256').update(bin(signature)).digest('base64url');
}

function eventFields(e: EventRecord, signer: TestSigner): EventSigningText {
  return {
    uid: e.id, at: e.at, actor: e.actor, action: e.action, subject: e.subject, entry: e.entry, customer: e.customer, group: e.group,
    sealedDetailBase64: e.sealedDetail === null ? null : bin(e.sealedDetail).toString('base64'),
    deviceHex: e.device === null ? null : bin(e.device).toString('hex'), devicePrevHex: e.devicePrev === null ? null : bin(e.devicePrev).toString('hex'),
    signerKey: signer.keyId,
  };
}

/** An event signed by `signer` in vault `vault` as it stands (device and devicePrev as given). */
export function signEvent(e: EventRecord, signer: TestSigner, vault: string): EventRecord {
  return { ...e, signerKey: signer.keyId, signature: signText(eventSigningText(vault, eventFields(e, signer)), signer) };
}

/** An event signed as desktops did before review round seven hole 4's fix (the v1 text: no vault). */
export function signEventV1(e: EventRecord, signer: TestSigner): EventRecord {
  return { ...e, signerKey: signer.keyId, signature: signText(eventSigningTextV1(eventFields(e, signer)), signer) };
}

/** Each vault's devices' last links, as this module chained them, and the events it signed (a resend is the same event). */
const heads = new Map<string, string>();
const signedEvents = new Map<string, EventRecord>();

/** `records` as a push of `vault`, signed (above). */
export function signedBatch(vault: string, records: readonly ReplicaRecord[]): ReplicaBatch {
  const authors = new Set<string>();
  const out = records.map((r): ReplicaRecord => {
    if (r.kind === 'signing_key') return r;
    if (r.kind === 'event') {
      if (r.actor === null || r.signerKey !== r.actor || r.device === null) return r;
      authors.add(r.actor);
      const again = signedEvents.get(`${vault} ${r.id}`);
      if (again !== undefined) return again;
      const head = `${vault} ${r.device}`;
      const signed = signEvent({ ...r, devicePrev: heads.get(head) ?? null }, signerOf(r.actor), vault);
      if (signed.signature !== null) heads.set(head, linkOf(signed.signature));
      signedEvents.set(`${vault} ${r.id}`, signed);
      return signed;
    }
    if (r.signerKey !== r.author) return r;
    authors.add(r.author);
    const signer = signerOf(r.author);
    // recordSigningText reads the fields it signs, never the signature this replaces.
    const resigned = { ...r, signerKey: signer.keyId };
    return { ...resigned, signature: signText(recordSigningText(vault, resigned), signer) };
  });
  return { format: REPLICA_FORMAT, vault, records: [...[...authors].map((a) => keyRecordOf(a)), ...out] };
}

/** A push of `vault` with one new entry by `author` (its group and customer new ids), signed as above: enough to make the vault, or tell its streams. */
export function oneEntryPush(vault: string, author: string): { batch: ReplicaBatch } {
  const someone = randomUUID();
  const b64 = (text: string): string => Buffer.from(text).toString('base64url');
  const entry: EntryRecord = {
    kind: 'entry', id: randomUUID(), revision: 1, base: 0, customer: someone, group: someone, keyVersion: 1, lookup: b64('l'), sealedSummary: b64('s'),
    sealedDetails: b64('d'), createdAt: 1, updatedAt: 1, deletedAt: null, author, signerKey: author, signature: b64('sig'),
  };
  return { batch: signedBatch(vault, [entry]) };
}
