/**
 * Opening and creating a vault, and signing in: the only place a password meets the file.
 * Sign-in derives the key-encryption key (Argon2id), opens the user's X25519 private key,
 * unwraps the directory key and the user's group keys, and audits the attempt either way.
 * Must never say which of user name or password was wrong, nor log either.
 */
import { randomBytes } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import type { UserView } from '../../shared/model';
import { deriveKek, importPrivateKey, newKdfParams, open, randomKey, unwrapKey, wrapKey } from './crypto';
import { checkpoint, createVaultFile, openVaultFile, VAULT_FORMAT, withWrite, type ReadDb } from './db';
import { contexts, DIRECTORY_WRAP_ANCHORED, KeyRing } from './keys';
import {
  createGroupRecord,
  DEFAULT_GROUP_NAME,
  insertUserRecord,
  parseKdf,
  prepareUser,
  userView,
  validateNewPassword,
  validateUserName,
  type KdfOptions,
} from './records';
import { VaultSession, type Clock } from './service';
import { appendAudit, checkAuditAnchor, verifyAuditChain, type AuditVerification } from './store-audit';
import { groupKeysOfUser } from './store-groups';
import { getMeta, setMeta, setSetting } from './store-meta';
import { anyDirectoryWrapAtLeast, clearFailedPasswords, findUserByName, getWrappedDirectoryKey, listUsers, putWrappedDirectoryKey, recordFailedPassword } from './store-users';

export type { KdfOptions } from './records';
export const systemClock: Clock = { now: () => Date.now() };

export interface CreateVaultOptions {
  readonly owner: string;
  readonly password: string;
  readonly kdf?: KdfOptions;
  readonly clock?: Clock;
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
    const prepared = await prepareUser(options.password, options.kdf ?? {});
    const ring = new KeyRing(prepared.keyPair, randomKey());
    const userId = withWrite(db, (w) => {
      const userId = insertUserRecord(w, prepared, owner, 'owner', now);
      putWrappedDirectoryKey(w, userId, DIRECTORY_WRAP_ANCHORED, wrapKey(prepared.keyPair.publicKey, ring.directoryKey, contexts.directoryKey(userId, DIRECTORY_WRAP_ANCHORED)));
      const groupId = createGroupRecord(w, ring, userId, DEFAULT_GROUP_NAME, now);
      setSetting(w, 'default_group_id', String(groupId));
      appendAudit(w, { at: now, actor_id: userId, action: 'vault.create', subject: owner }, undefined, ring.auditKey);
      return userId;
    });
    return new VaultSession(db, clock, { id: userId, name: owner, role: 'owner' }, ring);
  } catch (error) {
    db.close();
    throw error;
  }
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

  /** This vault's random id (made at creation): names its trusted-computer tokens in the keychain. */
  id(): string {
    const id = getMeta(this.db, 'vault_id');
    if (!id) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: it has no id.');
    return id;
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
      withWrite(this.db, (w) => {
        if (row) recordFailedPassword(w, row, now);
        appendAudit(w, { at: now, actor_id: row?.id ?? null, action: 'signin.failed', subject: row?.name ?? name ?? null });
      });
      throw new CrewvaultError('WRONG_PASSWORD', 'Wrong user name or password.');
    };
    // Repeated wrong passwords back off, and the wait survives a restart (it is in the file).
    if (row?.next_attempt_at !== null && row?.next_attempt_at !== undefined && now < row.next_attempt_at) {
      throw new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many failed sign-in attempts: try again in ${Math.ceil((row.next_attempt_at - now) / 1000)} s.`);
    }
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
      ring.addGroup(g.group_id, g.key_version, unwrapKey(keyPair, g.wrapped_key, contexts.groupKey(g.group_id, row.id, g.key_version)), g.is_lead === 1);
    }
    const anchor = withWrite(this.db, (w) => {
      // Before this sign-in's own row moves the anchor (and in the same transaction, so no
      // other writer slips in between): does the log still end as the last keyed writer left it?
      const found = checkAuditAnchor(w, ring.auditKey, anyDirectoryWrapAtLeast(w, DIRECTORY_WRAP_ANCHORED));
      if (wrappedDirectory.key_version < DIRECTORY_WRAP_ANCHORED) {
        putWrappedDirectoryKey(w, row.id, DIRECTORY_WRAP_ANCHORED, wrapKey(keyPair.publicKey, ring.directoryKey, contexts.directoryKey(row.id, DIRECTORY_WRAP_ANCHORED)));
      }
      if (row.failed_passwords > 0) clearFailedPasswords(w, row.id);
      w.prepare('UPDATE users SET last_sign_in_at = ? WHERE id = ?').run(now, row.id);
      // A broken anchor is recorded (and anchored) before this row moves it on, so the
      // evidence stays in the log, and fails every later check, for every later reader.
      if (!found.ok && found.fresh) appendAudit(w, { at: now, actor_id: row.id, action: 'audit.anchor_broken', subject: found.reason }, undefined, ring.auditKey);
      appendAudit(w, { at: now, actor_id: row.id, action: 'signin.ok', subject: row.name }, undefined, ring.auditKey);
      return found;
    });
    return new VaultSession(this.db, this.clock, userView(row), ring, anchor);
  }

  close(): void {
    if (this.db.open) {
      checkpoint(this.db);
      this.db.close();
    }
  }
}
