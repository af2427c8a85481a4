/**
 * Shared: the audit log — append-only rows, each carrying the SHA-256 of the previous row, plus the
 * head (last id and hash) in meta so removing rows from the end is caught too.
 * The chain needs no key, so a failed sign-in (no key unlocked) is chained like the rest;
 * what a row is about ("Acme Corp/M365 admin") is sealed under the directory key.
 *
 * The keyed anchor: every row written by someone signed in also records, in meta, an HMAC of
 * that row's hash under a key derived from the directory key (which every user holds and a
 * file alone does not give). Someone who edits the file and recomputes every hash and the head
 * cannot recompute the anchor; each sign-in checks it before writing its own row.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb, WriteDb } from './db';
import { newUid, uidText } from './ids';
import { certificateBytes, certificateBytesV1, signatureValid, signBytes, type Signer } from './signing';
import { getSigningKey, listSigningKeys, thisDeviceId, type SigningKeyRow } from './store-signing';
import { deviceForSigner, derivesDevice, leaveForDerivedDevice, oldDeviceToLeave, ownDevices } from './store-device';
import { derivedChainStartFault, isDerivedDeviceId } from '../../shared/sync/device-ids';
import type { StoredRef } from './keys';
import { getMeta, setMeta } from './store-meta';
import { eventSigningText, eventSigningTextV1, keysInForce, type EventSigningText } from '../../shared/sync/signing-keys';
import { eventTextV3, isRedacted, isV3, newV3Columns, NOT_V3, v3Fault, type EventV3Columns, type HeldGroups } from './audit-event-texts';

export interface AuditRow {
  readonly id: number;
  /** Schema 10: the event's global id (its sealed detail names it). */
  readonly uid: Buffer;
  readonly at: number;
  readonly actor_id: number | null;
  readonly action: string;
  readonly subject: string | null;
  readonly entry_id: number | null;
  readonly customer_id: number | null;
  readonly group_id: number | null;
  readonly sealed_detail: Buffer | null;
  readonly prev_hash: Buffer;
  readonly hash: Buffer;
  /** Schema 21: a v3 event's scope tag, and its body's salt (whole) or digest (redacted: every body column null). */
  readonly scope: Buffer | null;
  readonly body_salt: Buffer | null;
  readonly body_digest: Buffer | null;
}

export type AuditFields = Pick<AuditRow, 'at' | 'actor_id' | 'action'> &
  Partial<Pick<AuditRow, 'subject' | 'entry_id' | 'customer_id' | 'group_id'>>;

const GENESIS: Buffer = Buffer.alloc(32);
const HEAD_KEY = 'audit_head';
const ANCHOR_KEY = 'audit_anchor';
/** The only rows written without a key: they may follow the anchor. */
const UNKEYED_ACTIONS: ReadonlySet<string> = new Set(['signin.failed']);

/** The anchor's HMAC key, from the directory key. */
export function auditAnchorKey(directoryKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', directoryKey, Buffer.alloc(0), Buffer.from('crewvault/v1 audit anchor', 'utf8'), 32));
}

