/**
 * Whose public key is whose (schema 14): before a key is wrapped for someone, their X25519
 * public key in the file must be the one their current signing key vouches for (a binding, a
 * signature over their global id and that key). Someone who can write the file and puts their
 * own public key in another person's row gets nothing wrapped to it (review R5: a rotation
 * wrapped a group's new keys "for bob" to mallory's key). A user with no signing key yet (no
 * sign-in since schema 11) has nothing to vouch with: their key is taken as it is (SECURITY.md).
 * Must never wrap for a public key that a signing key of its user does not vouch for, once that
 * user has one.
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb } from './db';
import { uidText } from './ids';
import { bindingBytes, signatureValid } from './signing';
import { signingKeysInForce } from './store-audit';
import { getUserSigning, listSigningKeys } from './store-signing';
import type { KeysSeen } from './keys';
import { getUser, type UserRow } from './store-users';

/** Before wrapping for `userId` to `publicKey`: VAULT_TAMPERED unless it is their row's key and vouched for. */
export function requireVouchedFor(db: ReadDb, userId: number, publicKey: Buffer, seen?: KeysSeen): void {
  const user = getUser(db, userId);
  if (!user || !user.public_key.equals(publicKey)) throw new CrewvaultError('VAULT_TAMPERED', 'A public key to wrap for is not its user\'s: the file was altered. Nothing was given to it.');
  requireVouchedPublicKey(db, user, seen);
}

/**
 * `seen`: the keys the acting session's sign-in pinned. The vouching key must be one of them,
 * or newer than any it saw (made since): a key put in among older ones would otherwise count as
 * its user's first and vouch for someone else's public key (re-review).
 */
export function requireVouchedPublicKey(db: ReadDb, user: Pick<UserRow, 'id' | 'uid' | 'name' | 'public_key'>, seen?: KeysSeen): void {
  const hasKeys = listSigningKeys(db).some((k) => k.user_id === user.id);
  if (!hasKeys) return;
  const current = getUserSigning(db, user.id)?.signing_key_id ?? null;
  const key = current === null ? undefined : signingKeysInForce(db).get(current);
  const known = key !== undefined && (seen === undefined || seen.pinned.has(uidText(key.uid)) || key.id > seen.maxKeyId);
  const vouched = key !== undefined && known && key.user_id === user.id && key.binding !== null
    && signatureValid(key.public_key, bindingBytes(uidText(user.uid), user.public_key), key.binding);
  if (!vouched) {
    throw new CrewvaultError('VAULT_TAMPERED', `${user.name}'s public key in the vault is not one their signing key vouches for: the file was altered. Nothing was given to it.`);
  }
}
