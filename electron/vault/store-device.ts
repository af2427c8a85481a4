/**
 * Local: who this desktop is as a device (#15, docs/SYNC.md "Who a device is"). A device id made
 * since then is derived from its first signer's key (shared/sync/device-ids.ts): SHA-256 of the
 * vault, that key and a random birth value, both kept in meta `this_device_derived` (this file's
 * own, never another desktop's; `this_device` holds 16 bytes only), and the device's first event
 * carries the birth value as its link. A file's older 16-byte id that already wrote an event
 * stays as it is (its chain is not moved); one that wrote none (migration 0011's, a new file's,
 * a join's) is replaced at the first signed event. One that wrote events and was never handed on
 * leaves its id at the next sync (store-audit.ts leaveOldDevice: its events re-signed onto a derived
 * id), so nobody who learned it can squat it; once a push has offered its events (noteDevicesOffered)
 * it stays. Also the check of a derived id, by bytes.
 * Must never: give a device whose events were offered to a server or handed on another id, or hand
 * out a derived id that wrote nothing and does not derive from the key about to sign its first event.
 */
import { createHash, randomBytes } from 'node:crypto';
import { deviceIdText, DEVICE_BIRTH_BYTES } from '../../shared/sync/device-ids';
import type { ReadDb, WriteDb } from './db';
import { getMeta, setMeta } from './store-meta';

const DERIVED_KEY = 'this_device_derived';
/** The 16-byte id (hex) a push offered events of: it may be on the server (a reply lost), so it is not left. */
const OFFERED_KEY = 'old_device_offered';

/** The id a device whose first signer holds `publicKey` (raw 32 bytes) has in vault `vault`, born with `birth`. */
export function derivedDeviceId(vault: string, publicKey: Buffer, birth: Buffer): Buffer {
  return createHash('sha256').update(deviceIdText(vault, publicKey.toString('base64'), birth.toString('hex')), 'utf8').digest();
}

/** Whether `birth` derives `device` from `publicKey` in vault `vault`. */
export function derivesDevice(vault: string, device: Buffer, publicKey: Buffer, birth: Buffer): boolean {
  return derivedDeviceId(vault, publicKey, birth).equals(device);
}

/** This file's derived device id and its birth value, if it has one. */
function keptDerived(db: ReadDb): { readonly device: Buffer; readonly birth: Buffer } | undefined {
  const match = /^([0-9a-f]{64}):([0-9a-f]{64})$/.exec(getMeta(db, DERIVED_KEY) ?? '');
  return match ? { device: Buffer.from(match[1] ?? '', 'hex'), birth: Buffer.from(match[2] ?? '', 'hex') } : undefined;
}

function legacyDevice(db: ReadDb): Buffer | undefined {
  return db.prepare<[], { device_id: Buffer }>('SELECT device_id FROM this_device WHERE id = 1').get()?.device_id;
}

function wroteEvents(db: ReadDb, device: Buffer): boolean {
  return db.prepare<[Buffer], { one: number }>('SELECT 1 AS one FROM audit_log INDEXED BY audit_log_by_device WHERE device_id = ? LIMIT 1').get(device) !== undefined;
}

/** This desktop's device id as it is (none yet: no signed event was written here, or the id was renewed). */
export function thisDevice(db: ReadDb): Buffer | undefined {
  return keptDerived(db)?.device ?? legacyDevice(db);
}

/** Every device id this file has written events as, by its own record (its derived id, its older 16-byte id). */
export function ownDevices(db: ReadDb): readonly Buffer[] {
  return [keptDerived(db)?.device, legacyDevice(db)].filter((d): d is Buffer => d !== undefined);
}

/**
 * The device an event signed now with `publicKey` (raw) is written on, and, for a derived id, its
 * birth value (the link its first event carries; null for a 16-byte id, whose first link is none).
 * Makes a derived id when this file has none that wrote an event here.
 */
export function deviceForSigner(db: WriteDb, vault: string, publicKey: Buffer): { readonly device: Buffer; readonly birth: Buffer | null } {
  const derived = keptDerived(db);
  if (derived !== undefined && (wroteEvents(db, derived.device) || derivesDevice(vault, derived.device, publicKey, derived.birth))) return derived;
  if (derived === undefined) {
    const legacy = legacyDevice(db);
    if (legacy !== undefined && wroteEvents(db, legacy)) return { device: legacy, birth: null };
  }
  return newDerivedDevice(db, vault, publicKey);
}

/** A derived id for `publicKey` in `vault` with a fresh birth value, kept as this file's device. */
function newDerivedDevice(db: WriteDb, vault: string, publicKey: Buffer): { readonly device: Buffer; readonly birth: Buffer } {
  const birth = randomBytes(DEVICE_BIRTH_BYTES);
  const device = derivedDeviceId(vault, publicKey, birth);
  setMeta(db, DERIVED_KEY, `${device.toString('hex')}:${birth.toString('hex')}`);
  return { device, birth };
}

/**
 * This file's 16-byte id while it is the device events are written on (no derived id yet) and no
 * push has offered them (a device from before "Who a device is" that has not pushed): the id to
 * leave before its first push. Whether its events were handed on otherwise (a direct exchange) is
 * the caller's to judge by its sent sequence.
 */
export function oldDeviceToLeave(db: ReadDb): Buffer | undefined {
  if (keptDerived(db) !== undefined) return undefined;
  const legacy = legacyDevice(db);
  if (legacy === undefined || !wroteEvents(db, legacy) || getMeta(db, OFFERED_KEY) === legacy.toString('hex')) return undefined;
  return legacy;
}

/**
 * Leaves this file's 16-byte id for a derived one of `publicKey` (store-audit.ts leaveOldDevice
 * moves its events in the same transaction): the new id and its birth value, the old id forgotten
 * (the file is no longer that device; events received on it later are another's).
 */
export function leaveForDerivedDevice(db: WriteDb, vault: string, publicKey: Buffer): { readonly device: Buffer; readonly birth: Buffer } {
  db.prepare('DELETE FROM this_device').run();
  return newDerivedDevice(db, vault, publicKey);
}

/** A push is about to offer events of `devices`: should one be this file's 16-byte id, it stays (the server may hold them now). */
export function noteDevicesOffered(db: WriteDb, devices: readonly Buffer[]): void {
  const old = oldDeviceToLeave(db);
  if (old !== undefined && devices.some((d) => d.equals(old))) setMeta(db, OFFERED_KEY, old.toString('hex'));
}

/** A new device id at the next signed event (a vault file copied to start another replica is another device). */
export function forgetThisDevice(db: WriteDb): void {
  db.prepare('DELETE FROM this_device').run();
  db.prepare('DELETE FROM meta WHERE key = ?').run(DERIVED_KEY);
}

/** The device `userId`'s sign-in is written on: by their current signing key (none: this file's id as it is, if any). */
export function deviceOfSigningUser(db: WriteDb, userId: number): Buffer | undefined {
  const key = db.prepare<[number], { public_key: Buffer }>('SELECT k.public_key FROM users u JOIN signing_keys k ON k.id = u.signing_key_id WHERE u.id = ?').get(userId);
  return key === undefined ? thisDevice(db) : deviceForSigner(db, getMeta(db, 'vault_id') ?? '', key.public_key).device;
}
