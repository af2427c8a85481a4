/**
 * The key a rotation replaced, kept on the rotating desktop until the server stores the rotation
 * (docs/SYNC.md, "an edit crossing a rotation"): an edit another desktop sealed under it that
 * reached the server first is opened with it here, sealed again under the new key and sent with
 * the rotation, instead of being refused for ever (every sync BUSY). Wrapped to this person's own
 * public key (store-rotated-from.ts); dropped at the server's acknowledgement.
 * Must never keep a version after the server stored the group at a newer one, or wrap it for anyone else.
 */
import type { KeyPair } from './crypto';
import { unwrapKey, wrapKey } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { contexts, groupKey, type GroupKey } from './keys';
import { getGroupRow } from './store-groups';
import { refOf } from './store-ids';
import { keepRotatedFrom, rotatedFromOf } from './store-rotated-from';

/** Keeps `old` (the version a rotation of `groupId` replaces) wrapped to `user`'s public key. */
export function keepKeyRotatedFrom(db: WriteDb, groupId: number, old: GroupKey, user: { readonly id: number; readonly public_key: Buffer }): void {
  const group = refOf(db, 'access_groups', groupId);
  const self = refOf(db, 'users', user.id);
  keepRotatedFrom(db, groupId, {
    version: old.version,
    wrappedKey: wrapKey(user.public_key, old.key, contexts.groupKey(group, self, old.version)),
    wrappedSecretKey: old.secret ? wrapKey(user.public_key, old.secret, contexts.groupSecretKey(group, self, old.version)) : null,
    // Before the rotation moves it: the revision a give-way goes back to where none is agreed (replica-own-key.ts giveWayToHeld).
    ...revisionOf(db, groupId),
  });
}

function revisionOf(db: ReadDb, groupId: number): { readonly groupRevision?: number } {
  const row = getGroupRow(db, groupId);
  return row === undefined ? {} : { groupRevision: row.revision };
}

/** The version `version` of `groupId` this desktop rotated from, opened; undefined when not kept. */
export function openKeyRotatedFrom(db: ReadDb, keyPair: KeyPair, userId: number, groupId: number, version: number): GroupKey | undefined {
  const row = rotatedFromOf(db, groupId).find((r) => r.version === version);
  if (!row) return undefined;
  const group = refOf(db, 'access_groups', groupId);
  const self = refOf(db, 'users', userId);
  const key = unwrapKey(keyPair, row.wrappedKey, contexts.groupKey(group, self, version));
  const secret = row.wrappedSecretKey === null ? undefined : unwrapKey(keyPair, row.wrappedSecretKey, contexts.groupSecretKey(group, self, version));
  return groupKey(version, key, secret, true, false);
}
