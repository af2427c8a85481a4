/**
 * What each person has seen (schema 13), sealed under a key derived from their private key, so
 * nobody else can write it: everyone's signing keys, and where the audit log ended (its last
 * row's id and hash). At every sign-in both are checked, then brought up to date. A pinned key
 * now gone, replaced or no longer vouched for means the file was edited to speak in someone's
 * name; a log that no longer passes through the row they saw means something at or before it
 * was rewritten, inserted or removed — even with every hash, the anchor and the signatures
 * remade, which any member can do. The sign-in records either as the broken anchor is recorded
 * (vault.ts). Must never drop a pin: once seen, a key stays expected.
 */
import { createHash } from 'node:crypto';
import { openJson, sealJson, type SealContext } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { uidText } from './ids';
import { objectContext, type KeysSeen, type StoredRef } from './keys';
import { auditRowHash, lastAuditRow, signingKeysInForce } from './store-audit';
import { getKeyPins, listSigningKeys, setKeyPins } from './store-signing';
import { deviceOfSigningUser } from './store-device';
import { listUsers } from './store-users';

interface Pins {
  /** Signing key global id → its public key (base64). */
  readonly keys: Readonly<Record<string, string>>;
  /** The last audit row this person's sign-in saw: its id and hash (hex). */
  readonly seen: { readonly id: number; readonly hash: string } | null;
  /** The highest signing key row id seen: honest keys are only ever added after it. */
  readonly maxKeyId?: number;
  /**
   * The device (hex) of the desktop that wrote this record: its sign-in row there names it.
   * A replica holds other desktops' sign-in rows too (received), each naming their own file's
   * record; and a file writer can change which device this desktop says it is, not this.
   */
  readonly device?: string;
}

function pinsContext(user: StoredRef): SealContext {
  return objectContext('users', user, 'key_pins', 1);
}

function isPins(value: unknown): value is Pins {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { keys, seen } = value as Record<string, unknown>;
  const keysOk = typeof keys === 'object' && keys !== null && !Array.isArray(keys) && Object.values(keys).every((v) => typeof v === 'string');
  const seenOk = seen === null || (typeof seen === 'object' && typeof (seen as Record<string, unknown>).id === 'number' && typeof (seen as Record<string, unknown>).hash === 'string');
  const maxOk = (value as Record<string, unknown>).maxKeyId === undefined || typeof (value as Record<string, unknown>).maxKeyId === 'number';
  const device = (value as Record<string, unknown>).device;
  const deviceOk = device === undefined || (typeof device === 'string' && /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/.test(device));
  return keysOk && seenOk && maxOk && deviceOk;
}

export type PinCheck = ({ readonly ok: true } | { readonly ok: false; readonly reason: string }) & {
  /** SHA-256 (hex) of the record as now written: the sign-in's own signed row names it. */
  readonly record: string;
  /** What the session may trust when it wraps keys for others (public-keys.ts). */
  readonly seen: KeysSeen;
};

const RECORD_SUFFIX = / \[record ([0-9a-f]{64})\]$/;

/** A sign-in row's detail: who, and the record it left (vault.ts seals it as the row's detail). */
export function recordDetail(name: string, record: string): string {
  return `${name} [record ${record}]`;
}

/** The record a sign-in row's detail names, if it names one. */
export function recordOf(detail: string): string | null {
  return RECORD_SUFFIX.exec(detail)?.[1] ?? null;
}

/** The detail as people read it: the record is for the next sign-in's check, not for them. */
export function withoutRecord(detail: string): string {
  return detail.replace(RECORD_SUFFIX, '');
}

/**
 * The record this person's last signed sign-in named, checked against the one in the file:
 * deleting or rolling back someone's record would otherwise turn their check off (re-review).
 * `lastRecord`: the hash that row's detail names, or null (no earlier sign-in since schema 13).
 */
function recordFinding(sealed: Buffer | null, lastRecord: string | null): string | undefined {
  if (lastRecord === null) return undefined;
  const now = sealed ? createHash('sha256').update(sealed).digest('hex') : null;
  return now === lastRecord ? undefined : 'your record of the signing keys and the log you saw is not the one your last sign-in left: it was removed or put back';
}

