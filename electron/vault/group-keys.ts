/**
 * Who holds which of an access group's two keys (keys.ts GroupKey): every member the list key,
 * only members whose role needs secrets (shared/policy holdsSecretKeys) the secret key. The one
 * place a group key is wrapped for someone or opened from its wrap, so the rule cannot drift
 * between creating a user, granting, changing a role, resetting a password and rotating.
 * A group set to "server computes codes" (schema 19) gives its secret key only to roles that may
 * reveal OTP keys (otp.reveal_secret): needsSecretKeyIn, shared/policy mayHoldSecretKeyIn.
 * Must never wrap the secret key for a role without a secret permission.
 */
import { CrewvaultError } from '../../shared/errors';
import { holdsSecretKeys, mayHoldSecretKeyIn } from '../../shared/policy';
import { randomKey, unwrapKey, wrapKey, type KeyPair } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { contexts, groupKey, type GroupKey, type KeysSeen } from './keys';
import { groupKeysOfGroup, groupServerCodes, putGroupKey, type HeldGroupKeyRow } from './store-groups';
import { requireVouchedFor } from './public-keys';
import { refOf } from './store-ids';
import { rolePermissions } from './store-roles';
import { getUser, type UserRow } from './store-users';

/** A fresh version of a group's keys: both random, split from the start. */
export function newGroupKey(version: number, lead: boolean): GroupKey {
  return groupKey(version, randomKey(), randomKey(), true, lead);
}

/** What a member's wrapped keys open to, with their private key. */
export function openHeldGroupKey(db: ReadDb, keyPair: KeyPair, userId: number, row: HeldGroupKeyRow): GroupKey {
  const group = refOf(db, 'access_groups', row.group_id);
  const user = refOf(db, 'users', userId);
  const key = unwrapKey(keyPair, row.wrapped_key, contexts.groupKey(group, user, row.key_version));
  const split = row.secret_split === 1;
  // Before the split (schema 6) one key sealed both; it is copied so each buffer is wiped on its own.
  const secret = !split
    ? Buffer.from(key)
    : row.wrapped_secret_key === null ? undefined : unwrapKey(keyPair, row.wrapped_secret_key, contexts.groupSecretKey(group, user, row.key_version));
  return groupKey(row.key_version, key, secret, split, row.is_lead === 1);
}

/** Whether `user`'s role is given secret keys. */
export function needsSecretKey(db: WriteDb, user: Pick<UserRow, 'role'>): boolean {
  return holdsSecretKeys(rolePermissions(db, user.role));
}

/**
 * Whether `user` is given the secret key of `groupId` (shared/policy mayHoldSecretKeyIn): as
 * needsSecretKey, except in a group set to "server computes codes" (schema 19), where that key opens
 * the OTP keys the server holds for those who may not reveal them: only a role with
 * otp.reveal_secret holds it there; every other role the list key alone.
 */
export function needsSecretKeyIn(db: ReadDb, user: Pick<UserRow, 'role'>, groupId: number): boolean {
  return mayHoldSecretKeyIn(rolePermissions(db, user.role), groupServerCodes(db, groupId));
}

/**
 * The groups among these, set to server codes, where an active member holds a secret key their role
 * may not hold there: a vault from before shared/policy mayHoldSecretKeyIn narrowed who does in such
 * a group (review of D2). The server leaves such wraps be but refuses new ones
 * (server/codes/group-setting.ts); an owner's or admin's sign-in rotates them away (team.ts takeStraySecretKeys).
 * Other groups are left to the rotations that follow each role change (team.ts followRole): a row
 * planted in the file for someone outside them is not made a reason to rotate there, which would
 * wrap the group's list key for its holder (test/integration/planted-rows.test.ts). In a server-codes
 * group such a row is, as at any rotation of that group: SECURITY.md "Known limits".
 */
export function groupsWithStraySecretKeys(db: ReadDb, groupIds: Iterable<number>): number[] {
  return [...groupIds].filter((groupId) => groupServerCodes(db, groupId) && groupKeysOfGroup(db, groupId).some((gk) => {
    if (gk.wrapped_secret_key === null) return false;
    const user = getUser(db, gk.user_id);
    return user !== undefined && user.disabled_at === null && !needsSecretKeyIn(db, user, groupId);
  }));
}

/**
 * Wraps `group` for `user`: the list key always, the secret key when their role needs it.
 * FORBIDDEN when it does and the person wrapping lacks the secret key to give.
 */
export function wrapGroupFor(db: WriteDb, groupId: number, group: GroupKey, user: Pick<UserRow, 'id' | 'public_key' | 'role'>, place: { readonly lead: boolean; readonly byRole: boolean; readonly secret?: boolean }, seen?: KeysSeen): void {
  let wrappedSecret: Buffer | null = null;
  requireVouchedFor(db, user.id, user.public_key, seen);
  const groupRef = refOf(db, 'access_groups', groupId);
  const userRef = refOf(db, 'users', user.id);
  // `place.secret`: wrapped again as a record from elsewhere wrapped it (replica-people-in.ts takeCrossing), not read from the role here.
  if (group.split && (place.secret ?? needsSecretKeyIn(db, user, groupId))) {
    if (!group.secret) throw new CrewvaultError('FORBIDDEN', 'You do not hold this group\'s secret key: someone who can reveal its entries must add this person.');
    wrappedSecret = wrapKey(user.public_key, group.secret, contexts.groupSecretKey(groupRef, userRef, group.version));
  }
  putGroupKey(db, {
    group_id: groupId,
    user_id: user.id,
    key_version: group.version,
    wrapped_key: wrapKey(user.public_key, group.key, contexts.groupKey(groupRef, userRef, group.version)),
    wrapped_secret_key: wrappedSecret,
    is_lead: place.lead ? 1 : 0,
    by_role: place.byRole ? 1 : 0,
  });
}