function anchorMac(key: Buffer, id: number, hash: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}:${hash.toString('hex')}`, 'utf8').digest();
}

/** `fresh`: found now, not only the record of an earlier finding. */
export type AnchorCheck = { readonly ok: true; readonly anchoredRow: number } | { readonly ok: false; readonly reason: string; readonly fresh: boolean };

/**
 * Whether the log still ends as the last keyed writer left it: the anchored row's hash matches
 * its HMAC, and only unkeyed rows (failed sign-ins) come after it. `required` says the vault
 * has had an anchor (keys.ts DIRECTORY_WRAP_ANCHORED), so a missing one was removed; a vault
 * from before the anchor has none yet (`anchoredRow` 0) and the next keyed row sets it.
 * Also fails while the log holds an `audit.anchor_broken` row: a broken anchor stays reported.
 */
export function checkAuditAnchor(db: ReadDb, key: Buffer, required: boolean): AnchorCheck {
  // This desktop's findings only: another replica's, received with its events, are about its own file.
  const device = thisDeviceId(db) ?? Buffer.alloc(0);
  const recorded = db.prepare<[Buffer], { id: number }>("SELECT id FROM audit_log INDEXED BY audit_log_anchor_broken WHERE action = 'audit.anchor_broken' AND (device_id IS NULL OR device_id = ?) ORDER BY id LIMIT 1").get(device);
  const anchor = getMeta(db, ANCHOR_KEY);
  if (anchor === undefined) return required ? { ok: false, fresh: true, reason: 'the keyed anchor was removed' } : { ok: true, anchoredRow: 0 };
  const match = /^(\d+):([0-9a-f]{64})$/.exec(anchor);
  const id = Number(match?.[1]);
  const row = match ? db.prepare<[number], { hash: Buffer }>('SELECT hash FROM audit_log WHERE id = ?').get(id) : undefined;
  if (!match || !row) return { ok: false, fresh: true, reason: `the keyed anchor names row ${match?.[1] ?? '?'}, which is not in the log` };
  const mac = Buffer.from(match[2] ?? '', 'hex');
  if (!timingSafeEqual(mac, anchorMac(key, id, row.hash))) return { ok: false, fresh: true, reason: `row ${id} (or one before it) was rewritten: its keyed anchor does not match` };
  const later = db.prepare<[number], { id: number; action: string }>('SELECT id, action FROM audit_log WHERE id > ? ORDER BY id').all(id);
  const keyed = later.find((r) => !UNKEYED_ACTIONS.has(r.action));
  if (keyed) return { ok: false, fresh: true, reason: `row ${keyed.id} claims to be written by someone signed in, but without the key` };
  if (recorded) return { ok: false, fresh: false, reason: `row ${recorded.id} records that the log was found rewritten at an earlier sign-in` };
  return { ok: true, anchoredRow: id };
}

function rowHash(row: Omit<AuditRow, 'hash' | 'uid'>): Buffer {
  const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));
  const canonical = JSON.stringify([
    row.id, row.at, row.actor_id, row.action, row.subject, row.entry_id, row.customer_id, row.group_id,
    row.sealed_detail ? row.sealed_detail.toString('base64') : null, row.prev_hash.toString('hex'),
    // A v3 row's scope, salt or digest (schema 21); rows before it hash as they always did.
    ...(row.scope === null ? [] : [hex(row.scope), hex(row.body_salt), hex(row.body_digest)]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest();
}

/**
 * What a signed-in writer brings to an audit row: the key that moves the keyed anchor (anyone
 * signed in has it) and, since schema 11, their signing key (signing.ts).
 */
export interface AuditWriter {
  readonly auditKey: Buffer;
  readonly signer: Signer | undefined;
  /** The scope key of a group this writer holds (keys.ts KeyRing): a v3 event's scope tag of that group is keyed with it. */
  eventScopeKey?(groupId: number): string | undefined;
}

/** Schema 11's columns: the device, its previous event's link, the author's key and the signature. */
interface SignedColumns {
  readonly device_id: Buffer | null;
  readonly device_prev: Buffer | null;
  readonly signer_key_id: number | null;
  readonly signature: Buffer | null;
}

/** Global ids of the rows an event names (users, entries, customers, groups, signing keys). */
type UidOf = (table: 'users' | 'entries' | 'customers' | 'access_groups' | 'signing_keys', id: number | null) => string | null;

/**
 * The bytes an author signs: the event by global ids (the same on every desktop), its sealed
 * detail, the device that wrote it, the link to that device's previous event, and the key.
 * Pure: a received event's bytes can be worked out before its write transaction (to check its
 * signature ahead on a worker thread: replica-verify.ts), and are worked out again inside it.
 */
export function eventSigningBytes(vault: string, e: EventSigningText): Buffer {
  // The text is shared with the team server, which checks events as they are pushed (shared/sync/signing-keys.ts).
  return Buffer.from(eventSigningText(vault, e), 'utf8');
}

/** The bytes an event signed before review round seven hole 4's fix named (no vault): checked for what this file takes, never signed. */
export function eventSigningBytesV1(e: EventSigningText): Buffer {
  return Buffer.from(eventSigningTextV1(e), 'utf8');
}

/** The vault this file is (its id names it in what its authors sign: hole 4). */
function vaultOf(db: ReadDb): string {
  return getMeta(db, 'vault_id') ?? '';
}

/** A stored (or about to be stored) row's fields as its author signs them, its local ids named by their global ids. */
function eventFields(row: Omit<AuditRow, 'hash' | 'prev_hash' | 'id'> & SignedColumns, uidOf: UidOf): EventSigningText {
  return {
    uid: uidText(row.uid), at: row.at, actor: uidOf('users', row.actor_id), action: row.action, subject: row.subject,
    entry: uidOf('entries', row.entry_id), customer: uidOf('customers', row.customer_id), group: uidOf('access_groups', row.group_id),
    sealedDetailBase64: row.sealed_detail ? row.sealed_detail.toString('base64') : null,
    deviceHex: row.device_id ? row.device_id.toString('hex') : null, devicePrevHex: row.device_prev ? row.device_prev.toString('hex') : null,
    signerKey: uidOf('signing_keys', row.signer_key_id),
  };
}

/** A stored (or about to be stored) row's signed bytes in vault `vault`: what its author signs now. */
function eventBytes(row: StoredEvent, uidOf: UidOf, vault: string): Buffer {
  const fields = eventFields(row, uidOf);
  // A v3 event: its header and its body's digest (audit-event-texts.ts); a row neither whole nor redacted signs nothing that holds.
  return isV3(row) ? Buffer.from(eventTextV3(vault, fields, row) ?? '', 'utf8') : eventSigningBytes(vault, fields);
}

/** A stored (or about to be stored) row as its signature covers it. */
type StoredEvent = Omit<AuditRow, 'hash' | 'prev_hash' | 'id'> & SignedColumns;

/**
 * Whether a row's signature holds under `publicKey`: over the text naming this vault, or the v1
 * text (no vault) of an event signed before hole 4's fix. Desktops take v1 as before: a joining
 * desktop must take a history from before the fix, and cannot tell a move's v1 event from a
 * replayed one without believing the server; the server refuses a v1 event that starts a chain
 * outside the move (server/sync/verify.ts).
 */
function eventHolds(row: StoredEvent, uidOf: UidOf, vault: string, publicKey: Buffer, signature: Buffer, check: SignatureCheck = signatureValid): boolean {
  return eventHoldsAs(row, uidOf, vault, publicKey, signature, check).form !== undefined;
}

/**
 * Which text a row's signature holds over: 'v3' (a header and its body's digest, whole or
 * redacted: audit-event-texts.ts v3Fault, `held` the groups whose events this reader is owed
 * whole), 'v2' (naming vault `vault`), 'v1' (no vault, before hole 4's fix); else why not.
 */
function eventHoldsAs(row: StoredEvent, uidOf: UidOf, vault: string, publicKey: Buffer, signature: Buffer, check: SignatureCheck = signatureValid, held: HeldGroups = 'unjudged'): { readonly form: 'v3' | 'v2' | 'v1'; readonly fault?: undefined; readonly mayBeWithheld?: boolean } | { readonly form?: undefined; readonly fault: string } {
  const fields = eventFields(row, uidOf);
  if (isV3(row)) {
    const verdict = v3Fault(vault, fields, row, (text) => check(publicKey, Buffer.from(text, 'utf8'), signature), held);
    return verdict.fault === undefined ? { form: 'v3', mayBeWithheld: verdict.mayBeWithheld } : { fault: verdict.fault };
  }
  if (check(publicKey, eventSigningBytes(vault, fields), signature)) return { form: 'v2' };
  return check(publicKey, eventSigningBytesV1(fields), signature) ? { form: 'v1' } : { fault: 'does not hold under its author\'s signature' };
}

/*
 * Received events signed with the v1 text (no vault) are taken as the team server takes them
 * (server/sync/verify.ts): continuing a device chain held here, or starting one only in the
 * vault's move. A desktop cannot see the move; it sees its history arrive before the first pull
 * that reaches the server's head, and after that the server takes no v1 event starting a chain
 * either. So once this file has caught up with the server (closeV1ChainStarts, in that pull's
 * transaction), a v1 event starting a chain is refused: a relay replaying another vault's v1
 * events (they name no vault) onto a new device is refused here too. A file that never synced
 * with a server (direct exchange only) keeps taking them, as before.
 */
const V1_CHAIN_STARTS_KEY = 'v1_chain_starts';

/** Whether a received v1 event may still start a device chain here (this file has not caught up with a team server yet). */
export function v1ChainStartsOpen(db: ReadDb): boolean {
  return getMeta(db, V1_CHAIN_STARTS_KEY) !== 'closed';
}

/** From now on a received v1 event starts no device chain here: called in the transaction of the pull that reached the server's head. */
export function closeV1ChainStarts(db: WriteDb): void {
  if (v1ChainStartsOpen(db)) setMeta(db, V1_CHAIN_STARTS_KEY, 'closed');
}

/** The link the next event of the same device carries: a hash of this one's signature (which covers all of it). */
function deviceLink(signature: Buffer): Buffer {
  return createHash('sha256').update(signature).digest();
}

/** Global ids already read, per connection: an id never changes (schema 10's trigger), so a
 * user, customer or group named by thousands of events is read once. Entries are not kept. */
const knownUids = new WeakMap<object, Map<string, string>>();
const KEPT_TABLES: ReadonlySet<string> = new Set(['users', 'customers', 'access_groups', 'signing_keys']);

function uidsFrom(db: ReadDb): UidOf {
  let known = knownUids.get(db);
  if (!known) {
    known = new Map();
    knownUids.set(db, known);
  }
  const cache = known;
  return (table, id) => {
    if (id === null) return null;
    const key = `${table}:${id}`;
    const kept = cache.get(key);
    if (kept !== undefined) return kept;
    const row = db.prepare<[number], { uid: Buffer }>(`SELECT uid FROM ${table} WHERE id = ?`).get(id);
    if (!row) return `missing ${table} ${id}`;
    const text = uidText(row.uid);
    if (KEPT_TABLES.has(table)) cache.set(key, text);
    return text;
  };
}

/*
 * Event signatures v3 (docs/SYNC.md "Events of groups one does not hold"): this file signs its new
 * events with the v3 text once a team server it syncs with has said it takes them (its schema,
 * read by the sync: sync.ts), and from then on; v1/v2 rows keep verifying as before. Until then it
 * signs v2, which every server and desktop takes.
 */
const EVENT_SIGNATURES_KEY = 'event_signatures';

/** Whether new events are signed with the v3 text here. */
export function signsEventsV3(db: ReadDb): boolean {
  return getMeta(db, EVENT_SIGNATURES_KEY) === 'v3';
}

/** From now on new events are signed v3: called once a team server this file syncs with takes v3. */
export function startSigningEventsV3(db: WriteDb): void {
  if (!signsEventsV3(db)) setMeta(db, EVENT_SIGNATURES_KEY, 'v3');
}

/** A row as a device chain reads it: its signature (the next row's link) and its time. */
interface ChainRow { readonly signature: Buffer | null; readonly at: number }

/**
 * The device a signed row is written on (a derived device's first row carries the birth value its
 * id comes from: store-device.ts) and that device's newest row: `last`, the log's last row, when it
 * is this device's (a desktop's own events in a row, the usual case), else one read.
 */
function deviceChainHead(db: WriteDb, vault: string, signer: Signer, last: (ChainRow & { readonly device_id: Buffer | null }) | undefined): { device: Buffer; birth: Buffer | null; previous: ChainRow | undefined } {
  const { device, birth } = deviceForSigner(db, vault, getSigningKey(db, signer.keyId)?.public_key ?? Buffer.alloc(0));
  const previous = last?.device_id?.equals(device) === true
    ? last
    : db.prepare<[Buffer], ChainRow>('SELECT signature, at FROM audit_log WHERE device_id = ? ORDER BY id DESC LIMIT 1').get(device);
  return { device, birth, previous };
}

/** Appends one row; `sealDetail` seals the readable detail for the new row; `writer` (someone
 * signed in) moves the keyed anchor to this row. A signed row is dated no earlier than this
 * device's previous event (`fields.at` otherwise): every desktop sets aside an event dated before
 * the one it follows on its device chain (appendReceivedEvent), so an honest clock stepped back
 * (an NTP correction, a VM resumed, an RTC reset) must not write one. */
export function appendAudit(db: WriteDb, fields: AuditFields, sealDetail?: (event: StoredRef) => Buffer, writer?: AuditWriter): number {
  const anchorKey = writer?.auditKey;
  // The log's last row, read once: its hash chains the new row, and when this device wrote it
  // (a desktop's own events in a row, the usual case) its signature is the device chain's link.
  const last = db.prepare<[], { hash: Buffer; device_id: Buffer | null; signature: Buffer | null; at: number }>('SELECT hash, device_id, signature, at FROM audit_log ORDER BY id DESC LIMIT 1').get();
  const prevHash = last?.hash ?? GENESIS;
  const signer = writer?.signer;
  const vault = signer !== undefined ? vaultOf(db) : '';
  // A signed row's device and this device's newest row: its link, and its time the new row's least.
  const chain = signer === undefined ? undefined : deviceChainHead(db, vault, signer, last);
  // Time does not go backwards along a device's chain (review 12b hole 3): a clock stepped back
  // dates the event at its previous one's time, not before it.
  const previousAt = chain?.previous?.at;
  const at = previousAt !== undefined && previousAt > fields.at ? previousAt : fields.at;
  const uidOf = uidsFrom(db);
  const v3 = signer !== undefined && signsEventsV3(db);
  const entryId = fields.entry_id ?? null;
  // A v3 event's scope is its body's group: an entry's event names the entry's group, so the
  // server hands its body to that group's holders (and its scope is checked against it).
  const groupId = fields.group_id ?? (v3 && entryId !== null ? (db.prepare<[number], { group_id: number | null }>('SELECT group_id FROM entries WHERE id = ?').get(entryId)?.group_id ?? null) : null);
  const base = {
    at,
    actor_id: fields.actor_id,
    action: fields.action,
    subject: fields.subject ?? null,
    entry_id: entryId,
    customer_id: fields.customer_id ?? null,
    group_id: groupId,
  };
  const uid = newUid(at);
  const id = Number(
    db.prepare('INSERT INTO audit_log (uid, at, actor_id, action, subject, entry_id, customer_id, group_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(uid, base.at, base.actor_id, base.action, base.subject, base.entry_id, base.customer_id, base.group_id, prevHash, GENESIS).lastInsertRowid,
  );
  const sealed = sealDetail ? sealDetail({ id, uid }) : null;
  // The tag keyed with the group's scope key as this writer holds it (a group they hold no key of: a tag nobody can match).
  const scopeKey = groupId === null ? null : writer?.eventScopeKey?.(groupId);
  const scope = scopeKey === null || scopeKey === undefined ? scopeKey : { key: scopeKey, group: uidOf('access_groups', groupId) ?? '' };
  const form: EventV3Columns = v3 ? newV3Columns(vault, uidText(uid), scope, randomBytes(16)) : NOT_V3;
  const hash = rowHash({ id, ...base, sealed_detail: sealed, prev_hash: prevHash, ...form });
  let signed: SignedColumns = { device_id: null, device_prev: null, signer_key_id: null, signature: null };
  if (signer && chain) {
    // Signed by its author, and linked to the last event this device wrote (schema 11), or its birth value.
    const { device, birth, previous } = chain;
    const unsigned: SignedColumns = { device_id: device, device_prev: previous?.signature ? deviceLink(previous.signature) : birth, signer_key_id: signer.keyId, signature: null };
    signed = { ...unsigned, signature: signBytes(signer.privateKey, eventBytes({ uid, ...base, sealed_detail: sealed, ...unsigned, ...form }, uidOf, vault)) };
  }
  // One write for what the row could not hold before its id was known.
  db.prepare('UPDATE audit_log SET sealed_detail = ?, hash = ?, device_id = ?, device_prev = ?, signer_key_id = ?, signature = ?, scope = ?, body_salt = ?, body_digest = ? WHERE id = ?')
    .run(sealed, hash, signed.device_id, signed.device_prev, signed.signer_key_id, signed.signature, form.scope, form.body_salt, form.body_digest, id);
  setMeta(db, HEAD_KEY, `${id}:${hash.toString('hex')}`);
  if (anchorKey) setMeta(db, ANCHOR_KEY, `${id}:${anchorMac(anchorKey, id, hash).toString('hex')}`);
  return id;
}

/** What leaveOldDevice did: nothing to leave, the events moved, or a chain two people signed kept. */
export type OldDeviceLeft =
  | { readonly left: 'none' }
  | { readonly left: 'moved'; readonly events: number }
  | { readonly left: 'kept'; readonly people: number }
  /** The log does not verify (chain, a row's signature by its author's key, a device link, or the keyed anchor): nothing re-signed, the id kept. */
  | { readonly left: 'unverified'; readonly reason: string };

/**
 * Leaves this file's 16-byte device id before its first push (docs/SYNC.md "Who a device is"):
 * nothing the server holds tells the real device's first event on such an id from a squatter's,
 * so the device stops being that id. A derived id is made for `signer` (the signed-in person,
 * `userId`) and every event of the old chain is re-signed onto it in this write transaction: each
 * row's device, link (the birth value, then the SHA-256 of the row before's signature) and signer
 * key change, its signing text v3 or v2 as its row is (a v1 row, from before hole 4's fix, is
 * signed v2); no row's hash covers those columns, so the log's chain, head and keyed anchor stay
 * as they were. Only when nothing of the old chain was handed on (every row above `handedOnUpTo`,
 * the sent sequence; a push that offered it is noted by store-device.ts) and every row is this
 * person's: another's event cannot be re-signed, so a chain two people signed is kept ('kept', the
 * hole as before: the sync says so), and one only another person signed is left to them.
 * Before any row is re-signed the whole log is verified as `crewvault audit verify` does
 * (verifyAuditChain: each row's hash and chain, its signature over its text as stored by a key in
 * force of its actor, its device link) and the keyed anchor with `anchor` (checkAuditAnchor): a
 * row changed in the file by someone without the person's key must stay an event whose signature
 * fails, never become one the person signed. Should either fail, nothing changes ('unverified').
 */
export function leaveOldDevice(db: WriteDb, signer: Signer, userId: number, handedOnUpTo: number, anchor: { readonly key: Buffer; readonly required: boolean }): OldDeviceLeft {
  const old = oldDeviceToLeave(db);
  if (old === undefined) return { left: 'none' };
  const rows = db.prepare<[Buffer], AuditRow & SignedColumns & { seq: number }>('SELECT * FROM audit_log INDEXED BY audit_log_by_device WHERE device_id = ? ORDER BY id').all(old);
  if (rows.length === 0 || rows.some((r) => r.seq <= handedOnUpTo || r.signature === null)) return { left: 'none' };
  const people = new Set(rows.map((r) => r.actor_id));
  if (people.size > 1) return { left: 'kept', people: people.size };
  const publicKey = getSigningKey(db, signer.keyId)?.public_key;
  if (!people.has(userId) || publicKey === undefined) return { left: 'none' };
  // Per row, not per file: every row to be re-signed is this person's (above), and holds as its author signed it (here).
  const chain = verifyAuditChain(db);
  if (!chain.ok) return { left: 'unverified', reason: chain.reason };
  const anchored = checkAuditAnchor(db, anchor.key, anchor.required);
  if (!anchored.ok) return { left: 'unverified', reason: anchored.reason };
  const vault = vaultOf(db);
  const uidOf = uidsFrom(db);
  const { device, birth } = leaveForDerivedDevice(db, vault, publicKey);
  const update = db.prepare('UPDATE audit_log SET device_id = ?, device_prev = ?, signer_key_id = ?, signature = ? WHERE id = ?');
  let link: Buffer = birth;
  for (const row of rows) {
    const moved = { ...row, device_id: device, device_prev: link, signer_key_id: signer.keyId };
    const signature = signBytes(signer.privateKey, eventBytes(moved, uidOf, vault));
    update.run(device, link, signer.keyId, signature, row.id);
    link = deviceLink(signature);
  }
  return { left: 'moved', events: rows.length };
}

/** The device chain of this file's events from the first that names customer `customerId`, or why it cannot be signed again by `userId`. */
export type CustomerEventsChain =
  | { readonly rows: readonly number[] }
  | { readonly why: string };

/**
 * The events of this file that name customer `customerId`, and every event after the first of
 * them on its device (their links follow its signature), when `userId` may sign them all again
 * (replica-customer-fold.ts): each one theirs, on one of this file's own devices, signed, and
 * written after the sent sequence `handedOnUpTo` (nothing of them handed on). Else why not.
 */
export function customerEventsChain(db: ReadDb, customerId: number, userId: number, handedOnUpTo: number): CustomerEventsChain {
  const naming = db.prepare<[number], { id: number; actor_id: number; device_id: Buffer | null }>('SELECT id, actor_id, device_id FROM audit_log WHERE customer_id = ? ORDER BY id').all(customerId);
  const first = naming[0];
  if (first === undefined) return { rows: [] };
  const device = first.device_id;
  if (device === null || !ownDevices(db).some((d) => d.equals(device))) return { why: 'an audit event of it is not on this desktop\'s own device chain' };
  if (naming.some((r) => r.actor_id !== userId)) return { why: 'another person\'s audit event of it on this desktop cannot be signed again' };
  if (naming.some((r) => r.device_id === null || !r.device_id.equals(device))) return { why: 'its audit events are on more than one device chain' };
  const chain = db.prepare<[Buffer, number], { id: number; actor_id: number; seq: number; signature: Buffer | null }>('SELECT id, actor_id, seq, signature FROM audit_log WHERE device_id = ? AND id >= ? ORDER BY id').all(device, first.id);
  if (chain.some((r) => r.actor_id !== userId)) return { why: 'another person\'s audit event follows it on this desktop\'s device chain and cannot be signed again' };
  if (chain.some((r) => r.seq <= handedOnUpTo || r.signature === null)) return { why: 'an audit event of it was handed on already' };
  return { rows: chain.map((r) => r.id) };
}

/**
 * Signs again, with `signer`, the events `rows` of one device chain (customerEventsChain), in order:
 * a customer they name took another global id (replica-customer-fold.ts), so their signed texts
 * changed. Each row's link is the SHA-256 of the row before's new signature (the first keeps its
 * own); no row's hash covers the signed columns, so the log's chain, head and keyed anchor stay as
 * they were. The global ids this handle kept for events are forgotten first.
 */
export function signChainAgain(db: WriteDb, signer: Signer, rows: readonly number[]): void {
  knownUids.delete(db);
  const vault = vaultOf(db);
  const uidOf = uidsFrom(db);
  const read = db.prepare<[number], AuditRow & SignedColumns>('SELECT * FROM audit_log WHERE id = ?');
  const update = db.prepare('UPDATE audit_log SET device_prev = ?, signer_key_id = ?, signature = ? WHERE id = ?');
  let link: Buffer | null | undefined;
  for (const id of rows) {
    const row = read.get(id);
    if (row === undefined) throw new CrewvaultError('INTERNAL', 'an event to sign again is gone');
    const moved = { ...row, device_prev: link === undefined ? row.device_prev : link, signer_key_id: signer.keyId };
    const signature = signBytes(signer.privateKey, eventBytes(moved, uidOf, vault));
    update.run(moved.device_prev, signer.keyId, signature, id);
    link = deviceLink(signature);
  }
}

/** Forgets the global ids this handle kept for events (a customer took another one: replica-customer-fold.ts). */
export function forgetEventUids(db: ReadDb): void {
  knownUids.delete(db);
}

/** An event another replica's author wrote and signed, as it is chained into this log (replica-service.ts). */
export type ReceivedEvent = Omit<AuditRow, 'id' | 'prev_hash' | 'hash'> & SignedColumns;

/** How a received event's signature is checked: node:crypto here, or a memo of checks made ahead (replica-verify.ts). */
export type SignatureCheck = (publicKey: Buffer, bytes: Buffer, signature: Buffer) => boolean;

export interface ReceivedEventOptions {
  /** Default: signatureValid, here and now. Must verify whatever it was not told of. */
  readonly holds?: SignatureCheck;
  /**
   * The caller chains several events in one write transaction and moves the head and the
   * keyed anchor once, after the last (moveAuditHeadToLast), instead of once an event.
   */
  readonly headLater?: boolean;
  /**
   * The groups whose v3 events this desktop's person is owed whole (their scope keys, each with its
   * group's global id: audit-event-texts.ts HeldGroups; 'every': an owner or admin): a redacted event
   * of one of them, or of no group, was withheld by the server and is refused. Default: 'every' (a
   * caller that does not say is owed every body).
   */
  readonly heldGroups?: Exclude<HeldGroups, 'unjudged'>;
  /**
   * Told once the event is chained when it came redacted tagged by the earlier rule under a key of
   * `heldGroups` (audit-event-texts.ts V3Verdict.mayBeWithheld): taken, the server may have withheld it.
   */
  readonly mayBeWithheld?: () => void;
}

/**
 * Chains an event written elsewhere into this log, after checking that its author signed it
 * with a key of theirs in force here and that it follows the last event this log holds from
 * its device, dated no earlier than it (VAULT_TAMPERED otherwise: nothing is written). `keys`: signingKeysInForce, read
 * once per batch. Moves the head and, since the receiver is signed in, the keyed anchor
 * (unless `headLater`: then the caller does, before its transaction ends).
 */
export function appendReceivedEvent(db: WriteDb, event: ReceivedEvent, keys: ReadonlyMap<number, SigningKeyRow>, writer: AuditWriter, options: ReceivedEventOptions = {}): number {
  const refused = (why: string): Error => new CrewvaultError('VAULT_TAMPERED', `A received audit event ${why}: nothing was applied.`);
  if (event.signature === null || event.signer_key_id === null || event.device_id === null) throw refused('is not signed');
  const key = keys.get(event.signer_key_id);
  if (!key || key.user_id !== event.actor_id) throw refused('is signed with a key that is not its author\'s');
  const verdict = eventHoldsAs(event, uidsFrom(db), vaultOf(db), key.public_key, event.signature, options.holds, options.heldGroups ?? 'every');
  if (verdict.form === undefined) throw refused(verdict.fault);
  const { form } = verdict;
  const previous = db.prepare<[Buffer], { signature: Buffer | null; at: number }>('SELECT signature, at FROM audit_log WHERE device_id = ? ORDER BY id DESC LIMIT 1').get(event.device_id);
  // Time does not go backwards along a device's chain (review 12b hole 3): an event dated before the one it follows is a clock set back.
  if (previous !== undefined && event.at < previous.at) throw refused('is dated before the event before it on its own device (a clock set back)');
  if (form === 'v1' && previous === undefined && !v1ChainStartsOpen(db)) {
    throw refused('is signed in the old form that names no vault and starts a device chain after this desktop caught up with the team server (taken only in the vault\'s move)');
  }
  if (previous === undefined && isDerivedDeviceId(event.device_id.length)) {
    // The first event held of a derived device must show the birth value deriving its id from its signer's key (device squatting).
    const device = event.device_id;
    const fault = derivedChainStartFault(event.device_prev, (birth) => derivesDevice(vaultOf(db), device, key.public_key, birth));
    if (fault !== undefined) throw refused(fault);
  } else {
    const link = previous?.signature ? deviceLink(previous.signature) : null;
    if ((link === null) !== (event.device_prev === null) || (link !== null && event.device_prev !== null && !link.equals(event.device_prev))) {
      throw refused('does not follow the last event this vault holds from its device');
    }
  }
  const last = db.prepare<[], { hash: Buffer }>('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
  const prevHash = last?.hash ?? GENESIS;
  const id = Number(db.prepare(`INSERT INTO audit_log (uid, at, actor_id, action, subject, entry_id, customer_id, group_id, sealed_detail, prev_hash, hash, device_id, device_prev, signer_key_id, signature, scope, body_salt, body_digest)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    event.uid, event.at, event.actor_id, event.action, event.subject, event.entry_id, event.customer_id, event.group_id, event.sealed_detail, prevHash, GENESIS,
    event.device_id, event.device_prev, event.signer_key_id, event.signature, event.scope, event.body_salt, event.body_digest,
  ).lastInsertRowid);
  const hash = rowHash({ id, ...event, prev_hash: prevHash });
  db.prepare('UPDATE audit_log SET hash = ? WHERE id = ?').run(hash, id);
  if (options.headLater !== true) {
    setMeta(db, HEAD_KEY, `${id}:${hash.toString('hex')}`);
    setMeta(db, ANCHOR_KEY, `${id}:${anchorMac(writer.auditKey, id, hash).toString('hex')}`);
  }
  if (verdict.mayBeWithheld === true) options.mayBeWithheld?.();
  return id;
}

