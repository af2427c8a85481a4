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
import { openJson, sealJson, type SealContext } from './crypto';
import type { WriteDb } from './db';
import { uidText } from './ids';
import { objectContext, type StoredRef } from './keys';
import { auditRowHash, lastAuditRow, signingKeysInForce } from './store-audit';
import { getKeyPins, listSigningKeys, setKeyPins } from './store-signing';
import { listUsers } from './store-users';

interface Pins {
  /** Signing key global id → its public key (base64). */
  readonly keys: Readonly<Record<string, string>>;
  /** The last audit row this person's sign-in saw: its id and hash (hex). */
  readonly seen: { readonly id: number; readonly hash: string } | null;
}

function pinsContext(user: StoredRef): SealContext {
  return objectContext('users', user, 'key_pins', 1);
}

function isPins(value: unknown): value is Pins {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { keys, seen } = value as Record<string, unknown>;
  const keysOk = typeof keys === 'object' && keys !== null && !Array.isArray(keys) && Object.values(keys).every((v) => typeof v === 'string');
  const seenOk = seen === null || (typeof seen === 'object' && typeof (seen as Record<string, unknown>).id === 'number' && typeof (seen as Record<string, unknown>).hash === 'string');
  return keysOk && seenOk;
}

export type PinCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks the keys in force against `user`'s pins and pins them, in the sign-in's transaction. */
export function checkAndPinSigningKeys(db: WriteDb, pinKey: Buffer, user: StoredRef): PinCheck {
  const sealed = getKeyPins(db, user.id);
  let pinned: Pins = { keys: {}, seen: null };
  let finding: string | undefined;
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
  for (const key of inForce.values()) keys[uidText(key.uid)] ??= key.public_key.toString('base64');
  // A rewrite found stays found: the checkpoint is moved on only from a log that still held.
  const last = lastAuditRow(db);
  const seen = finding === undefined && last ? { id: last.id, hash: last.hash.toString('hex') } : pinned.seen;
  setKeyPins(db, user.id, sealJson(pinKey, { keys, seen }, pinsContext(user)));
  return finding ? { ok: false, reason: finding } : { ok: true };
}
