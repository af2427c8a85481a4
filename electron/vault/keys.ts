/**
 * The keys a signed-in session holds, and the names of where each sealed value lives.
 * A KeyRing exists only in the main process (or the CLI) and is wiped on lock.
 */
import type { KeyPair, SealContext } from './crypto';
import { indexKey, keyedHash } from './crypto';
import { auditAnchorKey } from './store-audit';

/**
 * A group's keys as one person holds them. Each version has two: the list key (`key`: what the
 * list shows — title, username, URL, the summary pages — and the lookup index) and the secret
 * key (`secret`: password, notes, OTP key). Only roles that need secrets hold the secret key
 * (shared/policy SECRET_KEY_PERMISSIONS); an auditor's `secret` is undefined. A group from
 * before schema 6 has one key for both (`split` false) until an owner signs in and splits it.
 */
export interface GroupKey {
  readonly version: number;
  readonly key: Buffer;
  readonly index: Buffer;
  readonly secret: Buffer | undefined;
  /** Whether this version has a separate secret key (false: a pre-schema-7 group, key = secret). */
  readonly split: boolean;
  /** Whether this person leads the group (manages its members). */
  readonly lead: boolean;
}

/** A group key from its raw parts (the index key derived from the list key). */
export function groupKey(version: number, key: Buffer, secret: Buffer | undefined, split: boolean, lead: boolean): GroupKey {
  return { version, key, index: indexKey(key, 'entries'), secret, split, lead };
}

/**
 * The version a directory key is wrapped under since the keyed audit anchor. The version is in
 * the wrap's associated data, so the file alone cannot turn it back into 1; while any user's
 * wrap carries it, a vault without an anchor has had it removed (store-audit.ts).
 */
export const DIRECTORY_WRAP_ANCHORED = 2;

interface DirectoryKeys {
  readonly version: number;
  readonly key: Buffer;
  readonly index: Buffer;
  readonly audit: Buffer;
}

function directoryKeys(version: number, key: Buffer): DirectoryKeys {
  return { version, key, index: indexKey(key, 'directory'), audit: auditAnchorKey(key) };
}

export class KeyRing {
  readonly keyPair: KeyPair;
  private directory: DirectoryKeys;
  /** Older directory key versions this session has opened (directory.ts), to read what they sealed. */
  private readonly olderDirectories = new Map<number, Buffer>();
  readonly groups = new Map<number, GroupKey>();

  constructor(keyPair: KeyPair, directoryKey: Buffer, directoryVersion = 1) {
    this.keyPair = keyPair;
    this.directory = directoryKeys(directoryVersion, directoryKey);
  }

  /** The current directory key: customer and group names, new audit details. */
  get directoryKey(): Buffer {
    return this.directory.key;
  }

  get directoryVersion(): number {
    return this.directory.version;
  }

  get directoryIndex(): Buffer {
    return this.directory.index;
  }

  /** Keys the audit log's anchor (store-audit.ts), from the current directory key. */
  get auditKey(): Buffer {
    return this.directory.audit;
  }

  /**
   * Moves to a newer directory key; the one it replaces is kept to open what it sealed.
   * Returns an undo for a transaction that failed after the move.
   */
  useDirectory(version: number, key: Buffer): () => void {
    const previous = this.directory;
    this.directory = directoryKeys(version, key);
    this.olderDirectories.set(previous.version, previous.key);
    return () => {
      this.directory.index.fill(0);
      this.directory.audit.fill(0);
      this.directory.key.fill(0);
      this.directory = previous;
      this.olderDirectories.delete(previous.version);
    };
  }

  olderDirectoryKey(version: number): Buffer | undefined {
    return this.olderDirectories.get(version);
  }

  rememberOlderDirectory(version: number, key: Buffer): void {
    this.olderDirectories.set(version, key);
  }

  addGroup(groupId: number, group: GroupKey): void {
    this.groups.set(groupId, group);
  }

  /** Forgets one group's key (after a rotation replaced it, or membership ended). */
  dropGroup(groupId: number): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    wipeGroupKey(group);
    this.groups.delete(groupId);
  }

  /** Overwrites every key this ring holds; the ring is useless afterwards. */
  wipe(): void {
    this.directory.key.fill(0);
    this.directory.index.fill(0);
    this.directory.audit.fill(0);
    for (const key of this.olderDirectories.values()) key.fill(0);
    this.olderDirectories.clear();
    for (const group of this.groups.values()) wipeGroupKey(group);
    this.groups.clear();
  }
}

function wipeGroupKey(group: GroupKey): void {
  group.key.fill(0);
  group.index.fill(0);
  group.secret?.fill(0);
}

/** Case-, space- and Unicode-form-insensitive form of a name, for keyed lookups. */
export function normaliseName(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function customerIndex(ring: KeyRing, name: string): Buffer {
  return keyedHash(ring.directoryIndex, `customer\n${normaliseName(name)}`);
}

export function groupNameIndex(ring: KeyRing, name: string): Buffer {
  return keyedHash(ring.directoryIndex, `group\n${normaliseName(name)}`);
}

export function entryLookup(group: GroupKey, customer: string, title: string): Buffer {
  return keyedHash(group.index, `${normaliseName(customer)}\n${normaliseName(title)}`);
}

export const contexts = {
  privateKey: (userId: number): SealContext => ({ table: 'users', row: userId, field: 'private_key', keyVersion: 1 }),
  /**
   * `version` is the wrap's format (DIRECTORY_WRAP_ANCHORED for every wrap written since the
   * audit anchor); `dirVersion` the directory key version it holds (schema 8), bound in too
   * from version 2 on (version 1's wraps were written before it existed).
   */
  directoryKey: (userId: number, version: number, dirVersion = 1): SealContext => ({ table: 'directory_keys', row: userId, field: dirVersion === 1 ? 'key' : `key@${dirVersion}`, keyVersion: version }),
  directoryHistory: (version: number): SealContext => ({ table: 'directory_history', row: version, field: 'key', keyVersion: version + 1 }),
  groupKey: (groupId: number, userId: number, version: number): SealContext => ({ table: 'group_keys', row: `${groupId}:${userId}`, field: 'key', keyVersion: version }),
  groupSecretKey: (groupId: number, userId: number, version: number): SealContext => ({ table: 'group_keys', row: `${groupId}:${userId}`, field: 'secret_key', keyVersion: version }),
  groupName: (groupId: number): SealContext => ({ table: 'access_groups', row: groupId, field: 'name', keyVersion: 1 }),
  customerName: (customerId: number): SealContext => ({ table: 'customers', row: customerId, field: 'name', keyVersion: 1 }),
  entrySummary: (entryId: number, version: number): SealContext => ({ table: 'entries', row: entryId, field: 'summary', keyVersion: version }),
  entryDetails: (entryId: number, version: number): SealContext => ({ table: 'entries', row: entryId, field: 'details', keyVersion: version }),
  /** `dirVersion`: the directory key version that sealed it (directory.ts sealAuditDetail). */
  auditDetail: (rowId: number, dirVersion = 1): SealContext => ({ table: 'audit_log', row: rowId, field: 'detail', keyVersion: dirVersion }),
} as const;
