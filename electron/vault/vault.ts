/**
 * Opening and creating a vault, and signing in: the only place a password meets the file.
 * Sign-in derives the key-encryption key (Argon2id), opens the user's X25519 private key,
 * unwraps the directory key and the user's group keys, and audits the attempt either way.
 * The file is opened or created here and wrapped in a SqliteVaultStore (store.ts); from then on
 * everything — sign-in included — reads and writes through that store.
 * Must never say which of user name or password was wrong, nor log either.
 */
import { randomBytes } from 'node:crypto';
import { CrewvaultError, tooManyAttempts } from '../../shared/errors';
import type { UserView } from '../../shared/model';
import { deriveKek, importPrivateKey, indexKey, newKdfParams, open, publicKeyOf, randomKey, seal, sealedByRowId, type KdfParams } from './crypto';
import { checkAndPinSigningKeys, recordDetail, recordDevice, recordOf } from './key-pins';
import { thisDeviceId } from './store-signing';
import { resealOwnWraps } from './own-wraps';
import { VAULT_FORMAT, type ReadDb } from './db';
import { SqliteVaultStore, type VaultStore } from './store';
import { contexts, DIRECTORY_WRAP_ANCHORED, KeyRing, type StoredRef } from './keys';
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
import { appendAudit, checkAuditAnchor, lastSignedSignIn, verifyAuditChain, type AnchorCheck, type AuditVerification } from './store-audit';
import { groupKeysOfUser } from './store-groups';
import { openHeldGroupKey } from './group-keys';
import { openAuditDetail, openDirectoryWrap, sealAuditDetail, wrapDirectoryFor } from './directory';
import { makeSigningKey, signerAtSignIn } from './signer-keys';
import { getDirectoryWrap } from './store-directory';
import { getMeta, setMeta, setSetting } from './store-meta';
import { eventsNotSent, eventsNotSentLine } from './store-events-not-sent';
import { historyCursor, type HistoryCursor } from './store-history';
import {
  anyDirectoryWrapAtLeast,
  claimPasswordAttempt,
  claimUnknownNameAttempt,
  findUserByName,
  getUser,
  foldUserName,
  listUsers,
  recordSignIn,
  releasePasswordClaim,
  setSealedPrivateKey,
  unknownNameHash,
} from './store-users';

export type { KdfOptions } from './records';
export const systemClock: Clock = { now: () => Date.now() };

/** How a failed sign-in under a name that is no one's is audited: 48 bits of the name's keyed
 * hash (store-users.ts unknownNameHash), enough for an admin to see one name tried again and
 * again, never the name. */
function unknownNameTag(nameHash: Buffer): string {
  return `unknown user ${nameHash.subarray(0, 6).toString('hex')}`;
}

export interface CreateVaultOptions {
  readonly owner: string;
  readonly password: string;
  readonly kdf?: KdfOptions;
  readonly clock?: Clock;
  /** Make the file's folder if missing (default true; db.ts createVaultFile). */
  readonly createFolder?: boolean;
}