/**
 * The head and the keyed anchor moved to the log's last row, once, after received events were
 * chained with `headLater` in this same write transaction (nothing else can write between).
 */
export function moveAuditHeadToLast(db: WriteDb, writer: AuditWriter): void {
  const last = db.prepare<[], { id: number; hash: Buffer }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
  if (!last) return;
  setMeta(db, HEAD_KEY, `${last.id}:${last.hash.toString('hex')}`);
  setMeta(db, ANCHOR_KEY, `${last.id}:${anchorMac(writer.auditKey, last.id, last.hash).toString('hex')}`);
}

/**
 * `userId`'s newest signed sign-in row written on one of `devices` (in that order of
 * preference: the first device that has one), or on any device for 'any'; and whether its
 * signature holds under a key of theirs in force (key-pins.ts reads the record it names).
 * A replica holds other desktops' sign-in rows too, each naming their own file's record.
 */
export function lastSignedSignIn(db: ReadDb, userId: number, devices: readonly Buffer[] | 'any'): { readonly row: StoredRef & { readonly sealed_detail: Buffer | null }; readonly valid: boolean } | undefined {
  const newest = (device: Buffer | undefined): (AuditRow & SignedColumns) | undefined => (device === undefined
    ? db.prepare<[number], AuditRow & SignedColumns>("SELECT * FROM audit_log INDEXED BY audit_log_signins WHERE actor_id = ? AND action = 'signin.ok' AND signature IS NOT NULL ORDER BY id DESC LIMIT 1").get(userId)
    : db.prepare<[number, Buffer], AuditRow & SignedColumns>("SELECT * FROM audit_log INDEXED BY audit_log_signins WHERE actor_id = ? AND action = 'signin.ok' AND signature IS NOT NULL AND device_id = ? ORDER BY id DESC LIMIT 1").get(userId, device));
  let row: (AuditRow & SignedColumns) | undefined;
  if (devices === 'any') row = newest(undefined);
  else for (const device of devices) if (!row) row = newest(device);
  if (!row || row.signature === null) return undefined;
  const key = row.signer_key_id === null ? undefined : signingKeysInForce(db).get(row.signer_key_id);
  const valid = key !== undefined && key.user_id === userId && eventHolds(row, uidsFrom(db), vaultOf(db), key.public_key, row.signature);
  return { row, valid };
}

