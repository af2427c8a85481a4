/**
 * The team server checks what a push carries is what its authors signed (#15, docs/SYNC.md), before
 * the push takes the vault's row, so the Ed25519 work does not hold other writers up:
 * - signing keys: a vault user's keys in force by the desktops' own rule (shared/sync/signing-keys.ts),
 *   over the keys in the order the server stored them. A key that introduces itself (no certificate)
 *   is taken only from its own person's account or an owner's (who could certify one anyway); a
 *   certified one from anyone. Every key record pushed must be in force by the rule (but in the
 *   vault's move) and a known id must come back unchanged; a disabled owner's certificate counts
 *   only for keys stored before the disable.
 * - every customer, entry, user, group and member record holds under a key in force of its named
 *   author (who the pusher must be: records.ts);
 * - every event and certificate is signed over the text naming this vault (`crewvault/v2`, review
 *   round seven hole 4; an event may be `crewvault/v3`, a header over its body's digest, pushed whole: events-v3.ts); the v1 text (no vault) is taken only for a key stored already, in the
 *   vault's move, and for an event continuing a device chain held here (or the mover's own file's
 *   history, written before the vault came here);
 * - every event is signed, holds under a key in force of its actor, names a device whose events are
 *   that actor's or pushed by that device's own person (a device is bound to the vault user who
 *   signed its first event; anyone may relay their events while they are enabled, nobody once they are disabled but the move and its mover's history from before it; the move takes every device's) and continues that device's chain from the link the server holds (events it holds
 *   already are skipped: stored once). A device's first event here on a 32-byte id carries the birth value deriving that id from
 *   its signing key (shared/sync/device-ids.ts), so only the person whose desktop made the id can start its chain.
 * - record format 2 (verify-batches.ts): a customer or entry record naming a batch holds by the
 *   digest at its index, the batch (carried by the push) by its author's key in force, verified once.
 * Anything else refuses the whole push (BAD_SIGNATURE; a device of another person: FORBIDDEN) and
 * stores nothing. Inside the vault's lock, `holdVerified` reads in one statement whether what the
 * check relied on (keys, owners, the devices' heads) still stands — else checks again there — and
 * writes the new keys and heads with the push.
 * What it cannot check: what sealed bytes hold, or that a desktop sent every event it wrote.
 * Must never: store a push whose check failed, or count a signature node:crypto did not verify.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { derivedChainStartFault, deviceIdText, isDerivedDeviceId } from '../../shared/sync/device-ids';
import { batchSigningText } from '../../shared/sync/record-batches';
import { recordSigningText, type EventRecord, type ReplicaRecord, type SigningKeyRecord } from '../../shared/sync/records';
import { certificateText, certificateTextV1, eventSigningText, eventSigningTextV1, keysInForce, type EventSigningText } from '../../shared/sync/signing-keys';
import type { RecordBatch } from '../../shared/sync/record-batches';
import { putBatches } from '../store/batches';
import type { Queryable, Transaction } from '../store/db';
import type { SnapshotCheck } from '../store/records-in-line';
import { holdSnapshotPuttingBatches, putDevices, putSigningKeys, signersSnapshot, verifyReads, type StoredDevice, type StoredSigningKey, type VerifyReads } from '../store/signers';
import { checkPushedEventV3, isEventV3 } from './events-v3';
import { batchBody, checkBatched, pushedBatches } from './verify-batches';
import { verifyReadsInLine } from './verify-reads';

/** What one push was checked against, and what it adds, for the transaction that stores it. */
export interface VerifiedPush {
  readonly snapshot: string;
  readonly devices: readonly string[];
  readonly newKeys: readonly StoredSigningKey[];
  readonly heads: readonly StoredDevice[];
  /** The signed batches its records name (format 2), to store once with it. */
  readonly batches: ReadonlyArray<{ readonly id: string; readonly body: string }>;
}

type Batch = { readonly vault: string; readonly records: readonly ReplicaRecord[]; readonly batches?: readonly RecordBatch[] | undefined };

const bin = (b64url: string): Buffer => Buffer.from(b64url, 'base64url');

function badSignature(what: string): CrewvaultError {
  return new CrewvaultError('BAD_SIGNATURE', `${what}: nothing was stored.`);
}

/** Public keys made once each (a vault has a handful of signers). */
const publicKeys = new Map<string, KeyObject | null>();