/** Creates the vault file, its owner, the directory key and the default access group. */
export async function createVault(file: string, options: CreateVaultOptions): Promise<VaultSession> {
  const owner = validateUserName(options.owner);
  validateNewPassword(options.password);
  const clock = options.clock ?? systemClock;
  newKdfParams(options.kdf); // refuse bad KDF settings before a file exists
  const store = SqliteVaultStore.create(file, options.createFolder ?? true);
  try {
    const now = clock.now();
    await store.write((w) => {
      setMeta(w, 'format', VAULT_FORMAT);
      setMeta(w, 'vault_id', randomBytes(16).toString('hex'));
      setMeta(w, 'created_at', String(now));
    });
    const prepared = await prepareUser(options.password, options.kdf ?? {});
    const ring = new KeyRing(prepared.keyPair, randomKey());
    const { value: user } = await store.write((w) => {
      const user = insertUserRecord(w, prepared, owner, 'owner', now);
      const userId = user.id;
      wrapDirectoryFor(w, ring, { ...user, public_key: prepared.keyPair.publicKey });
      ring.signer = makeSigningKey(w, user, prepared.keyPair.publicKey, now);
      const groupId = createGroupRecord(w, ring, { id: userId, role: 'owner' }, DEFAULT_GROUP_NAME, now);
      setSetting(w, 'default_group_id', String(groupId));
      appendAudit(w, { at: now, actor_id: userId, action: 'vault.create', subject: owner }, undefined, ring);
      return { id: userId, uid: user.uid, kdf: getUser(w, userId)?.kdf };
    });
    return new VaultSession(store, clock, { id: user.id, name: owner, role: 'owner' }, ring, user);
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** An open vault file, before anyone has signed in. */
/**
 * The record (key-pins.ts) this user's newest signed sign-in named: null when none did (no
 * sign-in since the record was introduced), 'unreadable' when that row does not hold — either
 * way compared with the record now in the file.
 */
function lastRecordOf(db: ReadDb, ring: KeyRing, user: StoredRef, pinKey: Buffer): string | null {
  // The row this desktop's last sign-in wrote, else the one on the device the record says wrote
  // it (a device id renewed since, or changed by someone editing the file); a record from before
  // devices were named: the newest of any device.
  const named = recordDevice(db, pinKey, user);
  const here = thisDeviceId(db);
  const devices = named === null ? 'any' : [here, named ?? undefined].filter((d): d is Buffer => d !== undefined);
  const last = lastSignedSignIn(db, user.id, devices);
  if (!last) return null;
  if (!last.valid || !last.row.sealed_detail) return last.valid ? null : 'unreadable';
  const detail = openAuditDetail(db, ring, last.row, last.row.sealed_detail);
  if (detail === undefined) return 'unreadable';
  return recordOf(detail);
}

/** Runs `work` and wipes the pin key after it, however it ends. */
async function withPinKey<T>(pinKey: Buffer, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    pinKey.fill(0);
  }
}

export class Vault {
  readonly store: VaultStore;
  readonly clock: Clock;

  private constructor(store: VaultStore, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  static open(file: string, clock: Clock = systemClock): Vault {
    return new Vault(SqliteVaultStore.open(file), clock);
  }

  /** A vault behind a store made elsewhere (store.ts: a worker's, or one that delays each call). */
  static over(store: VaultStore, clock: Clock = systemClock): Vault {
    return new Vault(store, clock);
  }

  /** This vault's random id (made at creation): names its trusted-computer tokens in the keychain. */
  async id(): Promise<string> {
    const id = await this.store.read((r) => getMeta(r, 'vault_id'));
    if (!id) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: it has no id.');
    return id;
  }

  async users(): Promise<UserView[]> {
    return this.store.read((r) => listUsers(r).map(userView));
  }

  async verifyAudit(): Promise<AuditVerification> {
    return this.store.read((r) => verifyAuditChain(r));
  }

  /** The audit history a first sync still owes this file (store-history.ts): undefined when it is all here. */
  async historyOwed(): Promise<HistoryCursor | undefined> {
    return this.store.read((r) => historyCursor(r));
  }

  /** This desktop's audit events kept out of its pushes for good, each as one line (store-events-not-sent.ts). */
  async eventsNotSent(): Promise<string[]> {
    return this.store.read((r) => eventsNotSent(r).map(eventsNotSentLine));
  }

  /**
   * Sign-ins under way in this process, by name as sign-in compares it: each waits for the one
   * before it, so one person's passwords are checked one at a time (one Argon2 at a time) and
   * each claim sees the one before settled. 40 at once through the browser host were all
   * checked together before (review #10 item 7).
   */
  private readonly signInsUnderWay = new Map<string, Promise<unknown>>();

  /**
   * Signs `name` in (the only or first user when absent); WRONG_PASSWORD on any mismatch,
   * TOO_MANY_ATTEMPTS while a wait runs. A known name and an unknown one are counted, made to
   * wait, answered and charged Argon2 alike, so no answer tells who exists.
   */
  async signIn(name: string | undefined, password: string): Promise<VaultSession> {
    const typed = name?.trim();
    const queue = foldUserName(typed ?? (await this.store.read((r) => listUsers(r).find((u) => u.disabled_at === null)?.name)) ?? '');
    const before = this.signInsUnderWay.get(queue) ?? Promise.resolve();
    const attempt = before.then(() => this.signInNow(typed, password));
    const done = attempt.then(() => undefined, () => undefined);
    this.signInsUnderWay.set(queue, done);
    void done.then(() => {
      if (this.signInsUnderWay.get(queue) === done) this.signInsUnderWay.delete(queue);
    });
    return attempt;
  }

  private async signInNow(typed: string | undefined, password: string): Promise<VaultSession> {
    const now = this.clock.now();
    // The attempt is claimed (counted as failed, or refused while a wait runs) before Argon2, in
    // one write transaction that reads the counters afresh: attempts made at the same moment, in
    // this process or any other, each see the ones before. A right password takes it back.
    const { value: { row, subject, claim } } = await this.store.write((w) => {
      const user = typed === undefined ? listUsers(w).find((u) => u.disabled_at === null) : findUserByName(w, typed);
      if (user) return { row: user, subject: user.name, claim: claimPasswordAttempt(w, user.id, now) };
      const nameHash = unknownNameHash(w, typed ?? '');
      return { row: undefined, subject: unknownNameTag(nameHash), claim: claimUnknownNameAttempt(w, nameHash, now) };
    });
    // The wait survives a restart (it is in the file).
    if (!claim.ok) throw tooManyAttempts('Too many failed sign-in attempts', claim.retryAt, now);
    const fail = async (): Promise<never> => {
      // Already counted by the claim; only the audit row is left. An unknown name is audited by
      // its tag: it may be a password typed into the wrong box.
      await this.store.write((w) => appendAudit(w, { at: now, actor_id: row?.id ?? null, action: 'signin.failed', subject }));
      // The wait this attempt began, if it began one, so the screen can count it down.
      throw new CrewvaultError('WRONG_PASSWORD', 'Wrong user name or password.', claim.wait === null ? undefined : Math.max(1, Math.ceil((claim.wait - now) / 1000)));
    };
    if (!row || row.disabled_at !== null) {
      // The same Argon2 work as a real attempt, so timing does not tell who exists.
      (await deriveKek(password, row ? parseKdf(row.kdf) : await this.standInKdf())).fill(0);
      return fail();
    }
    const kek = await deriveKek(password, parseKdf(row.kdf));
    let privateRaw: Buffer;
    // A private key sealed before schema 10 (by row id) is sealed again by global id: only its
    // owner can, with the key from their password, so it happens at their own sign-in.
    let resealed: Buffer | undefined;
    try {
      privateRaw = open(kek, row.sealed_private_key, contexts.privateKey(row));
      if (sealedByRowId(row.sealed_private_key)) resealed = seal(kek, privateRaw, contexts.privateKey(row));
    } catch {
      return fail();
    } finally {
      kek.fill(0);
    }
    // The public key in the file must be this private key's: one written there by someone else
    // would have keys wrapped to it that only they open (review R5).
    if (!publicKeyOf(privateRaw).equals(row.public_key)) {
      privateRaw.fill(0);
      throw new CrewvaultError('VAULT_TAMPERED', 'Your public key in the vault is not your own: the file was altered. Ask an owner to reset your password.');
    }
    const keyPair = { publicKey: row.public_key, privateKey: importPrivateKey(privateRaw, row.public_key) };
    // Seals this person's record of everyone's signing keys (key-pins.ts): only their private key gives it.
    const pinKey = indexKey(privateRaw, 'signing key pins');
    privateRaw.fill(0);

    // The keys are read in the transaction that checks and moves the audit anchor: a disable
    // (which rotates the directory key) or a group rotation committed while Argon2 ran is seen,
    // instead of checking the anchor with a key that is no longer current (a false alarm).
    const written = await withPinKey(pinKey, () => this.store.write((w) => {
      const current = getUser(w, row.id);
      if (!current || current.disabled_at !== null) return { ring: undefined, anchor: undefined, me: undefined };
      // The password was checked against the row as the claim read it. Changed (or reset) since,
      // while Argon2 ran: it is no longer this person's password, and the session must not take
      // the new row's KDF as the one it signed in with (no later check would then end it).
      if (current.kdf !== row.kdf) return { ring: undefined, anchor: undefined, me: undefined };
      const wrappedDirectory = getDirectoryWrap(w, row.id);
      if (!wrappedDirectory) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: the user has no directory key.');
      const ring = new KeyRing(keyPair, openDirectoryWrap(keyPair, row, wrappedDirectory), wrappedDirectory.dir_version);
      if (resealed && current.sealed_private_key.equals(row.sealed_private_key)) setSealedPrivateKey(w, row.id, resealed);
      // Opened, or made at the first sign-in since schema 11: this sign-in's own row is signed with it.
      ring.signer = signerAtSignIn(w, keyPair, row, now);
      // The wraps this person holds, sealed by row id before schema 10, move to global ids: only they can.
      resealOwnWraps(w, keyPair, row);
      for (const g of groupKeysOfUser(w, row.id)) ring.addGroup(g.group_id, openHeldGroupKey(w, keyPair, row.id, g));
      // Before this sign-in's own row moves the anchor (and in the same transaction, so no
      // other writer slips in between): does the log still end as the last keyed writer left it?
      const anchored = checkAuditAnchor(w, ring.auditKey, anyDirectoryWrapAtLeast(w, DIRECTORY_WRAP_ANCHORED));
      // Someone's signing key replaced or removed since this person last saw it is the same
      // finding as a rewritten log: recorded once, and reported by every later check.
      const pins = checkAndPinSigningKeys(w, pinKey, row, lastRecordOf(w, ring, row, pinKey));
      ring.keysSeen = pins.seen;
      const found: AnchorCheck = !anchored.ok || pins.ok ? anchored : { ok: false, fresh: true, reason: pins.reason };
      if (wrappedDirectory.key_version < DIRECTORY_WRAP_ANCHORED) {
        wrapDirectoryFor(w, ring, { ...row, public_key: keyPair.publicKey });
      }
      releasePasswordClaim(w, row.id, claim, now);
      recordSignIn(w, row.id, now);
      // A broken anchor is recorded (and anchored) before this row moves it on, so the
      // evidence stays in the log, and fails every later check, for every later reader.
      if (!found.ok && found.fresh) appendAudit(w, { at: now, actor_id: row.id, action: 'audit.anchor_broken', subject: found.reason }, undefined, ring);
      // Signed, and naming the record it left, so the record cannot be removed or put back unseen.
      appendAudit(w, { at: now, actor_id: row.id, action: 'signin.ok', subject: row.name }, (event) => sealAuditDetail(ring, event, recordDetail(row.name, pins.record)), ring);
      return { ring, anchor: found, me: { id: row.id, uid: row.uid, kdf: current.kdf, mfaEnabledAt: current.mfa_enabled_at } };
    }));
    const { ring, anchor, me } = written.value;
    // Disabled, or the password changed, while Argon2 ran: answered as a wrong password is.
    if (!ring || !anchor || !me) return fail();
    const session = new VaultSession(this.store, this.clock, userView(row), ring, me, anchor);
    await session.finishKeySplit();
    await session.finishGlobalIds();
    await session.mfa.resealByGlobalId();
    return session;
  }

  /** Argon2 settings for a name that is no one's: the first user's, as a real attempt would
   * cost, with a salt of its own. */
  private async standInKdf(): Promise<KdfParams> {
    const first = await this.store.read((r) => listUsers(r)[0]);
    return first ? { ...parseKdf(first.kdf), salt: randomBytes(16).toString('base64') } : newKdfParams();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
