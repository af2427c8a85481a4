/**
 * Writing users and groups: the records whose keys are made here. Used by vault creation and
 * by the service (new users, new groups). Deriving a password's key is slow, so it happens
 * before the write transaction (prepareUser); everything written happens inside one.
 * Wipes every key and password-derived buffer it made as soon as it is sealed.
 */
import { CrewvaultError } from '../../shared/errors';
import type { UserView } from '../../shared/model';
import type { Role } from '../../shared/policy';
import { hasControlCharacter } from '../../shared/text';
import {
  deriveKek,
  exportPrivateKey,
  generateKeyPair,
  newKdfParams,
  randomKey,
  seal,
  sealJson,
  wrapKey,
  type KdfParams,
  type KeyPair,
} from './crypto';
import type { WriteDb } from './db';
import { contexts, groupNameIndex, type KeyRing } from './keys';
import { insertGroup, putGroupKey, setGroupSealedName } from './store-groups';
import { findUserByName, insertUser, setSealedPrivateKey, type UserRow } from './store-users';

export interface KdfOptions {
  readonly memory?: number;
  readonly iterations?: number;
  readonly parallelism?: number;
}

const MAX_USER_NAME = 64;
const MIN_PASSWORD = 8;
export const DEFAULT_GROUP_NAME = 'Default';

export function validateUserName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_USER_NAME || hasControlCharacter(trimmed)) {
    throw new CrewvaultError('INVALID_INPUT', `A user name is 1 to ${MAX_USER_NAME} printable characters.`);
  }
  return trimmed;
}

export function validateNewPassword(password: string): string {
  if ([...password].length < MIN_PASSWORD) throw new CrewvaultError('INVALID_INPUT', `A password needs at least ${MIN_PASSWORD} characters.`);
  return password;
}

export function parseKdf(text: string): KdfParams {
  const value = JSON.parse(text) as Partial<KdfParams>;
  if (value.algorithm !== 'argon2id' || typeof value.salt !== 'string' || typeof value.memory !== 'number' || typeof value.iterations !== 'number' || typeof value.parallelism !== 'number') {
    throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: a user record is damaged.');
  }
  return value as KdfParams;
}

export function userView(row: UserRow): UserView {
  if (row.role.length === 0) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: a user has no role.');
  return { id: row.id, name: row.name, role: row.role };
}

export interface PreparedUser {
  readonly params: KdfParams;
  readonly kek: Buffer;
  readonly keyPair: KeyPair;
}

/** The slow part of making a user: Argon2id over the password, and a fresh key pair. */
export async function prepareUser(password: string, kdf: KdfOptions): Promise<PreparedUser> {
  const params = newKdfParams(kdf);
  return { params, kek: await deriveKek(password, params), keyPair: generateKeyPair() };
}

/** Inserts the user with their private key sealed under the prepared key, then wipes that key. */
export function insertUserRecord(db: WriteDb, prepared: PreparedUser, name: string, role: Role, now: number): number {
  const privateRaw = exportPrivateKey(prepared.keyPair.privateKey);
  try {
    if (findUserByName(db, name)) throw new CrewvaultError('ALREADY_EXISTS', `A user named "${name}" already exists.`);
    const id = insertUser(db, { name, role, kdf: JSON.stringify(prepared.params), public_key: prepared.keyPair.publicKey, created_at: now });
    setSealedPrivateKey(db, id, seal(prepared.kek, privateRaw, contexts.privateKey(id)));
    return id;
  } finally {
    privateRaw.fill(0);
    prepared.kek.fill(0);
  }
}

/** A new group with a fresh key, wrapped for its creator (who becomes its lead). */
export function createGroupRecord(db: WriteDb, ring: KeyRing, creatorId: number, name: string, now: number): number {
  const groupId = insertGroup(db, groupNameIndex(ring, name), now);
  setGroupSealedName(db, groupId, sealJson(ring.directoryKey, name, contexts.groupName(groupId)));
  const key = randomKey();
  putGroupKey(db, { group_id: groupId, user_id: creatorId, key_version: 1, wrapped_key: wrapKey(ring.keyPair.publicKey, key, contexts.groupKey(groupId, creatorId, 1)), is_lead: 1 });
  ring.addGroup(groupId, 1, key, true);
  return groupId;
}