function publicKeyOf(b64url: string): KeyObject | null {
  let key = publicKeys.get(b64url);
  if (key === undefined) {
    try {
      key = bin(b64url).length === 32 ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url }, format: 'jwk' }) : null;
    } catch {
      key = null;
    }
    if (publicKeys.size > 10_000) publicKeys.clear();
    publicKeys.set(b64url, key);
  }
  return key;
}

function holds(publicKey: string, text: string, signature: string): boolean {
  const key = publicKeyOf(publicKey);
  if (key === null) return false;
  try {
    return verify(null, Buffer.from(text, 'utf8'), key, bin(signature));
  } catch {
    return false; // a damaged signature is one that does not hold
  }
}

/** Whether `birth` derives the 32-byte device id `device` from raw public key `publicKey` in `vault` (shared/sync/device-ids.ts). */
function derivesDevice(vault: string, device: Buffer, publicKey: Buffer, birth: Buffer): boolean {
  return createHash('sha256').update(deviceIdText(vault, publicKey.toString('base64'), birth.toString('hex')), 'utf8').digest().equals(device);
}

/** The link the next event of a device carries: SHA-256 of this one's signature (store-audit.ts deviceLink). */
function deviceLink(signature: string): string {
  return createHash('sha256').update(bin(signature)).digest('base64url');
}

function eventFields(r: EventRecord): EventSigningText {
  return {
    uid: r.id, at: r.at, actor: r.actor, action: r.action, subject: r.subject, entry: r.entry, customer: r.customer, group: r.group,
    sealedDetailBase64: r.sealedDetail === null ? null : bin(r.sealedDetail).toString('base64'),
    deviceHex: r.device === null ? null : bin(r.device).toString('hex'), devicePrevHex: r.devicePrev === null ? null : bin(r.devicePrev).toString('hex'),
    signerKey: r.signerKey,
  };
}

/** How verifyPush reads what it checks by: verifyReads's arguments but the database. */
type ReadsFor = (vaultId: string, accountId: string, devices: readonly string[], eventIds: readonly string[], batchIds: readonly string[]) => Promise<VerifyReads>;

/** Who the pushing account will act as (records.ts actingPerson decides, and refuses, in the lock), from what verifyReads read. */
function pusherOf(read: VerifyReads, batch: Batch, accountId: string): { readonly vaultUser: string | null; readonly role: string | null; readonly moving: boolean; readonly movedAt?: number } {
  const { person, vault } = read;
  // The vault's mover (its creator's account): when it was moved here, so the file's history from before then is told apart (hole 4).
  const movedAt = vault !== undefined && vault.createdBy === accountId ? { movedAt: vault.createdAt } : {};
  if (person !== undefined) return { vaultUser: person.vaultUser, role: person.role, moving: false, ...movedAt };
  if (vault !== undefined && (vault.createdBy !== accountId || read.ownerBound)) return { vaultUser: null, role: null, moving: false };
  // The vault's mover binds itself as its owner, to the one vault user its records are signed by.
  const authors = new Set(batch.records.flatMap((r) => ('author' in r ? [r.author] : [])));
  return { vaultUser: authors.size === 1 ? [...authors][0] ?? null : null, role: 'owner', moving: true };
}

/**
 * Checks every signature, key and device link of `batch` against what `db` holds now; throws a
 * refusal. `created`: this push's transaction made the vault (the move), known for sure only there.
 */