/** The last row of the log: its id and hash. */
export function lastAuditRow(db: ReadDb): { readonly id: number; readonly hash: Buffer } | undefined {
  return db.prepare<[], { id: number; hash: Buffer }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
}

/** Row `id`'s hash, if the row is there. */
export function auditRowHash(db: ReadDb, id: number): { readonly id: number; readonly hash: Buffer } | undefined {
  return db.prepare<[number], { id: number; hash: Buffer }>('SELECT id, hash FROM audit_log WHERE id = ?').get(id);
}

export function listAuditRows(db: ReadDb, limit = 1000): AuditRow[] {
  return db.prepare<[number], AuditRow>('SELECT * FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id').all(limit);
}

export type AuditVerification =
  /**
   * `redacted` (only when there are any): events of groups this file does not hold (v3, header and body digest only), verified by signature and chain.
   * `mayBeWithheld` (only when there are any, judged with a session's `held`): of those, the ids of events whose tag by the earlier rule matched a
   * key of a group held (audit-event-texts.ts V3Verdict): a warning, not a failure.
   */
  | { readonly ok: true; readonly rows: number; readonly redacted?: number; readonly mayBeWithheld?: readonly string[] }
  | { readonly ok: false; readonly rows: number; readonly brokenAt: number; readonly reason: string };

