/**
 * Sign-in MFA for one signed-in person: enrolment (a TOTP key shown once as a QR code and as
 * text, confirmed by one code), checking a code (±1 step, never the same step twice — RFC 6238
 * §5.2), single-use recovery codes, admin resets and 2-minute emergency codes.
 *
 * The TOTP key is sealed under a key derived from the user's own private key, so it can be
 * opened only after a correct password; recovery codes are kept as HMACs under that key.
 * Emergency codes (issued by an admin, who has no key of the user's) are kept as SHA-256.
 * The rules and the crypto only: its rows are read and written through store-mfa.ts (shared)
 * and store-trusted-devices.ts (this desktop's). Never log a code, a key or a recovery code.
 */
import { createHash, createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { CrewvaultError, tooManyAttempts } from '../../shared/errors';
import { buildOtpUri, DEFAULT_PERIOD, defaultOtpParams, encodeSecret, groupSecret, hotpCode, timeStep, type OtpParams } from '../../shared/otp';
import { MFA_POLICY_LEVELS, type MfaPolicyLevel } from '../../shared/model';
import { exportPrivateKey, open, seal, sealedByRowId, unwrapKey, wrapKey, type KeyPair, type SealContext } from './crypto';
import { dropMfaKeyWraps, getMfaKeyWrap, mfaKeyHolders, mfaKeysHeldBy, putMfaKeyWrap, setMfaSeals } from './store-mfa-keys';
import type { ReadDb, WriteDb } from './db';
import { linkContext, objectContext } from './keys';
import { requireVouchedFor } from './public-keys';
import { refOf } from './store-ids';
import type { AuditFields } from './store-audit';
import { whyNotManageVault } from '../../shared/policy';
import { resolveRoleName } from './store-roles';
import { requireBase } from './base-revision';
import { moveSettingsRevision, settingsRevision } from './store-revisions';
import {
  clearMfaColumns, countUnusedRecoveryCodes, deleteEmergencyCodes, deleteRecoveryCodes, deleteUnseenRecoveryCodes, enableMfa, getEmergencyCode, getMfaPolicySetting,
  getUnseenRecoveryCodes, putEmergencyCode, putUnseenRecoveryCodes, replaceRecoveryCodeHashes, setLastStep, setMfaPolicySetting, setPendingSetup, spendEmergencyCode, spendRecoveryCode, unusedRecoveryCodeHashes, type MfaColumns,
} from './store-mfa';
import { readSettings } from './settings-service';
import { deleteTrustedDevice, deleteTrustedDevicesOf, findTrustedDevice, insertTrustedDevice, listTrustedDevices, setTrustedDeviceUsed, trustedDeviceUser } from './store-trusted-devices';
import { clearFailedCodes, findUserByName, getUser, listUsers, recordFailedCode, type UserRow } from './store-users';

export const RECOVERY_CODES = 10;
export const EMERGENCY_CODE_MS = 2 * 60_000;
/** How long a started authenticator setup waits for its first code. */
export const ENROLMENT_MS = 30 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** Authenticator apps show a code per standard period (RFC 6238's 30 s). */
const PERIOD = DEFAULT_PERIOD;
const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const EMERGENCY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * How new recovery codes reach their owner. A door that writes them to a stream it cannot see
 * read (the CLI's stdout: a pipe closed early, `| head -3`, takes them after the commit) keeps
 * a sealed copy until the owner marks them seen; a door that shows them on screen does not.
 */
export interface RecoveryDelivery {
  readonly keepUntilSeen?: boolean;
}

export interface MfaCore {
  readonly keyPair: KeyPair;
  userId(): number;
  userName(): string;
  role(): string;
  now(): number;
  /** One read transaction through the session's store (store.ts): `work` never awaits. */
  read<T>(work: (db: ReadDb) => T): Promise<T>;
  /** One write transaction through the session's write path (store.ts): `work` never awaits. */
  write<T>(work: (db: WriteDb) => T): Promise<T>;
  audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void;
  /** Inside the work it guards, as every check here is. */
  requireUsersManage(db: ReadDb): void;
  /** users.manage, and FORBIDDEN where shared/policy `whyNotActOn` says no (an admin and an owner, say). */
  requireActOn(db: ReadDb, user: UserRow): void;
}

export const MFA_POLICIES = MFA_POLICY_LEVELS;
export type { MfaPolicyLevel };
export interface MfaPolicy {
  readonly global: MfaPolicyLevel;
  /** Per role; a role absent here follows `global`. */
  readonly roles: Readonly<Record<string, MfaPolicyLevel>>;
}
export const DEFAULT_MFA_POLICY: MfaPolicy = { global: 'optional', roles: {} };

function isLevel(value: unknown): value is MfaPolicyLevel {
  return typeof value === 'string' && (MFA_POLICIES as readonly string[]).includes(value);
}

export function readMfaPolicy(db: ReadDb): MfaPolicy {
  const stored = getMfaPolicySetting(db);
  if (stored === undefined) return DEFAULT_MFA_POLICY;
  try {
    const value = JSON.parse(stored) as { global?: unknown; roles?: unknown };
    const roles = typeof value.roles === 'object' && value.roles !== null ? Object.fromEntries(Object.entries(value.roles).filter(([, v]) => isLevel(v))) as Record<string, MfaPolicyLevel> : {};
    return { global: isLevel(value.global) ? value.global : DEFAULT_MFA_POLICY.global, roles };
  } catch {
    return DEFAULT_MFA_POLICY;
  }
}

/** The level for `role` (role names compare without case, as custom roles do elsewhere). */
export function policyFor(policy: MfaPolicy, role: string): MfaPolicyLevel {
  const wanted = role.toLowerCase();
  const match = Object.entries(policy.roles).find(([name]) => name.toLowerCase() === wanted);
  return match ? match[1] : policy.global;
}

/** A computer that skips the code step for one user until it expires. */
export interface TrustedDevice {
  readonly id: number;
  readonly label: string;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly expiresAt: number;
}

export interface Enrolment {
  /** The key in groups of four, for typing into an authenticator app. */
  readonly secret: string;
  /** otpauth://totp/Crewvault:NAME?…, for the QR code. */
  readonly uri: string;
}

function wrongCode(): CrewvaultError {
  return new CrewvaultError('WRONG_CODE', 'That code is not right (or was already used).');
}

/**
 * What a check-and-use transaction decides: its value, or the refusal to throw once it has
 * committed — a wrong code's count must be kept, and a throw inside would roll it back.
 */
type Outcome<T> = { readonly value: T } | { readonly error: CrewvaultError };

function settled<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

function randomCode(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Recovery codes as people copy them: XXXXX-XXXXX; compared without case, spaces or hyphens. */
function normaliseRecovery(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A user's MFA key as wrapped for one holder: named by both people (their global ids since schema 10). */
function MFA_KEY_CONTEXT(db: ReadDb, userId: number, holderId: number): SealContext {
  return linkContext('mfa_key_wraps', refOf(db, 'users', userId), refOf(db, 'users', holderId), 'key', 1);
}

/** The MFA key as derived from a user's own private key (before any reset gave them a new pair). */
function derivedMfaKey(keyPair: KeyPair): Buffer {
  const raw = exportPrivateKey(keyPair.privateKey);
  try {
    return Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), Buffer.from('crewvault/v1 mfa', 'utf8'), 32));
  } finally {
    raw.fill(0);
  }
}

/**
 * An owner's password reset of `target` (who gets `newPublicKey`): the target's MFA key, which
 * the owner holds, is handed to the new key pair, so their authenticator, recovery codes and a
 * started setup keep working. Returns false when the owner does not hold it (the target has
 * not signed in with a code since schema 9, or since this owner became one): their two-step
 * sign-in is then reset, since nothing could open it any more.
 */
export function carryMfaKey(db: WriteDb, owner: { readonly id: number; readonly keyPair: KeyPair }, target: UserRow & Partial<MfaColumns>, newPublicKey: Buffer): boolean {
  const enrolled = target.mfa_enabled_at !== null || (target.mfa_pending_secret ?? null) !== null;
  if (!enrolled) {
    dropMfaKeyWraps(db, target.id);
    return true;
  }
  const wrapped = owner.id === target.id ? undefined : getMfaKeyWrap(db, target.id, owner.id);
  if (!wrapped) {
    clearMfa(db, target.id);
    return false;
  }
  const key = unwrapKey(owner.keyPair, wrapped, MFA_KEY_CONTEXT(db, target.id, owner.id));
  try {
    putMfaKeyWrap(db, target.id, target.id, wrapKey(newPublicKey, key, MFA_KEY_CONTEXT(db, target.id, target.id)));
  } finally {
    key.fill(0);
  }
  return true;
}

/** A new owner is handed every MFA key the owner making them holds. */
export function shareMfaKeysWithOwner(db: WriteDb, owner: { readonly id: number; readonly keyPair: KeyPair }, newOwner: Pick<UserRow, 'id' | 'public_key'>): void {
  for (const held of mfaKeysHeldBy(db, owner.id)) {
    if (held.user_id === newOwner.id) continue;
    const key = unwrapKey(owner.keyPair, held.wrapped_key, MFA_KEY_CONTEXT(db, held.user_id, owner.id));
    try {
      requireVouchedFor(db, newOwner.id, newOwner.public_key);
      putMfaKeyWrap(db, held.user_id, newOwner.id, wrapKey(newOwner.public_key, key, MFA_KEY_CONTEXT(db, held.user_id, newOwner.id)));
    } finally {
      key.fill(0);
    }
  }
  // The owner's own MFA key, too, if they have one.
  const ownRow = getUser(db, owner.id) as (UserRow & MfaColumns) | undefined;
  if (ownRow && ownRow.mfa_enabled_at !== null) {
    const handed = getMfaKeyWrap(db, owner.id, owner.id);
    const key = handed ? unwrapKey(owner.keyPair, handed, MFA_KEY_CONTEXT(db, owner.id, owner.id)) : derivedMfaKey(owner.keyPair);
    try {
      requireVouchedFor(db, newOwner.id, newOwner.public_key);
      putMfaKeyWrap(db, owner.id, newOwner.id, wrapKey(newOwner.public_key, key, MFA_KEY_CONTEXT(db, owner.id, newOwner.id)));
    } finally {
      key.fill(0);
    }
  }
}

function SECRET_CONTEXT(db: ReadDb, userId: number): SealContext {
  return objectContext('users', refOf(db, 'users', userId), 'mfa_secret', 1);
}
function PENDING_CONTEXT(db: ReadDb, userId: number): SealContext {
  return objectContext('users', refOf(db, 'users', userId), 'mfa_pending_secret', 1);
}
function UNSEEN_CONTEXT(db: ReadDb, userId: number): SealContext {
  return objectContext('mfa_unseen_recovery_codes', refOf(db, 'users', userId), 'sealed_codes', 1);
}

export class MfaService {
  private readonly core: MfaCore;

  constructor(core: MfaCore) {
    this.core = core;
  }

  private row(db: ReadDb): UserRow & MfaColumns {
    const row = getUser(db, this.core.userId()) as (UserRow & MfaColumns) | undefined;
    if (!row) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    return row;
  }

  /**
   * The key that seals this user's TOTP secret and keys their recovery-code HMACs: derived
   * from their own private key, or — after an owner reset their password and so gave them a
   * new key pair — the same key, handed to the new pair (schema 9, carryMfaKey).
   */
  private mfaKey(db: ReadDb): Buffer {
    const userId = this.core.userId();
    const handed = getMfaKeyWrap(db, userId, userId);
    if (handed) return unwrapKey(this.core.keyPair, handed, MFA_KEY_CONTEXT(db, userId, userId));
    return derivedMfaKey(this.core.keyPair);
  }

  /**
   * Wraps this user's MFA key for every active owner who does not hold it yet, so an owner's
   * password reset can keep their authenticator working (carryMfaKey). Owners can already reset
   * anyone's password and two-step sign-in; holding this key adds no power they lack.
   */
  private escrowForOwners(w: WriteDb, key: Buffer): void {
    const userId = this.core.userId();
    const held = new Set(mfaKeyHolders(w, userId));
    for (const owner of listUsers(w)) {
      if (owner.role !== 'owner' || owner.disabled_at !== null || owner.id === userId || held.has(owner.id)) continue;
      requireVouchedFor(w, owner.id, owner.public_key);
      putMfaKeyWrap(w, userId, owner.id, wrapKey(owner.public_key, key, MFA_KEY_CONTEXT(w, userId, owner.id)));
    }
  }

  private recoveryHash(db: ReadDb, code: string): Buffer {
    const key = this.mfaKey(db);
    try {
      return createHmac('sha256', key).update(normaliseRecovery(code)).digest();
    } finally {
      key.fill(0);
    }
  }

  /** The vault's MFA policy and what it means for this person. */
  async policy(): Promise<MfaPolicy & { readonly mine: MfaPolicyLevel; readonly revision: number }> {
    return this.core.read((r) => ({ ...this.policyIn(r), revision: settingsRevision(r, 'mfa_policy') }));
  }

  private policyIn(db: ReadDb): MfaPolicy & { readonly mine: MfaPolicyLevel } {
    const policy = readMfaPolicy(db);
    return { ...policy, mine: policyFor(policy, this.core.role()) };
  }

  /**
   * Sets the policy, globally or for one role (users.manage). The role must exist, and is
   * stored under its defined name: a misspelt one would set a policy that applies to nobody.
   * `baseRevision` is the policy's revision the caller read (`policy().revision`): another one is
   * CONFLICT and nothing is written (#13), checked here, inside the write.
   */
  async setPolicy(level: MfaPolicyLevel, role: string | undefined, baseRevision: number): Promise<MfaPolicy & { readonly revision: number }> {
    return this.core.write((w) => {
      this.core.requireUsersManage(w);
      const named = role === undefined ? undefined : resolveRoleName(w, role);
      const why = whyNotManageVault({ role: this.core.role() }, named);
      if (why) throw new CrewvaultError('FORBIDDEN', why);
      requireBase('policy', settingsRevision(w, 'mfa_policy'), baseRevision);
      const current = readMfaPolicy(w);
      const others = Object.entries(current.roles).filter(([name]) => name.toLowerCase() !== named?.toLowerCase());
      const next: MfaPolicy = named === undefined ? { ...current, global: level } : { ...current, roles: Object.fromEntries([...others, [named, level]]) };
      setMfaPolicySetting(w, JSON.stringify(next));
      const revision = moveSettingsRevision(w, 'mfa_policy');
      this.core.audit(w, { action: 'mfa.policy' }, named === undefined ? `everyone: ${level}` : `${named}: ${level}`);
      return { ...next, revision };
    });
  }

  async status(): Promise<{ readonly enabled: boolean; readonly recoveryCodesLeft: number }> {
    return this.core.read((r) => this.statusIn(r));
  }

  private statusIn(db: ReadDb): { readonly enabled: boolean; readonly recoveryCodesLeft: number } {
    const row = this.row(db);
    return { enabled: row.mfa_enabled_at !== null, recoveryCodesLeft: countUnusedRecoveryCodes(db, row.id) };
  }

  /**
   * Starts (or restarts) enrolment: a fresh 160-bit key, sealed in the user's row until one
   * code confirms it (so `mfa begin` and `mfa confirm` may be two commands), for 30 minutes.
   */
  async beginEnrolment(nowMs: number = this.core.now()): Promise<Enrolment> {
    const secret = encodeSecret(randomBytes(20));
    const userId = this.core.userId();
    await this.core.write((w) => {
      if (this.policyIn(w).mine === 'off' && !this.statusIn(w).enabled) throw new CrewvaultError('FORBIDDEN', 'Two-step sign-in is turned off for your role.');
      this.withMfaKey(w, (key) => {
        setPendingSetup(w, userId, seal(key, Buffer.from(secret, 'utf8'), PENDING_CONTEXT(w, userId)), nowMs);
        this.core.audit(w, { action: 'mfa.setup_started', subject: this.core.userName() });
      });
    });
    const params: OtpParams = { ...totpParams(secret, 0), kind: 'totp' };
    return { secret: groupSecret(secret), uri: buildOtpUri({ params, issuer: 'Crewvault', account: this.core.userName() }) };
  }

  /**
   * Turns MFA on once one code from the new key checks out; returns the recovery codes, shown
   * once. Checked and used in one write transaction on the row as it is then: of two
   * confirmations at once (two processes), one turns MFA on and the other finds no setup left,
   * so only one set of recovery codes is ever shown (review #10 item 6).
   */
  async confirmEnrolment(code: string, nowMs: number = this.core.now(), delivery: RecoveryDelivery = {}): Promise<string[]> {
    return settled(await this.core.write((w): Outcome<string[]> => {
      const row = this.rowIn(w);
      const sealedPending = row.mfa_pending_secret;
      if (!sealedPending || row.mfa_pending_at === null || nowMs - row.mfa_pending_at > ENROLMENT_MS) {
        return { error: new CrewvaultError('INVALID_INPUT', 'Start the authenticator setup first (a setup waits 30 minutes for its code).') };
      }
      const waiting = this.checkBackoff(row, nowMs);
      if (waiting) return { error: waiting };
      return this.withMfaKey(w, (key): Outcome<string[]> => {
        const secret = open(key, sealedPending, PENDING_CONTEXT(w, row.id)).toString('utf8');
        const step = matchingStep(secret, code, nowMs, -1);
        if (step === undefined) {
          // Counted like a wrong sign-in code: a pending setup must not be a way to guess codes.
          this.noteSecondFactor(w, row, nowMs, false, 'mfa.setup_code');
          return { error: wrongCode() };
        }
        // Every setup gets an MFA key of its own, so whoever held the last one (an owner since
        // demoted or disabled, who kept a copy) opens nothing of this one.
        const fresh = randomBytes(32);
        try {
          dropMfaKeyWraps(w, row.id);
          putMfaKeyWrap(w, row.id, row.id, wrapKey(this.core.keyPair.publicKey, fresh, MFA_KEY_CONTEXT(w, row.id, row.id)));
          enableMfa(w, row.id, seal(fresh, Buffer.from(secret, 'utf8'), SECRET_CONTEXT(w, row.id)), nowMs, step);
          this.escrowForOwners(w, fresh);
        } finally {
          fresh.fill(0);
        }
        const codes = this.replaceRecoveryCodes(w, row.id, delivery);
        this.core.audit(w, { action: 'mfa.enable', subject: row.name });
        return { value: codes };
      });
    }));
  }

  /** This user's row as it is inside the write transaction `w`: what a check-and-use decides on,
   * never a row read before it (another process may have used the same code in between). */
  private rowIn(w: WriteDb): UserRow & MfaColumns {
    const row = getUser(w, this.core.userId()) as (UserRow & MfaColumns) | undefined;
    if (!row) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    return row;
  }

  /**
   * Schema 10, at this user's own sign-in: their TOTP key and a pending setup key are sealed
   * again by global id — only their MFA key opens them, so nobody else can. The wraps of MFA keys
   * are re-sealed by whoever holds each, after it opens (own-wraps.ts), never wrapped here for
   * someone else: a planted row must not get anyone this user's MFA key. Returns how many seals
   * moved (0 once done, after a cheap look at their own row).
   */
  async resealByGlobalId(): Promise<number> {
    const row = await this.core.read((r) => this.row(r));
    const userId = row.id;
    const sealsByRowId = (b: Buffer | null): boolean => b !== null && sealedByRowId(b);
    if (!sealsByRowId(row.mfa_sealed_secret) && !sealsByRowId(row.mfa_pending_secret)) return 0;
    return this.core.write((w) => this.withMfaKey(w, (key) => {
      const current = getUser(w, userId) as (UserRow & MfaColumns) | undefined;
      if (!current) return 0;
      let moved = 0;
      const again = (sealed: Buffer | null, context: SealContext): Buffer | null => {
        if (sealed === null || !sealedByRowId(sealed)) return sealed;
        moved++;
        return seal(key, open(key, sealed, context), context);
      };
      setMfaSeals(w, userId, again(current.mfa_sealed_secret, SECRET_CONTEXT(w, userId)), again(current.mfa_pending_secret, PENDING_CONTEXT(w, userId)));
      return moved;
    }));
  }

  private withMfaKey<T>(db: ReadDb, work: (key: Buffer) => T): T {
    const key = this.mfaKey(db);
    try {
      return work(key);
    } finally {
      key.fill(0);
    }
  }

  // ---- trusted computers ----------------------------------------------------------------------

  /**
   * Trusts this computer for the vault's trust days after a good second step: returns a random
   * token for the OS keychain; the vault keeps only its hash, so a copied vault file trusts
   * nobody. Undefined when trusting is turned off (0 days): the days and the time are read in
   * the transaction that writes the device, as useTrustedDevice reads them.
   */
  async trustDevice(label: string): Promise<{ readonly id: number; readonly token: string } | undefined> {
    const token = randomBytes(32).toString('hex');
    const id = await this.core.write((w) => {
      if (!this.statusIn(w).enabled) throw new CrewvaultError('INVALID_INPUT', 'Two-step sign-in is not set up for this user.');
      const days = readSettings(w).trustDeviceDays;
      if (!Number.isInteger(days) || days < 1) return undefined;
      const nowMs = this.core.now();
      const inserted = insertTrustedDevice(w, this.core.userId(), deviceHash(token), label.slice(0, 200), nowMs, nowMs + days * DAY_MS);
      this.core.audit(w, { action: 'mfa.device_trusted', subject: this.core.userName() }, label.slice(0, 200));
      return inserted;
    });
    return id === undefined ? undefined : { id, token };
  }

  /**
   * The trusted device `token` names for this user, if it has not expired, nor outlived the
   * vault's trust days (lowered since it was trusted); its use is noted and audited. 'off' when
   * the days are 0 (every trusted computer off, each kept for when they are raised again);
   * undefined when the device is gone (expired, forgotten, reset: its token is worth nothing). The days and the time are read here, in the transaction that uses the
   * device: a caller's, read before its keychain answered, could be from before the days were
   * lowered to 0 or the device ran out.
   */
  async useTrustedDevice(token: string): Promise<number | 'off' | undefined> {
    const userId = this.core.userId();
    // Looked up and used in one write transaction: a computer forgotten, or MFA reset, in
    // another process at the same moment is either seen gone or gone after this use, never both.
    return this.core.write((w) => {
      const found = findTrustedDevice(w, userId, deviceHash(token));
      if (!found) return undefined;
      const days = readSettings(w).trustDeviceDays;
      // Turned off (0 days): not used, and kept, as when the door saw 0 before asking the keychain.
      if (days < 1) return 'off';
      const nowMs = this.core.now();
      if (Math.min(found.expires_at, found.created_at + days * DAY_MS) <= nowMs) {
        deleteTrustedDevice(w, found.id);
        this.core.audit(w, { action: 'mfa.device_expired', subject: this.core.userName() });
        return undefined;
      }
      setTrustedDeviceUsed(w, found.id, nowMs);
      this.core.audit(w, { action: 'signin.trusted_device', subject: this.core.userName() });
      return found.id;
    });
  }

  /** The computers trusted for this user, or (users.manage) for another. Expired ones are left out. */
  async devices(userName?: string, nowMs: number = this.core.now()): Promise<TrustedDevice[]> {
    return this.core.read((r) => {
      const userId = userName === undefined ? this.core.userId() : this.otherUser(r, userName).id;
      return listTrustedDevices(r, userId, nowMs).map((d) => ({ id: d.id, label: d.label, createdAt: d.created_at, lastUsedAt: d.last_used_at, expiresAt: d.expires_at }));
    });
  }

  /** Forgets a trusted computer: one's own (never `inUse`, the one signed in on), or anyone's with users.manage. */
  async forgetDevice(deviceId: number, inUse: number | undefined): Promise<void> {
    await this.core.write((w) => {
      const deviceUserId = trustedDeviceUser(w, deviceId);
      if (deviceUserId === undefined) throw new CrewvaultError('NOT_FOUND', 'No such trusted computer.');
      if (deviceUserId === this.core.userId()) {
        if (deviceId === inUse) throw new CrewvaultError('INVALID_INPUT', 'This is the computer you are using: forget it from another one, or turn two-step sign-in off and on.');
      } else {
        const target = getUser(w, deviceUserId);
        if (target) this.core.requireActOn(w, target);
        else this.core.requireUsersManage(w);
      }
      const owner = getUser(w, deviceUserId);
      deleteTrustedDevice(w, deviceId);
      this.core.audit(w, { action: 'mfa.device_forgotten', subject: owner?.name ?? null });
    });
  }

  /** Another person, whom this one may act on (shared/policy whyNotActOn): never someone above them. */
  private otherUser(db: ReadDb, userName: string): UserRow {
    this.core.requireUsersManage(db);
    const user = findUserByName(db, userName.trim());
    if (!user) throw new CrewvaultError('NOT_FOUND', `No user named "${userName.trim()}".`);
    if (user.id !== this.core.userId()) this.core.requireActOn(db, user);
    return user;
  }

  /**
   * Checks a sign-in code: ±1 step, and never a step at or before the last one accepted. The
   * check, the count of a wrong one and the use of a right one are one write transaction on the
   * row as it is then: of N processes given one code at once, exactly one is accepted.
   */
  async verifyCode(code: string, nowMs: number = this.core.now()): Promise<void> {
    settled(await this.core.write((w): Outcome<null> => {
      const row = this.rowIn(w);
      const sealed = row.mfa_sealed_secret;
      if (row.mfa_enabled_at === null || !sealed) return { error: new CrewvaultError('INVALID_INPUT', 'Two-step sign-in is not set up for this user.') };
      const waiting = this.checkBackoff(row, nowMs);
      if (waiting) return { error: waiting };
      const secret = this.withMfaKey(w, (key) => open(key, sealed, SECRET_CONTEXT(w, row.id)).toString('utf8'));
      const step = matchingStep(secret, code, nowMs, row.mfa_last_step ?? -1);
      this.noteSecondFactor(w, row, nowMs, step !== undefined, 'signin.code');
      if (step === undefined) return { error: wrongCode() };
      setLastStep(w, row.id, step);
      // Enrolled before schema 9, or an owner added since: hand them the key now.
      this.withMfaKey(w, (key) => this.escrowForOwners(w, key));
      return { value: null };
    }));
  }

  /** After too many wrong second factors in a row, nothing is checked until the wait is over:
   * the refusal, for the caller to return from its transaction (so nothing is counted). */
  private checkBackoff(row: UserRow, nowMs: number): CrewvaultError | undefined {
    if (row.next_attempt_at !== null && nowMs < row.next_attempt_at) {
      return tooManyAttempts('Too many wrong codes', row.next_attempt_at, nowMs);
    }
    return undefined;
  }

  /** Audits a second factor as `<action>_ok` or `<action>_failed`, counting wrong ones in a row;
   * inside the transaction that checked it, with `row` as read there. */
  private noteSecondFactor(w: WriteDb, row: UserRow, nowMs: number, ok: boolean, action: string): void {
    if (ok && row.failed_codes > 0) clearFailedCodes(w, row.id);
    if (!ok) recordFailedCode(w, row, nowMs);
    this.core.audit(w, { action: `${action}_${ok ? 'ok' : 'failed'}`, subject: row.name });
  }

  /**
   * The confirmed key again, for adding a second device; the caller has just re-checked the
   * person's password or code. Audited.
   */
  async currentSetup(): Promise<Enrolment> {
    const { row, secret } = await this.core.write((w) => {
      const row = this.row(w);
      if (row.mfa_enabled_at === null || !row.mfa_sealed_secret) throw new CrewvaultError('INVALID_INPUT', 'Two-step sign-in is not set up for this user.');
      const sealed = row.mfa_sealed_secret;
      const secret = this.withMfaKey(w, (key) => open(key, sealed, SECRET_CONTEXT(w, row.id)).toString('utf8'));
      this.core.audit(w, { action: 'mfa.key_shown', subject: row.name });
      return { row, secret };
    });
    const params: OtpParams = { ...totpParams(secret, 0), kind: 'totp' };
    return { secret: groupSecret(secret), uri: buildOtpUri({ params, issuer: 'Crewvault', account: row.name }) };
  }

  /** Uses one recovery code (each works once); returns how many are left. Found, spent and
   * counted in one write transaction, so two processes given one code cannot both use it. */
  async useRecoveryCode(code: string): Promise<number> {
    const nowMs = this.core.now();
    return settled(await this.core.write((w): Outcome<number> => {
      const hash = this.recoveryHash(w, code);
      const row = this.rowIn(w);
      const waiting = this.checkBackoff(row, nowMs);
      if (waiting) return { error: waiting };
      const unused = unusedRecoveryCodeHashes(w, row.id);
      const match = unused.find((stored) => sameBytes(stored, hash));
      // Unused is asked again by the write itself: the code is spent by this statement or not at all.
      const spent = match !== undefined && spendRecoveryCode(w, row.id, match, nowMs);
      this.noteSecondFactor(w, row, nowMs, spent, 'signin.recovery');
      return spent ? { value: unused.length - 1 } : { error: wrongCode() };
    }));
  }

  /** Uses the emergency code an admin issued: once, within two minutes; checked and deleted in
   * one write transaction. */
  async useEmergencyCode(code: string, nowMs: number = this.core.now()): Promise<void> {
    settled(await this.core.write((w): Outcome<null> => {
      const row = this.rowIn(w);
      const waiting = this.checkBackoff(row, nowMs);
      if (waiting) return { error: waiting };
      const stored = getEmergencyCode(w, row.id);
      const used = stored !== undefined && nowMs <= stored.expires_at && sameBytes(stored.code_hash, emergencyHash(row.id, code))
        && spendEmergencyCode(w, row.id, stored.code_hash);
      this.noteSecondFactor(w, row, nowMs, used, 'signin.emergency');
      return used ? { value: null } : { error: wrongCode() };
    }));
  }

  /** New recovery codes; the old ones stop working. */
  async regenerateRecoveryCodes(delivery: RecoveryDelivery = {}): Promise<string[]> {
    return this.core.write((w) => {
      if (!this.statusIn(w).enabled) throw new CrewvaultError('INVALID_INPUT', 'Two-step sign-in is not set up for this user.');
      const codes = this.replaceRecoveryCodes(w, this.core.userId(), delivery);
      this.core.audit(w, { action: 'mfa.recovery_regenerated', subject: this.core.userName() });
      return codes;
    });
  }

  /** Turns MFA off for oneself, where the policy allows: the key, the recovery codes and
   * trusted computers are destroyed. */
  async disable(): Promise<void> {
    await this.core.write((w) => {
      if (this.policyIn(w).mine === 'required') throw new CrewvaultError('FORBIDDEN', 'Two-step sign-in is required for your role.');
      const row = this.row(w);
      const wasOn = row.mfa_enabled_at !== null;
      clearMfa(w, row.id);
      if (wasOn || row.mfa_pending_secret !== null) this.core.audit(w, { action: wasOn ? 'mfa.disable' : 'mfa.setup_abandoned', subject: row.name });
    });
  }

  /** An admin resets another user's MFA (they enrol again at their next sign-in). */
  async resetFor(userName: string): Promise<void> {
    await this.core.write((w) => {
      this.core.requireUsersManage(w);
      const user = findUserByName(w, userName.trim());
      if (!user) throw new CrewvaultError('NOT_FOUND', `No user named "${userName.trim()}".`);
      this.core.requireActOn(w, user);
      clearMfa(w, user.id);
      this.core.audit(w, { action: 'mfa.reset', subject: user.name });
    });
  }

  /** An admin issues a 6-letter code that stands in for the user's authenticator once, for 2 minutes. */
  async issueEmergencyCode(userName: string, nowMs: number = this.core.now()): Promise<string> {
    const code = randomCode(EMERGENCY_ALPHABET, 6);
    await this.core.write((w) => {
      this.core.requireUsersManage(w);
      const user = findUserByName(w, userName.trim());
      if (!user) throw new CrewvaultError('NOT_FOUND', `No user named "${userName.trim()}".`);
      this.core.requireActOn(w, user);
      putEmergencyCode(w, user.id, emergencyHash(user.id, code), nowMs + EMERGENCY_CODE_MS, this.core.userId());
      this.core.audit(w, { action: 'mfa.emergency_issued', subject: user.name });
    });
    return code;
  }

  /**
   * This user's recovery codes still kept until seen (see RecoveryDelivery), those not used yet,
   * or undefined when none are kept (shown and marked seen, or shown on screen).
   */
  async unseenRecoveryCodes(): Promise<string[] | undefined> {
    const userId = this.core.userId();
    return this.core.read((r) => {
      const sealed = getUnseenRecoveryCodes(r, userId);
      if (!sealed) return undefined;
      const kept = this.withMfaKey(r, (key) => open(key, sealed, UNSEEN_CONTEXT(r, userId)).toString('utf8'));
      const unused = unusedRecoveryCodeHashes(r, userId);
      return kept.split('\n').filter((code) => unused.some((hash) => sameBytes(hash, this.recoveryHash(r, code))));
    });
  }

  /** The owner saw their codes: the sealed copy goes, only the hashes stay. False when none was kept. */
  async markRecoveryCodesSeen(): Promise<boolean> {
    return this.core.write((w) => {
      const dropped = deleteUnseenRecoveryCodes(w, this.core.userId());
      if (dropped) this.core.audit(w, { action: 'mfa.recovery_seen', subject: this.core.userName() });
      return dropped;
    });
  }

  private replaceRecoveryCodes(db: WriteDb, userId: number, delivery: RecoveryDelivery): string[] {
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = randomCode(RECOVERY_ALPHABET, 10);
      return `${raw.slice(0, 5)}-${raw.slice(5)}`;
    });
    // Replacing the hashes drops any copy kept of the codes they replace.
    replaceRecoveryCodeHashes(db, userId, codes.map((code) => this.recoveryHash(db, code)));
    if (delivery.keepUntilSeen) {
      this.withMfaKey(db, (key) => putUnseenRecoveryCodes(db, userId, seal(key, Buffer.from(codes.join('\n'), 'utf8'), UNSEEN_CONTEXT(db, userId))));
    }
    return codes;
  }
}

