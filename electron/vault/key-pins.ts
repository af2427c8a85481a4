/**
 * What each person has seen of everyone's signing keys (schema 13): at every sign-in, the
 * signing keys in force are checked against the person's own pins — sealed under a key derived
 * from their private key, so nobody else can write them — and then pinned. A key that was
 * pinned and is now gone, replaced or no longer vouched for means the file was edited to speak
 * in someone's name; the sign-in records it as the broken anchor is recorded (vault.ts).
 * Must never drop a pin: once seen, a key stays expected.
 */
import { openJson, sealJson, type SealContext } from './crypto';
import type { WriteDb } from './db';
import { uidText } from './ids';
import { objectContext, type StoredRef } from './keys';
import { signingKeysInForce } from './store-audit';
import { getKeyPins, listSigningKeys, setKeyPins } from './store-signing';
import { listUsers } from './store-users';

type Pins = Record<string, string>;

function pinsContext(user: StoredRef): SealContext {
  return objectContext('users', user, 'key_pins', 1);
}

function isPins(value: unknown): value is Pins {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

export type PinCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks the keys in force against `user`'s pins and pins them, in the sign-in's transaction. */
export function checkAndPinSigningKeys(db: WriteDb, pinKey: Buffer, user: StoredRef): PinCheck {
  const sealed = getKeyPins(db, user.id);
  let pinned: Pins = {};
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
  for (const [keyUid, publicKey] of Object.entries(pinned)) {
    const key = all.get(keyUid);
    const whose = key ? `${names.get(key.user_id) ?? `user ${key.user_id}`}'s` : 'a';
    if (!key) finding ??= `${whose} signing key ${keyUid} you had seen was removed from the vault`;
    else if (key.public_key.toString('base64') !== publicKey) finding ??= `${whose} signing key ${keyUid} was replaced since you last signed in`;
    else if (!inForce.has(key.id)) finding ??= `${whose} signing key ${keyUid} is no longer vouched for`;
  }
  const next: Pins = { ...pinned };
  for (const key of inForce.values()) next[uidText(key.uid)] ??= key.public_key.toString('base64');
  setKeyPins(db, user.id, sealJson(pinKey, next, pinsContext(user)));
  return finding ? { ok: false, reason: finding } : { ok: true };
}