/** The bytes row `rowId`'s author signed (or would sign), as stored now: what verification checks. */
export function storedEventBytes(db: ReadDb, rowId: number): Buffer {
  const row = db.prepare<[number], AuditRow & SignedColumns>('SELECT * FROM audit_log WHERE id = ?').get(rowId);
  if (!row) throw new Error(`no audit row ${rowId}`);
  return eventBytes(row, uidsFrom(db), vaultOf(db));
}

/** Every global id an audit walk may name, read once (entries can be 100,000). */
function allUids(db: ReadDb): UidOf {
  const maps = new Map<string, Map<number, string>>();
  return (table, id) => {
    if (id === null) return null;
    let map = maps.get(table);
    if (!map) {
      map = new Map(db.prepare<[], { id: number; uid: Buffer }>(`SELECT id, uid FROM ${table}`).all().map((r) => [r.id, uidText(r.uid)]));
      maps.set(table, map);
    }
    return map.get(id) ?? `missing ${table} ${id}`;
  };
}

/**
 * Which signing keys are their users': a key of a user who exists, vouched for by a valid
 * certificate from a valid key of an owner other than that user (only owners reset passwords,
 * which is when a user's key is made for them), or a user's first key, made at their own
 * sign-in (signing.ts). A certificate from a technician's key, or from a key whose user does
 * not exist, vouches for nothing (review F2); one from an owner disabled since, only for keys made
 * before the disable (the key's time, which its certifier wrote: the server refuses a later one).
 */
