/**
 * Each user's signing key (schema 11, signing.ts): opened at sign-in from its wrap, or made —
 * at a user's first sign-in since schema 11 (self-introduced), when a vault is created, or by an
 * owner resetting someone's password (certified by that owner's key, wrapped for the new key
 * pair, as the one-time password is theirs to hand over too).
 */
import { unwrapKey, wrapKey, type KeyPair, type SealContext } from './crypto';
import type { WriteDb } from './db';
import { newUid, uidText } from './ids';
import { objectContext, type StoredRef } from './keys';
import { getMeta } from './store-meta';
import { bindingBytes, certificateBytes, newSigningKeyPair, signBytes, signingKeyFromSeed, signingSeed, type Signer } from './signing';
import { CrewvaultError } from '../../shared/errors';
import { getSigningKey, getUserSigning, insertSigningKey, listSigningKeys, setSigningKeyBinding, setUserSigning } from './store-signing';

/** What a signing key's seed is wrapped to its user under (by their global id: a joining desktop opens it from their user record). */
export function wrapContext(user: StoredRef): SealContext {
  return objectContext('users', user, 'signing_key', 1);
}

/** A new signing key for `user`, wrapped for `userPublicKey`, vouched for by `certifier` (none: self-introduced). */
export function makeSigningKey(db: WriteDb, user: StoredRef, userPublicKey: Buffer, now: number, certifier?: Signer): Signer {
  const pair = newSigningKeyPair();
  const uid = newUid(now);
  const certificate = certifier ? signBytes(certifier.privateKey, certificateBytes(getMeta(db, 'vault_id') ?? '', uidText(uid), uidText(user.uid), pair.publicKey)) : null;
  const binding = signBytes(pair.privateKey, bindingBytes(uidText(user.uid), userPublicKey));
  const keyId = insertSigningKey(db, { uid, user_id: user.id, public_key: pair.publicKey, created_at: now, certified_by: certifier?.keyId ?? null, certificate, binding });
  const seed = signingSeed(pair.privateKey);
  try {
    setUserSigning(db, user.id, keyId, wrapKey(userPublicKey, seed, wrapContext(user)));
  } finally {
    seed.fill(0);
  }
  return { keyId, keyUid: uid, privateKey: pair.privateKey };
}

/** At sign-in: the user's signing key, opened with their key pair; made now if they have none yet. */
export function signerAtSignIn(db: WriteDb, keyPair: KeyPair, user: StoredRef, now: number): Signer {
  const current = getUserSigning(db, user.id);
  const keyRow = current?.signing_key_id === null || current?.signing_key_id === undefined ? undefined : getSigningKey(db, current.signing_key_id);
  if (!current?.wrapped_signing_key || !keyRow) {
    // Only a user's first key may vouch for itself: one who had a key and lost its wrap in the
    // file would sign everything from now on with a key that is not theirs (review).
    if (listSigningKeys(db).some((k) => k.user_id === user.id)) {
      throw new CrewvaultError('VAULT_TAMPERED', 'Your signing key is missing from the vault: the file was altered. An owner can reset your password to give you a new one.');
    }
    return makeSigningKey(db, user, keyPair.publicKey, now);
  }
  const seed = unwrapKey(keyPair, current.wrapped_signing_key, wrapContext(user));
  try {
    const privateKey = signingKeyFromSeed(seed, keyRow.public_key);
    // Made before schema 14: it vouches now for the public key this sign-in proved is theirs.
    if (keyRow.binding === null) setSigningKeyBinding(db, keyRow.id, signBytes(privateKey, bindingBytes(uidText(user.uid), keyPair.publicKey)));
    return { keyId: keyRow.id, keyUid: keyRow.uid, privateKey };
  } finally {
    seed.fill(0);
  }
}
