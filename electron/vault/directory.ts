/**
 * The directory key and its versions (schema 8): what every user holds to read customer and
 * group names and audit details, and to move the audit log's keyed anchor. Disabling a user
 * rotates it — a new version wrapped for everyone still active, every name sealed again, the
 * old version kept sealed under the new one — so the key a disabled user saved opens no name
 * or audit detail written afterwards, and current members still read the old ones.
 * Must never wrap a new version for a disabled user, nor seal under a version that is not current.
 */
import { randomKey, open, openJson, seal, sealJson, unwrapKey, wrapKey, type KeyPair } from './crypto';
import { tampered } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { contexts, customerIndex, DIRECTORY_WRAP_ANCHORED, groupNameIndex, type KeyRing, type ObjectRef } from './keys';
import { listCustomerRows, resealCustomerName } from './store-customers';
import { getDirectoryHistory, getDirectoryVersion, getDirectoryWrap, putDirectoryHistory, putDirectoryWrap, setDirectoryVersion, type DirectoryWrapRow } from './store-directory';
import { listGroups, resealGroupName, tombstoneRow, type GroupRow } from './store-groups';
import { agreedNameOf, dropAgreedName, groupsDeletionKept, keepAgreedName, keepDeletion, keptDeletionOf, type KeptDeletion } from './store-agreed-group';
import { requireVouchedFor } from './public-keys';
import type { UserRow } from './store-users';

/** Wraps the ring's current directory key for `user`. */
export function wrapDirectoryFor(db: WriteDb, ring: KeyRing, user: Pick<UserRow, 'id' | 'uid' | 'public_key'>): void {
  const dirVersion = ring.directoryVersion;
  requireVouchedFor(db, user.id, user.public_key, ring.keysSeen);
  putDirectoryWrap(db, user.id, {
    key_version: DIRECTORY_WRAP_ANCHORED,
    dir_version: dirVersion,
    wrapped_key: wrapKey(user.public_key, ring.directoryKey, contexts.directoryKey(user, DIRECTORY_WRAP_ANCHORED, dirVersion)),
  });
}

export function openDirectoryWrap(keyPair: KeyPair, user: ObjectRef, row: DirectoryWrapRow): Buffer {
  return unwrapKey(keyPair, row.wrapped_key, contexts.directoryKey(user, row.key_version, row.dir_version));
}

/**
 * Catches the ring up with a rotation made elsewhere (another window, process or person):
 * when the file's version is newer, this user's wrap of it replaces the ring's key. Call at
 * the start of every write, so nothing is sealed or anchored under a version that is not current.
 */
export function syncDirectory(db: ReadDb, ring: KeyRing, user: ObjectRef & { readonly id: number }): void {
  if (getDirectoryVersion(db) === ring.directoryVersion) return;
  const wrap = getDirectoryWrap(db, user.id);
  if (!wrap || wrap.dir_version <= ring.directoryVersion) return;
  ring.useDirectory(wrap.dir_version, openDirectoryWrap(ring.keyPair, user, wrap));
}

/** The directory key of `version`: the ring's, or opened down the history chain from it. */
export function directoryKeyFor(db: ReadDb, ring: KeyRing, version: number): Buffer {
  if (version === ring.directoryVersion) return ring.directoryKey;
  if (version > ring.directoryVersion || version < 1) throw tampered();
  let known = version + 1;
  let key = known === ring.directoryVersion ? ring.directoryKey : ring.olderDirectoryKey(known);
  // Walk down from the nearest version this ring knows.
  while (!key) {
    known++;
    if (known > ring.directoryVersion) throw tampered();
    key = known === ring.directoryVersion ? ring.directoryKey : ring.olderDirectoryKey(known);
  }
  for (let v = known - 1; v >= version; v--) {
    const cached = ring.olderDirectoryKey(v);
    if (cached) {
      key = cached;
      continue;
    }
    const sealed = getDirectoryHistory(db, v);
    if (!sealed) throw tampered();
    const opened = open(key, sealed, contexts.directoryHistory(v));
    ring.rememberOlderDirectory(v, opened);
    key = opened;
  }
  return key;
}

// How an audit detail is laid out: before schema 8 a bare seal (directory version 1, its first
// byte the seal format 1); schema 8 marked a later version's with 0x02 and the version (4 bytes)
// before the seal. Since schema 10 every detail is marked 0x03 with its version, because a bare
// seal's first byte can now be 2 (crypto.ts) and would read as the old mark. The associated
// data binds the version either way.
const VERSIONED_DETAIL = 0x02;
const DETAIL_BY_GLOBAL_ID = 0x03;

export function sealAuditDetail(ring: KeyRing, event: ObjectRef, detail: string): Buffer {
  const version = ring.directoryVersion;
  const sealed = sealJson(ring.directoryKey, detail, contexts.auditDetail(event, version));
  const head = Buffer.alloc(5);
  head[0] = DETAIL_BY_GLOBAL_ID;
  head.writeUInt32BE(version, 1);
  return Buffer.concat([head, sealed]);
}