function validSigningKeys(db: ReadDb, uidOf: UidOf): Map<number, SigningKeyRow> {
  const users = db.prepare<[], { id: number; role: string; disabled_at: number | null }>('SELECT id, role, disabled_at FROM users').all();
  const roles = new Map(users.map((u) => [u.id, u.role]));
  const disabledAt = new Map(users.map((u) => [u.id, u.disabled_at]));
  const vault = vaultOf(db);
  const keys = listSigningKeys(db).map((row) => ({ id: row.id, user: row.user_id, certifiedBy: row.certified_by, hasCertificate: row.certificate !== null, row }));
  // One rule with the team server (shared/sync/signing-keys.ts), judged in this file's order.
  const valid = keysInForce<number, (typeof keys)[number]>(keys, (user) => roles.get(user), (key, certifier) => {
    const userUid = uidOf('users', key.user);
    return key.row.certificate !== null && userUid !== null
      && (signatureValid(certifier.row.public_key, certificateBytes(vault, uidText(key.row.uid), userUid, key.row.public_key), key.row.certificate)
        // A certificate signed before hole 4's fix names no vault: taken as before (see eventHolds).
        || signatureValid(certifier.row.public_key, certificateBytesV1(uidText(key.row.uid), userUid, key.row.public_key), key.row.certificate));
  }, (key, certifier) => {
    // A disabled owner vouches only for keys made before the disable (review round seven hole 3).
    const off = disabledAt.get(certifier.user) ?? null;
    return off === null || key.row.created_at < off;
  });
  return new Map([...valid].map(([id, key]) => [id, key.row]));
}