function totpParams(secret: string, counter: number): OtpParams {
  return { ...defaultOtpParams(secret), kind: 'hotp', counter };
}

/** The time step (now, one before or one after) whose code is `code`, if later than `after`. */
export function matchingStep(secret: string, code: string, nowMs: number, after: number): number | undefined {
  const typed = Buffer.from(code.replace(/\s/g, ''), 'utf8');
  const now = timeStep(nowMs, PERIOD);
  for (const step of [now, now - 1, now + 1]) {
    if (step <= after || step < 0) continue;
    if (sameBytes(Buffer.from(hotpCode(totpParams(secret, step)).code, 'utf8'), typed)) return step;
  }
  return undefined;
}

function emergencyHash(userId: number, code: string): Buffer {
  return createHash('sha256').update(`crewvault/v1 emergency|${userId}|${code.trim().toUpperCase()}`).digest();
}

function deviceHash(token: string): Buffer {
  return createHash('sha256').update(`crewvault/v1 device|${token}`).digest();
}

/** A user's two-step sign-in, all of it: key, setup, recovery and emergency codes, the wraps of
 * their MFA key and the computers trusted for it here. */
export function clearMfa(db: WriteDb, userId: number): void {
  clearMfaColumns(db, userId);
  dropMfaKeyWraps(db, userId);
  deleteRecoveryCodes(db, userId);
  deleteTrustedDevicesOf(db, userId);
  deleteEmergencyCodes(db, userId);
}
