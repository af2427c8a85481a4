/**
 * Opening and creating a vault, and signing in: the only place a password meets the file.
 * Sign-in derives the key-encryption key (Argon2id), opens the user's X25519 private key,
 * unwraps the directory key and the user's group keys, and audits the attempt either way.
 * Must never say which of user name or password was wrong, nor log either.
 */
import { randomBytes } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { hasControlCharacter } from '../../shared/text';
import { isRole, type Role } from '../../shared/policy';
import type { UserView } from '../../shared/model';
import {
  deriveKek,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  newKdfParams,
  open,
  randomKey,
  seal,
  sealJson,
  unwrapKey,
  wrapKey,
  type KdfParams,
} from './crypto';
import { checkpoint, createVaultFile, openVaultFile, VAULT_FORMAT, withWrite, type ReadDb, type WriteDb } from './db';
import { contexts, groupNameIndex, KeyRing } from './keys';
import { VaultSession, type Clock } from './service';
import { appendAudit, verifyAuditChain, type AuditVerification } from './store-audit';
import { insertGroup, groupKeysOfUser, putGroupKey, setGroupSealedName } from './store-groups';
import { setMeta, setSetting } from './store-meta';
import {
  findUserByName,
  getWrappedDirectoryKey,
  insertUser,
  listUsers,
  putWrappedDirectoryKey,
  setSealedPrivateKey,
  type UserRow,
} from './store-users';

export const systemClock: Clock = { now: () => Date.now() };

export interface KdfOptions {
  readonly memory?: number;
  readonly iterations?: number;
  readonly parallelism?: number;
}

export interface CreateVaultOptions {
  readonly owner: string;
  readonly password: string;
  readonly kdf?: KdfOptions;
  readonly clock?: Clock;
}

const MAX_USER_NAME = 64;
const MIN_PASSWORD = 8;
const DEFAULT_GROUP_NAME = 'Default';

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

function parseKdf(text: string): KdfParams {
  const value = JSON.parse(text) as Partial<KdfParams>;
  if (value.algorithm !== 'argon2id' || typeof value.salt !== 'string' || typeof value.memory !== 'number' || typeof value.iterations !== 'number' || typeof value.parallelism !== 'number') {
    throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: a user record is damaged.');
  }
  return value as KdfParams;
}

function userView(row: UserRow): UserView {
  if (!isRole(row.role)) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: a user has an unknown role.');
  return { id: row.id, name: row.name, role: row.role };
}

/** Writes a new user with a fresh key pair sealed under their password. Returns the pair. */
export async function addUserRecord(db: ReadDb, name: string, role: Role, password: string, kdf: KdfOptions, now: number) {
  const params = newKdfParams(kdf);
  const kek = await deriveKek(password, params);
  const keyPair = generateKeyPair();
  const privateRaw = exportPrivateKey(keyPair.privateKey);
  try {
    const userId = withWrite(db, (w) => {
      if (findUserByName(w, name)) throw new CrewvaultError('ALREADY_EXISTS', `A user named "${name}" already exists.`);
      const id = insertUser(w, { name, role, kdf: JSON.stringify(params), public_key: keyPair.publicKey, created_at: now });
      setSealedPrivateKey(w, id, seal(kek, privateRaw, contexts.privateKey(id)));
      return id;
    });
    return { userId, keyPair };
  } finally {
    kek.fill(0);
    privateRaw.fill(0);
  }
}