/** The signing keys that are their users' now (validSigningKeys), by row id. */
export function signingKeysInForce(db: ReadDb): Map<number, SigningKeyRow> {
  return validSigningKeys(db, allUids(db));
}

/**
 * Walks the chain from the first row; reports the first row whose link does not hold. Since
 * schema 11 each event written by someone signed in must carry its author's signature, by a key
 * that is theirs (validSigningKeys), and link to the previous event of its device; after the
 * first signed event, an unsigned one may only be a failed sign-in (written with no key).
 * A v3 row held redacted (header and body digest) is refused when its device is one of this file's
 * own (this file wrote it whole: its body was stripped here), and, with `held` (a session's: the
 * scope keys of the groups its person is owed whole, or 'every' for an owner or admin), when it is
 * of no group or of a group held (audit-event-texts.ts v3Fault). Without one ('unjudged': no key),
 * a redacted row of another device is checked by signature and chain only.
 */
export function verifyAuditChain(db: ReadDb, held: HeldGroups = 'unjudged'): AuditVerification {
  let prev: Buffer = GENESIS;
  let rows = 0;
  let lastId = 0;
  let signed = 0;
  let redacted = 0;
  const unsure: string[] = [];
  const uidOf = allUids(db);
  const keys = validSigningKeys(db, uidOf);
  const vault = vaultOf(db);
  const lastOfDevice = new Map<string, Buffer>();
  const own = ownDevices(db);
  for (const row of db.prepare<[], AuditRow & SignedColumns>('SELECT * FROM audit_log ORDER BY id').iterate()) {
    rows++;
    const broken = (reason: string): AuditVerification => ({ ok: false, rows, brokenAt: row.id, reason });
    if (!row.prev_hash.equals(prev)) return broken(`row ${row.id} does not follow row ${lastId || 'start'}: a row before it was removed or changed`);
    if (!rowHash(row).equals(row.hash)) return broken(`row ${row.id} was changed after it was written`);
    if (row.signature === null) {
      if (signed > 0 && !UNKEYED_ACTIONS.has(row.action)) return broken(`row ${row.id} claims to be written by someone signed in, but nobody signed it`);
    } else {
      const key = row.signer_key_id === null ? undefined : keys.get(row.signer_key_id);
      if (!key || key.user_id !== row.actor_id) return broken(`row ${row.id} is signed with a key that is not its author's`);
      const verdict = eventHoldsAs(row, uidOf, vault, key.public_key, row.signature, signatureValid, held);
      if (verdict.fault !== undefined) return broken(`row ${row.id} was changed after its author signed it: it ${verdict.fault}`);
      if (verdict.mayBeWithheld === true) unsure.push(uidText(row.uid));
      if (isRedacted(row)) {
        // This file wrote its own device's events whole: one held redacted had its body stripped here.
        if (row.device_id !== null && own.some((d) => d.equals(row.device_id ?? Buffer.alloc(0)))) return broken(`row ${row.id} was written whole on this desktop but holds only its body's digest: its body was stripped`);
        redacted++;
      }
      const device = row.device_id?.toString('hex') ?? '';
      const before = lastOfDevice.get(device);
      const link = row.device_prev;
      const derived = before === undefined && row.device_id !== null && isDerivedDeviceId(row.device_id.length) ? row.device_id : undefined;
      if (derived !== undefined) {
        const fault = derivedChainStartFault(link, (birth) => derivesDevice(vault, derived, key.public_key, birth));
        if (fault !== undefined) return broken(`row ${row.id} ${fault}`);
      } else if ((before === undefined) !== (link === null) || (before !== undefined && link !== null && !before.equals(link))) {
        return broken(`row ${row.id} does not follow the event before it from its device: one was removed or changed`);
      }
      lastOfDevice.set(device, deviceLink(row.signature));
      signed++;
    }
    prev = row.hash;
    lastId = row.id;
  }
  const head = getMeta(db, HEAD_KEY);
  const expected = rows === 0 ? undefined : `${lastId}:${prev.toString('hex')}`;
  if (head !== expected) {
    return { ok: false, rows, brokenAt: lastId + 1, reason: `the log ends at row ${lastId || 'start'} but the vault recorded a later head: rows were removed from the end` };
  }
  return { ok: true, rows, ...(redacted > 0 ? { redacted } : {}), ...(unsure.length > 0 ? { mayBeWithheld: unsure } : {}) };
}

/** When `actorId` last did one of `actions` to entry `entryId` (ms), if ever. */
export function lastEntryActionAt(db: ReadDb, actorId: number, entryId: number, actions: readonly string[]): number | undefined {
  const marks = actions.map(() => '?').join(', ');
  const row = db.prepare<unknown[], { at: number | null }>(`SELECT max(at) AS at FROM audit_log WHERE actor_id = ? AND entry_id = ? AND action IN (${marks})`).get(actorId, entryId, ...actions);
  return row?.at ?? undefined;
}