/** The detail as written, or undefined when it does not open (damage: the caller falls back). */
export function openAuditDetail(db: ReadDb, ring: KeyRing, event: ObjectRef, blob: Buffer): string | undefined {
  let version = 1;
  let sealed = blob;
  if ((blob[0] === VERSIONED_DETAIL || blob[0] === DETAIL_BY_GLOBAL_ID) && blob.length > 5) {
    version = blob.readUInt32BE(1);
    sealed = blob.subarray(5);
  }
  try {
    const opened = openJson(directoryKeyFor(db, ring, version), sealed, contexts.auditDetail(event, version));
    return typeof opened === 'string' ? opened : undefined;
  } catch {
    return undefined;
  }
}

/** The name kept as agreed for `row` (store-agreed-group.ts), opened with `key`; undefined when none is kept or it does not open (then it goes). */
function agreedNameIn(db: WriteDb, key: Buffer, row: GroupRow): { readonly name: string; readonly revision: number } | undefined {
  const agreed = agreedNameOf(db, row.id);
  if (agreed === undefined) return undefined;
  try {
    const name = openJson(key, agreed.sealedName, contexts.groupName(row));
    if (typeof name === 'string') return { name, revision: agreed.revision };
  } catch {
    // Dropped below: a name that does not open is never put back.
  }
  dropAgreedName(db, row.id);
  return undefined;
}

/** The groups a deletion made here and not sent keeps (store-agreed-group.ts keepDeletion), each name opened with `key`; one that does not open is left as it is. */
function keptDeletionsIn(db: WriteDb, key: Buffer): Array<{ readonly groupId: number; readonly ref: GroupRow; readonly deletion: KeptDeletion; readonly name: string }> {
  return groupsDeletionKept(db).flatMap((groupId) => {
    const ref = tombstoneRow(db, groupId);
    const deletion = keptDeletionOf(db, groupId);
    if (ref === undefined || deletion === undefined) return [];
    try {
      const name = openJson(key, deletion.sealedName, contexts.groupName(ref));
      return typeof name === 'string' ? [{ groupId, ref, deletion, name }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * A new directory key version, in the caller's write transaction: the old key sealed under it
 * (history), every customer and group name sealed again with a new keyed index, and the new key
 * wrapped for every active user in `holders`. The ring moves to it at once (so this
 * transaction's audit row is sealed and anchored under it); the returned undo puts the ring
 * back if the transaction fails.
 */
export function rotateDirectory(db: WriteDb, ring: KeyRing, holders: readonly UserRow[]): () => void {
  const oldVersion = ring.directoryVersion;
  if (getDirectoryVersion(db) !== oldVersion) throw tampered();
  const oldKey = ring.directoryKey;
  const next = randomKey();
  putDirectoryHistory(db, oldVersion, seal(next, oldKey, contexts.directoryHistory(oldVersion)));
  const customers = listCustomerRows(db).map((row) => ({ ref: row, name: openJson(oldKey, row.sealed_name, contexts.customerName(row)) }));
  const groups = listGroups(db).map((row) => ({ ref: row, name: openJson(oldKey, row.sealed_name, contexts.groupName(row)), agreed: agreedNameIn(db, oldKey, row) }));
  const kept = keptDeletionsIn(db, oldKey);
  const undo = ring.useDirectory(oldVersion + 1, next);
  try {
    for (const c of customers) {
      if (typeof c.name !== 'string') throw tampered();
      resealCustomerName(db, c.ref.id, sealJson(next, c.name, contexts.customerName(c.ref)), customerIndex(ring, c.name));
    }
    for (const g of groups) {
      if (typeof g.name !== 'string') throw tampered();
      resealGroupName(db, g.ref.id, sealJson(next, g.name, contexts.groupName(g.ref)), groupNameIndex(ring, g.name));
      // The name kept as agreed while a rename waits (store-agreed-group.ts) is sealed again with it, or it could not be put back.
      if (g.agreed !== undefined) keepAgreedName(db, g.ref.id, { sealedName: sealJson(next, g.agreed.name, contexts.groupName(g.ref)), nameIndex: groupNameIndex(ring, g.agreed.name), revision: g.agreed.revision });
    }
    // So is what a deletion made here and not sent keeps of its group (replica-group-undelete.ts), or it came back unopened.
    for (const k of kept) keepDeletion(db, k.groupId, { ...k.deletion, sealedName: sealJson(next, k.name, contexts.groupName(k.ref)), nameIndex: groupNameIndex(ring, k.name) });
    for (const user of holders) if (user.disabled_at === null) wrapDirectoryFor(db, ring, user);
    setDirectoryVersion(db, oldVersion + 1);
  } catch (error) {
    undo();
    throw error;
  }
  return undo;
}