/** Creates the vault file, its owner, the directory key and the default access group. */
export async function createVault(file: string, options: CreateVaultOptions): Promise<VaultSession> {
  const owner = validateUserName(options.owner);
  validateNewPassword(options.password);
  const clock = options.clock ?? systemClock;
  newKdfParams(options.kdf); // refuse bad KDF settings before a file exists
  const db = createVaultFile(file);
  try {
    const now = clock.now();
    withWrite(db, (w) => {
      setMeta(w, 'format', VAULT_FORMAT);
      setMeta(w, 'vault_id', randomBytes(16).toString('hex'));
      setMeta(w, 'created_at', String(now));
    });
    const { userId, keyPair } = await addUserRecord(db, owner, 'owner', options.password, options.kdf ?? {}, now);
    const ring = new KeyRing(keyPair, randomKey());
    withWrite(db, (w) => {
      putWrappedDirectoryKey(w, userId, 1, wrapKey(keyPair.publicKey, ring.directoryKey, contexts.directoryKey(userId, 1)));
      const groupId = createGroupRecord(w, ring, userId, DEFAULT_GROUP_NAME, now);
      setSetting(w, 'default_group_id', String(groupId));
      appendAudit(w, { at: now, actor_id: userId, action: 'vault.create', subject: owner });
    });
    return new VaultSession(db, clock, { id: userId, name: owner, role: 'owner' }, ring);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A new group with a fresh key, wrapped for its creator (who becomes its lead). */
export function createGroupRecord(db: WriteDb, ring: KeyRing, creatorId: number, name: string, now: number): number {
  const groupId = insertGroup(db, groupNameIndex(ring, name), now);
  setGroupSealedName(db, groupId, sealJson(ring.directoryKey, name, contexts.groupName(groupId)));
  const key = randomKey();
  putGroupKey(db, { group_id: groupId, user_id: creatorId, key_version: 1, wrapped_key: wrapKey(ring.keyPair.publicKey, key, contexts.groupKey(groupId, creatorId, 1)), is_lead: 1 });
  ring.addGroup(groupId, 1, key);
  return groupId;
}

/** An open vault file, before anyone has signed in. */
export class Vault {
  readonly db: ReadDb;
  readonly clock: Clock;

  private constructor(db: ReadDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
  }

  static open(file: string, clock: Clock = systemClock): Vault {
    return new Vault(openVaultFile(file), clock);
  }

  users(): UserView[] {
    return listUsers(this.db).map(userView);
  }

  verifyAudit(): AuditVerification {
    return verifyAuditChain(this.db);
  }

  /** Signs `name` in (the only or first user when absent); WRONG_PASSWORD on any mismatch. */
  async signIn(name: string | undefined, password: string): Promise<VaultSession> {
    const row = name === undefined ? listUsers(this.db).find((u) => u.disabled_at === null) : findUserByName(this.db, name.trim());
    const now = this.clock.now();
    const fail = (): never => {
      withWrite(this.db, (w) => appendAudit(w, { at: now, actor_id: row?.id ?? null, action: 'signin.failed', subject: row?.name ?? name ?? null }));
      throw new CrewvaultError('WRONG_PASSWORD', 'Wrong user name or password.');
    };
    if (!row || row.disabled_at !== null) {
      // Spend the same Argon2 work as a real attempt, so timing does not tell who exists.
      await deriveKek(password, newKdfParams());
      return fail();
    }
    const kek = await deriveKek(password, parseKdf(row.kdf));
    let privateRaw: Buffer;
    try {
      privateRaw = open(kek, row.sealed_private_key, contexts.privateKey(row.id));
    } catch {
      return fail();
    } finally {
      kek.fill(0);
    }
    const keyPair = { publicKey: row.public_key, privateKey: importPrivateKey(privateRaw, row.public_key) };
    privateRaw.fill(0);

    const wrappedDirectory = getWrappedDirectoryKey(this.db, row.id);
    if (!wrappedDirectory) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: the user has no directory key.');
    const ring = new KeyRing(keyPair, unwrapKey(keyPair, wrappedDirectory.wrapped_key, contexts.directoryKey(row.id, wrappedDirectory.key_version)));
    for (const g of groupKeysOfUser(this.db, row.id)) {
      ring.addGroup(g.group_id, g.key_version, unwrapKey(keyPair, g.wrapped_key, contexts.groupKey(g.group_id, row.id, g.key_version)));
    }
    withWrite(this.db, (w) => appendAudit(w, { at: now, actor_id: row.id, action: 'signin.ok', subject: row.name }));
    return new VaultSession(this.db, this.clock, userView(row), ring);
  }

  close(): void {
    if (this.db.open) {
      checkpoint(this.db);
      this.db.close();
    }
  }
}