/**
 * The device `user`'s record says wrote it: null for a record from before devices were named
 * (or none at all), undefined when it does not open (the check then finds that).
 */
export function recordDevice(db: ReadDb, pinKey: Buffer, user: StoredRef): Buffer | null | undefined {
  const sealed = getKeyPins(db, user.id);
  if (!sealed) return null;
  try {
    const opened = openJson(pinKey, sealed, pinsContext(user));
    if (!isPins(opened)) return undefined;
    return opened.device === undefined ? null : Buffer.from(opened.device, 'hex');
  } catch {
    return undefined;
  }
}

/** Checks the keys in force against `user`'s pins and pins them, in the sign-in's transaction. */
export function checkAndPinSigningKeys(db: WriteDb, pinKey: Buffer, user: StoredRef, lastRecord: string | null): PinCheck {
  const sealed = getKeyPins(db, user.id);
  let pinned: Pins = { keys: {}, seen: null };
  let finding = recordFinding(sealed, lastRecord);
  if (sealed) {
    try {
      const opened = openJson(pinKey, sealed, pinsContext(user));
      if (isPins(opened)) pinned = opened;
      else finding = 'your record of the signing keys you have seen is damaged';
    } catch {
      finding = 'your record of the signing keys you have seen was altered';
    }
  }
  const names = new Map(listUsers(db).map((u) => [u.id, u.name]));
  const all = new Map(listSigningKeys(db).map((k) => [uidText(k.uid), k]));
  const inForce = signingKeysInForce(db);
  if (pinned.seen) {
    const row = auditRowHash(db, pinned.seen.id);
    if (!row || row.hash.toString('hex') !== pinned.seen.hash) {
      finding ??= `the audit log was rewritten at or before row ${pinned.seen.id} since you last signed in`;
    }
  }
  for (const [keyUid, publicKey] of Object.entries(pinned.keys)) {
    const key = all.get(keyUid);
    const whose = key ? `${names.get(key.user_id) ?? `user ${key.user_id}`}'s` : 'a';
    if (!key) finding ??= `${whose} signing key ${keyUid} you had seen was removed from the vault`;
    else if (key.public_key.toString('base64') !== publicKey) finding ??= `${whose} signing key ${keyUid} was replaced since you last signed in`;
    else if (!inForce.has(key.id)) finding ??= `${whose} signing key ${keyUid} is no longer vouched for`;
  }
  const keys: Record<string, string> = { ...pinned.keys };
  const maxKeyId = pinned.maxKeyId ?? 0;
  for (const key of inForce.values()) {
    const keyUid = uidText(key.uid);
    if (keys[keyUid] !== undefined) continue;
    // Keys are only ever added after the newest: one put in among older ids is made up (re-review).
    if (key.id <= maxKeyId) {
      finding ??= `${names.get(key.user_id) ?? `user ${key.user_id}`}'s signing key ${keyUid} was put in among keys you had already seen`;
      continue;
    }
    keys[keyUid] = key.public_key.toString('base64');
  }
  const newestKey = Math.max(maxKeyId, ...[...all.values()].map((k) => k.id));
  // A rewrite found stays found: the checkpoint is moved on only from a log that still held.
  const last = lastAuditRow(db);
  const seen = finding === undefined && last ? { id: last.id, hash: last.hash.toString('hex') } : pinned.seen;
  const keptMax = finding === undefined ? newestKey : maxKeyId;
  // The device this sign-in's own row is written on (a derived id is made here for the key that signs it: store-device.ts).
  const device = deviceOfSigningUser(db, user.id);
  const written = sealJson(pinKey, { keys, seen, maxKeyId: keptMax, ...(device === undefined ? {} : { device: device.toString('hex') }) }, pinsContext(user));
  setKeyPins(db, user.id, written);
  const record = createHash('sha256').update(written).digest('hex');
  const keysSeen: KeysSeen = { pinned: new Set(Object.keys(keys)), maxKeyId: keptMax };
  return finding ? { ok: false, reason: finding, record, seen: keysSeen } : { ok: true, record, seen: keysSeen };
}
