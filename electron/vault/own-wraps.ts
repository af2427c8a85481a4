/**
 * Schema 10, at each person's own sign-in: every key wrap they hold — their group keys, their
 * directory key, the MFA keys held for them — that was sealed by row id is opened with their
 * key pair and wrapped again, for them alone, by global id. A wrap is re-sealed only by the
 * person it is for, after it opens: a row that does not open (damage, or one planted in the
 * file) is left as it is, and nobody is ever given a key here (review of schema 10: a pass that
 * re-wrapped other people's rows gave keys to whoever planted a row).
 */
import { unwrapKey, wrapKey, wrappedByRowId, type KeyPair, type SealContext } from './crypto';
import type { WriteDb } from './db';
import { contexts, linkContext, type StoredRef } from './keys';
import { getDirectoryWrap, putDirectoryWrap } from './store-directory';
import { groupKeysOfUser, putGroupKey } from './store-groups';
import { refOf } from './store-ids';
import { mfaKeyWrapsHeldBy, putMfaKeyWrap } from './store-mfa-keys';

/** The wrap opened and wrapped again for the same holder under the same context, or undefined if it does not open. */
function rewrapped(keyPair: KeyPair, wrapped: Buffer, context: SealContext): Buffer | undefined {
  let key: Buffer;
  try {
    key = unwrapKey(keyPair, wrapped, context);
  } catch {
    return undefined;
  }
  try {
    return wrapKey(keyPair.publicKey, key, context);
  } finally {
    key.fill(0);
  }
}

/** Returns how many wraps moved to global ids. */
export function resealOwnWraps(db: WriteDb, keyPair: KeyPair, user: StoredRef): number {
  let moved = 0;
  for (const gk of groupKeysOfUser(db, user.id)) {
    const secretStale = gk.wrapped_secret_key !== null && wrappedByRowId(gk.wrapped_secret_key);
    if (!wrappedByRowId(gk.wrapped_key) && !secretStale) continue;
    const group = refOf(db, 'access_groups', gk.group_id);
    const listKey = wrappedByRowId(gk.wrapped_key) ? rewrapped(keyPair, gk.wrapped_key, contexts.groupKey(group, user, gk.key_version)) : gk.wrapped_key;
    const secretKey = gk.wrapped_secret_key === null || !secretStale ? gk.wrapped_secret_key : rewrapped(keyPair, gk.wrapped_secret_key, contexts.groupSecretKey(group, user, gk.key_version));
    if (!listKey || secretKey === undefined) continue;
    putGroupKey(db, { ...gk, wrapped_key: listKey, wrapped_secret_key: secretKey });
    moved++;
  }
  const directory = getDirectoryWrap(db, user.id);
  if (directory && wrappedByRowId(directory.wrapped_key)) {
    const again = rewrapped(keyPair, directory.wrapped_key, contexts.directoryKey(user, directory.key_version, directory.dir_version));
    if (again) {
      putDirectoryWrap(db, user.id, { ...directory, wrapped_key: again });
      moved++;
    }
  }
  for (const held of mfaKeyWrapsHeldBy(db, user.id)) {
    if (!wrappedByRowId(held.wrapped_key)) continue;
    const again = rewrapped(keyPair, held.wrapped_key, linkContext('mfa_key_wraps', refOf(db, 'users', held.user_id), user, 'key', 1));
    if (!again) continue;
    putMfaKeyWrap(db, held.user_id, user.id, again);
    moved++;
  }
  return moved;
}