export async function verifyPush(db: Queryable, batch: Batch, accountId: string, created = false, reads: ReadsFor = (...args) => verifyReads(db, ...args)): Promise<VerifiedPush> {
  const events = batch.records.filter((r): r is EventRecord => r.kind === 'event');
  const devices = [...new Set(events.flatMap((e) => (e.device === null ? [] : [e.device])))];
  // One statement, one snapshot of the database (store/signers.ts verifyReads), perhaps shared with pushes arriving beside it (verify-reads.ts).
  const read = await reads(batch.vault, accountId, devices, events.map((e) => e.id), (batch.batches ?? []).map((b) => b.id));
  const { snapshot, keys: stored, roles, disabled, devices: deviceRows, storedEvents: held, batches: storedBatches } = read;
  const pusher = pusherOf(read, batch, accountId);
  // No person of the vault: refused in the lock as such (records.ts actingPerson), whatever it signed.
  if (pusher.vaultUser === null && pusher.role === null) return { snapshot: '', devices, newKeys: [], heads: [], batches: [] };
  const batches = pushedBatches(batch.batches, storedBatches);
  // Records in another's name are refused as such (records.ts says so again in the lock), before any signature is looked at.
  if (pusher.vaultUser !== null && batch.records.some((r) => 'author' in r && r.author !== pusher.vaultUser)) {
    throw new CrewvaultError('FORBIDDEN', 'These records are signed in another person\'s name.');
  }
  // Who is disabled as the push arrives (before its own user records): their events are refused below, whoever pushes them.
  const disabledAtPush = new Set(disabled);
  // Roles as this push leaves them (its user records are applied, or it is refused whole); the mover binds itself as an owner.
  for (const r of batch.records) {
    if (r.kind !== 'user') continue;
    roles.set(r.id, r.role);
    if (r.disabledAt === null) disabled.delete(r.id);
    else disabled.add(r.id);
  }
  if (pusher.vaultUser !== null && !roles.has(pusher.vaultUser)) roles.set(pusher.vaultUser, pusher.role);
  const known = new Map(stored.map((k) => [k.keyId, k]));
  const storedBefore = new Set(known.keys());
  const moving = pusher.moving || created;
  const newKeys: StoredSigningKey[] = [];
  for (const r of batch.records) {
    if (r.kind !== 'signing_key') continue;
    // A key never changes once made: a record of a known id is that key again, else a forgery under its id (hole 5).
    const same = known.get(r.id);
    if (same !== undefined) {
      if (!sameKey(same, keyOf(r))) throw badSignature('A signing key record reuses the id of another key');
      continue;
    }
    if (publicKeyOf(r.publicKey) === null) throw badSignature('A signing key record carries no Ed25519 public key');
    if (r.certifiedBy === null && r.certificate === null && r.user !== pusher.vaultUser && pusher.role !== 'owner') {
      throw badSignature('A signing key that introduces itself comes from its own person or an owner, not from another account');
    }
    known.set(r.id, keyOf(r));
    newKeys.push(keyOf(r));
  }
  const inForce = keysInForce<string, StoredSigningKey & { readonly id: string; readonly user: string; readonly hasCertificate: boolean }>(
    [...stored, ...newKeys].map((k) => ({ ...k, id: k.keyId, user: k.vaultUser, hasCertificate: k.certificate !== null })),
    (user) => roles.get(user),
    (key, certifier) => {
      if (key.certificate === null) return false;
      const publicKey = bin(key.publicKey).toString('base64');
      // A certificate names its vault (hole 4); one signed before that (v1, no vault) counts only for a key stored already or the move's.
      return holds(certifier.publicKey, certificateText(batch.vault, key.keyId, key.vaultUser, publicKey), key.certificate)
        || ((storedBefore.has(key.keyId) || moving) && holds(certifier.publicKey, certificateTextV1(key.keyId, key.vaultUser, publicKey), key.certificate));
    },
    // A disabled owner's certificate counts for the keys stored before the disable, or those of the push that moves the vault here (hole 3).
    (key, certifier) => !disabled.has(certifier.vaultUser) || storedBefore.has(key.keyId) || moving,
  );
  // Every key record pushed holds by the rule (a certificate that verifies, or a first key introducing itself), else it is a forgery (hole 5).
  // The push that moves a vault here carries every key its owner's file holds, some perhaps out of force there too: desktops judge those by the rule.
  if (!moving) for (const k of newKeys) if (!inForce.has(k.keyId)) throw badSignature('A signing key record is not vouched for by its certificate or as its user\'s first key');
  const heads = new Map<string, StoredDevice>();
  // Each batch's signature verified once, under a key in force of its author.
  const batchVerdicts = new Map<string, boolean>();
  const batchHolds = (b: RecordBatch): boolean => {
    let verdict = batchVerdicts.get(b.id);
    if (verdict === undefined) {
      const key = inForce.get(b.signerKey);
      const { signature, ...unsigned } = b;
      verdict = key !== undefined && key.vaultUser === b.author && holds(key.publicKey, batchSigningText(batch.vault, unsigned), signature);
      batchVerdicts.set(b.id, verdict);
    }
    return verdict;
  };
  const named = new Set<string>();
  for (const r of batch.records) {
    if (r.kind === 'event') {
      if (held.has(r.id)) continue; // stored once: a resend after a lost reply
      if (r.signature === null || r.signerKey === null || r.device === null || r.actor === null) throw badSignature('An event is not signed by its author on a device');
      const key = inForce.get(r.signerKey);
      if (key === undefined || key.vaultUser !== r.actor) throw badSignature('An event is signed with a key that is not its author\'s');
      // A disabled author's events are refused from anyone (review 12b hole 3): the server is the one place that sees their order
      // against the disabling, and a desktop takes an event dated before it. Their own account's pushes are refused already; an
      // event they wrote offline and never pushed is lost. The move, and its mover's later parts of the file's history from before it, carry every author's.
      if (disabledAtPush.has(r.actor) && !moving && !(pusher.movedAt !== undefined && r.at < pusher.movedAt)) {
        throw new CrewvaultError('FORBIDDEN', 'These events are signed by a person who is disabled in this vault: nothing was stored.');
      }
      const device = heads.get(r.device) ?? deviceRows.get(r.device);
      // An event names its vault (hole 4). One signed before that (v1) is taken only in the vault's move (its first push, or a later
      // part from the mover's account of an event written before the vault came here), or continuing a device chain this server holds
      // (a desktop's backlog from before its update): its link then names an event of this vault's chain, which no event of another
      // vault can follow once the chains part (docs/SYNC.md). Any other v1 event starting a chain here is refused.
      const fields = eventFields(r);
      const v1Allowed = moving || (device?.head ?? null) !== null || (pusher.movedAt !== undefined && r.at < pusher.movedAt);
      const signature = r.signature;
      if (isEventV3(r)) {
        // Signed over a header and its body's digest (events-v3.ts): taken whole only, the body hashing to the signed digest.
        checkPushedEventV3(batch.vault, r, (text) => holds(key.publicKey, text, signature));
      } else if (!holds(key.publicKey, eventSigningText(batch.vault, fields), r.signature)
        && !(v1Allowed && holds(key.publicKey, eventSigningTextV1(fields), r.signature))) throw badSignature('An event does not hold under its author\'s signature in this vault');
      // A device is the vault user's who signed its first event (holes 1, 2): anyone may relay that user's events, signed as they are, and
      // that user's own account may push others' events written on their file (a desktop two people sign in on); the move carries every
      // device's history as the owner's file holds it. Nobody else adds to its chain.
      if (device !== undefined && device.vaultUser !== null && device.vaultUser !== r.actor && device.vaultUser !== pusher.vaultUser && !moving) {
        throw new CrewvaultError('FORBIDDEN', 'These events claim a device whose events are another person\'s: nothing was stored.');
      }
      const head = device?.head ?? null;
      const deviceId = bin(r.device);
      if (head === null && isDerivedDeviceId(deviceId.length)) {
        // A derived device's first event here carries the birth value deriving its id from its signer's key, so nobody else can start
        // its chain (device squatting, docs/SYNC.md "Who a device is"); an older 16-byte id's starts with no link, as before.
        const fault = derivedChainStartFault(r.devicePrev === null ? null : bin(r.devicePrev), (birth) => derivesDevice(batch.vault, deviceId, bin(key.publicKey), birth));
        if (fault !== undefined) throw badSignature(`An event ${fault}`);
      } else if (head !== r.devicePrev) throw badSignature('An event does not follow the last event this server holds from its device (one was left out, changed or played back)');
      heads.set(r.device, { device: r.device, vaultUser: device?.vaultUser ?? r.actor, accountId: device?.accountId ?? accountId, head: deviceLink(r.signature) });
    } else if (r.kind !== 'signing_key') {
      const key = inForce.get(r.signerKey);
      if (key === undefined || key.vaultUser !== r.author) throw badSignature(`A ${r.kind} record is signed with a key that is not its author's`);
      const { signature, ...unsigned } = r;
      if (signature === undefined && (r.kind === 'customer' || r.kind === 'entry')) {
        checkBatched(batch.vault, r, batches, batchHolds);
        if (r.batch !== undefined) named.add(r.batch);
      } else if (signature === undefined || !holds(key.publicKey, recordSigningText(batch.vault, unsigned), signature)) {
        throw badSignature(`A ${r.kind} record does not hold under its author's signature`);
      }
    }
  }
  // Only the batches its records name are stored (a batch listed and named by none vouches for nothing here).
  const toStore = [...named].flatMap((id) => {
    const b = batches.get(id);
    return b === undefined ? [] : [{ id, body: batchBody(b) }];
  });
  return { snapshot, devices, newKeys, heads: [...heads.values()], batches: toStore };
}

