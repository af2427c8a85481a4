/**
 * Writing users and groups: the records whose keys are made here. Used by vault creation and
 * by the service (new users, new groups). Deriving a password's key is slow, so it happens
 * before the write transaction (prepareUser); everything written happens inside one.
 * Wipes every key and password-derived buffer it made as soon as it is sealed.
 */
import { CrewvaultError } from '../../shared/errors';
import type { UserView } from '../../shared/model';
import type { Role } from '../../shared/policy';
import { hasControlCharacter, lookAlikeProblem, normaliseNameText } from '../../shared/text';
import {
  deriveKek,
  exportPrivateKey,
  generateKeyPair,
  MIN_KDF,
  newKdfParams,
  seal,
  sealJson,
  type KdfParams,
  type KeyPair,
} from './crypto';
import type { WriteDb } from './db';
import { newGroupKey, wrapGroupFor } from './group-keys';
import { contexts, groupNameIndex, type KeyRing } from './keys';
import { newUid } from './ids';
import { insertGroup } from './store-groups';
import { findUserByName, insertUser, type UserRow } from './store-users';

export interface KdfOptions {
  readonly memory?: number;
  readonly iterations?: number;
  readonly parallelism?: number;
}

const MAX_USER_NAME = 64;
const MIN_PASSWORD = 8;
export const DEFAULT_GROUP_NAME = 'Default';

/** A user name as stored: NFC, trimmed, printable, with no invisible or bidi character. */
export function validateUserName(name: string): string {
  const trimmed = normaliseNameText(name);
  if (trimmed.length === 0 || trimmed.length > MAX_USER_NAME || hasControlCharacter(trimmed)) {
    throw new CrewvaultError('INVALID_INPUT', `A user name is 1 to ${MAX_USER_NAME} printable characters.`);
  }
  const lookAlike = lookAlikeProblem('A user name', trimmed);
  if (lookAlike) throw new CrewvaultError('INVALID_INPUT', lookAlike);
  return trimmed;
}

export function validateNewPassword(password: string): string {
  if ([...password].length < MIN_PASSWORD) throw new CrewvaultError('INVALID_INPUT', `A password needs at least ${MIN_PASSWORD} characters.`);
  return password;
}

/**
 * The Argon2id settings a vault may hold. The floor is what the vault makes (MIN_KDF); the
 * ceilings are far above any real choice (DESIGN.md's default is 64 MiB, 3 passes, 1 lane) and
 * keep a damaged or edited record from making a sign-in allocate terabytes or run for days.
 */
export const KDF_LIMITS = {
  /** KiB: 1 MiB to 4 GiB. */
  memory: { min: MIN_KDF.memory, max: 4 * 1024 * 1024 },
  iterations: { min: MIN_KDF.iterations, max: 100 },
  parallelism: { min: MIN_KDF.parallelism, max: 64 },
  saltBytes: { min: 16, max: 64 },
} as const;

/**
 * A user's stored Argon2id settings, every field checked: they come from the file, so a value
 * outside KDF_LIMITS (0, -1, 1.5, 2^32-1), a salt that is not base64 of 16 to 64 bytes, or text
 * that is not JSON is damage to report as VAULT_CORRUPT — never something to hand to argon2,
 * whose own failures would surface as INTERNAL.
 */
export function parseKdf(text: string): KdfParams {
  const damaged = (): CrewvaultError => new CrewvaultError('VAULT_CORRUPT', "Not a readable Crewvault vault: a user's key settings are damaged.");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw damaged();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw damaged();
  const { algorithm, memory, iterations, parallelism, salt } = value as Record<string, unknown>;
  const within = (n: unknown, limits: { readonly min: number; readonly max: number }): n is number =>
    typeof n === 'number' && Number.isSafeInteger(n) && n >= limits.min && n <= limits.max;
  // Canonical base64 only: Buffer.from(…, 'base64') skips what it cannot read instead of failing.
  const saltBytes = typeof salt === 'string' && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(salt) ? Buffer.from(salt, 'base64').length : 0;
  if (
    algorithm !== 'argon2id' ||
    !within(memory, KDF_LIMITS.memory) ||
    !within(iterations, KDF_LIMITS.iterations) ||
    !within(parallelism, KDF_LIMITS.parallelism) ||
    typeof salt !== 'string' ||
    !within(saltBytes, KDF_LIMITS.saltBytes)
  ) {
    throw damaged();
  }
  return { algorithm, memory, iterations, parallelism, salt };
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
export function insertUserRecord(db: WriteDb, prepared: PreparedUser, name: string, role: Role, now: number): { readonly id: number; readonly uid: Buffer } {
  const privateRaw = exportPrivateKey(prepared.keyPair.privateKey);
  try {
    if (findUserByName(db, name)) throw new CrewvaultError('ALREADY_EXISTS', `A user named "${name}" already exists.`);
    const uid = newUid(now);
    const sealed = seal(prepared.kek, privateRaw, contexts.privateKey({ uid }));
    return { uid, id: insertUser(db, { uid, name, role, kdf: JSON.stringify(prepared.params), public_key: prepared.keyPair.publicKey, sealed_private_key: sealed, created_at: now }) };
  } finally {
    privateRaw.fill(0);
    prepared.kek.fill(0);
  }
}

/**
 * A new group with fresh keys, wrapped for its creator (who becomes its lead; the secret key
 * only if their role needs secrets — group-keys.ts). The creator's ring holds both for now, so
 * the caller can wrap them for owners and admins; a creator who may not hold the secret key
 * loses it from the ring at the session's next call (VaultSession.refreshUser reads the wraps).
 */
export function createGroupRecord(db: WriteDb, ring: KeyRing, creator: Pick<UserRow, 'id' | 'role'>, name: string, now: number): number {
  const uid = newUid(now);
  const groupId = insertGroup(db, { uid, sealed_name: sealJson(ring.directoryKey, name, contexts.groupName({ uid })), name_index: groupNameIndex(ring, name), created_at: now });
  const group = newGroupKey(1, true);
  wrapGroupFor(db, groupId, group, { id: creator.id, role: creator.role, public_key: ring.keyPair.publicKey }, { lead: true, byRole: false }, ring.keysSeen);
  ring.addGroup(groupId, group);
  return groupId;
}
