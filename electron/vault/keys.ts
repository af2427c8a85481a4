/**
 * The keys a signed-in session holds, and the names of where each sealed value lives.
 * A KeyRing exists only in the main process (or the CLI) and is wiped on lock.
 */
import type { KeyPair, SealContext } from './crypto';
import { indexKey, keyedHash } from './crypto';
import { uidText } from './ids';
import type { Signer } from './signing';
import { auditAnchorKey } from './store-audit';
import { eventScopeKey } from './audit-event-texts';

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
  /** This person's signing key (schema 11), set at sign-in: every audit event they write is signed with it. */
  signer: Signer | undefined;
  /** The signing keys this person's sign-in checked and pinned (key-pins.ts): a key is wrapped
   * for someone only to a public key vouched for by one of these, or by one added since. */
  keysSeen: KeysSeen | undefined;

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

  /** The key this person's v3 audit events of group `groupId` are scope-tagged with (audit-event-texts.ts), from the version held; undefined: not held. */
  eventScopeKey(groupId: number): string | undefined {
    const group = this.groups.get(groupId);
    return group === undefined ? undefined : eventScopeKey(group.key);
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
    this.signer = undefined; // a KeyObject cannot be overwritten: dropped for the collector
  }
}

/** The signing keys a session's sign-in pinned, by global id, and the highest key row id then. */
export interface KeysSeen {
  readonly pinned: ReadonlySet<string>;
  readonly maxKeyId: number;
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
  return entryLookupNormalised(group, normaliseName(customer), title);
}

/** entryLookup with the customer's name normalised already (normaliseName): a first sync's 100,000 entries name a few thousand customers. */
export function entryLookupNormalised(group: GroupKey, normalisedCustomer: string, title: string): Buffer {
  return keyedHash(group.index, `${normalisedCustomer}\n${normaliseName(title)}`);
}

/**
 * What a seal's associated data names an object by: its global id (format 2, every new seal)
 * and, for opening a seal made before schema 10 (format 1), its row id here. A row not yet
 * inserted has no row id: what is sealed for it is sealed by global id alone.
 */
export interface ObjectRef {
  readonly id?: number;
  readonly uid: Buffer;
}

/** An object that has its row here. */
export type StoredRef = ObjectRef & { readonly id: number };

/** A field of one object. */
export function objectContext(table: string, ref: ObjectRef, field: string, keyVersion: number): SealContext {
  return { table, row: ref.id, uid: uidText(ref.uid), field, keyVersion };
}

/** A row that joins two objects (a member's key of a group, a holder's copy of an MFA key). */
export function linkContext(table: string, a: ObjectRef, b: ObjectRef, field: string, keyVersion: number): SealContext {
  const row = a.id === undefined || b.id === undefined ? undefined : `${a.id}:${b.id}`;
  return { table, row, uid: `${uidText(a.uid)}:${uidText(b.uid)}`, field, keyVersion };
}

export const contexts = {
  privateKey: (user: ObjectRef): SealContext => objectContext('users', user, 'private_key', 1),
  /**
   * `version` is the wrap's format (DIRECTORY_WRAP_ANCHORED for every wrap written since the
   * audit anchor); `dirVersion` the directory key version it holds (schema 8), bound in too
   * from version 2 on (version 1's wraps were written before it existed).
   */
  directoryKey: (user: ObjectRef, version: number, dirVersion = 1): SealContext => objectContext('directory_keys', user, dirVersion === 1 ? 'key' : `key@${dirVersion}`, version),
  /** Named by the version it keeps, which is the same on every desktop. */
  directoryHistory: (version: number): SealContext => ({ table: 'directory_history', row: version, uid: String(version), field: 'key', keyVersion: version + 1 }),
  groupKey: (group: ObjectRef, user: ObjectRef, version: number): SealContext => linkContext('group_keys', group, user, 'key', version),
  groupSecretKey: (group: ObjectRef, user: ObjectRef, version: number): SealContext => linkContext('group_keys', group, user, 'secret_key', version),
  groupName: (group: ObjectRef): SealContext => objectContext('access_groups', group, 'name', 1),
  customerName: (customer: ObjectRef): SealContext => objectContext('customers', customer, 'name', 1),
  entrySummary: (entry: ObjectRef, version: number): SealContext => objectContext('entries', entry, 'summary', version),
  entryDetails: (entry: ObjectRef, version: number): SealContext => objectContext('entries', entry, 'details', version),
  /** `dirVersion`: the directory key version that sealed it (directory.ts sealAuditDetail). */
  auditDetail: (event: ObjectRef, dirVersion = 1): SealContext => objectContext('audit_log', event, 'detail', dirVersion),
} as const;