function sameKey(a: StoredSigningKey, b: StoredSigningKey): boolean {
  return a.vaultUser === b.vaultUser && a.publicKey === b.publicKey && a.certifiedBy === b.certifiedBy && a.certificate === b.certificate;
}

function keyOf(r: SigningKeyRecord): StoredSigningKey {
  return { keyId: r.id, vaultUser: r.user, publicKey: r.publicKey, certifiedBy: r.certifiedBy, certificate: r.certificate };
}

/** Checks made before the vault's lock, by the batch they were made for. */
const checked = new WeakMap<object, { readonly accountId: string; readonly verified: VerifiedPush }>();

/**
 * Checks `batch` now, outside any transaction (the route calls it before the push queues for the vault's row); its
 * reads go with those of the pushes arriving beside it (verify-reads.ts).
 */
export async function verifyBeforeLock(db: Queryable, batch: Batch, accountId: string): Promise<void> {
  const line = verifyReadsInLine(db);
  checked.set(batch, { accountId, verified: await verifyPush(db, batch, accountId, false, (...args) => line.read(...args)) });
}

/**
 * The snapshot check of a push checked before the lock (verifyBeforeLock) by `accountId` that adds
 * no signing key and moves no device head, as holdVerified would make it; undefined for any other.
 * push-batch.ts reads these together for its batch (store/records-in-line.ts checkSnapshots).
 */
export function lightCheckOf(batch: Batch, accountId: string): SnapshotCheck | undefined {
  const before = checked.get(batch);
  if (before === undefined || before.accountId !== accountId) return undefined;
  const { snapshot, devices, newKeys, heads, batches } = before.verified;
  return snapshot !== '' && newKeys.length === 0 && heads.length === 0 ? { devices, expected: snapshot, batches } : undefined;
}

/**
 * Inside the push's transaction, for a push refused that holds a group for its key change (rotation-claims.ts): what the
 * check before the lock relied on still stands, else the push is checked again here, writing nothing. A signing key
 * revoked or its person disabled between that check and the lock: refused whole, and nothing held (before, a refusal
 * was never checked again, so such a push still held others' writes off).
 */
export async function checkStillVerified(tx: Transaction, batch: Batch, accountId: string, created = false): Promise<void> {
  const before = checked.get(batch);
  const verified = before?.accountId === accountId ? before.verified : undefined;
  if (verified !== undefined && verified.snapshot !== '' && (await signersSnapshot(tx, batch.vault, verified.devices)) === verified.snapshot) return;
  await verifyPush(tx, batch, accountId, created);
}

/**
 * Inside the push's transaction, after its verdict and before it writes a record: what the check
 * relied on still stands (one read, which for a push adding no key or device head also writes its
 * batches, store/signers.ts holdSnapshotPuttingBatches), else the push is checked again here; then its new keys and
 * devices' heads are written with it. Throws a refusal.
 */
export async function holdVerified(tx: Transaction, batch: Batch, accountId: string, created = false): Promise<void> {
  const before = checked.get(batch);
  let verified = before?.accountId === accountId ? before.verified : undefined;
  // A push that made the vault is its move, whatever its people records bound meanwhile (they change the snapshot).
  if (verified !== undefined && verified.snapshot !== '') {
    // A push that adds no key and moves no device head (an entry push): the snapshot's check and its batches' write in one statement.
    const light = verified.newKeys.length === 0 && verified.heads.length === 0;
    const stands = light
      ? await holdSnapshotPuttingBatches(tx, batch.vault, verified.devices, verified.snapshot, verified.batches)
      : (await signersSnapshot(tx, batch.vault, verified.devices)) === verified.snapshot;
    if (stands && light) return;
    if (!stands) verified = undefined;
  }
  verified ??= await verifyPush(tx, batch, accountId, created);
  await putSigningKeys(tx, batch.vault, verified.newKeys);
  await putDevices(tx, batch.vault, verified.heads);
  await putBatches(tx, batch.vault, verified.batches);
}
