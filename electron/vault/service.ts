/**
 * A signed-in person's session: their keys (the ring), their user row read again before each
 * act (a disabled user, a new role or a changed password takes effect at once), the write
 * transaction every change goes through, the audit helper, and lock/close. What the person
 * can do lives in one service per concern, each given a narrow core of this session:
 * entries (entries-service.ts), codes and reveals (codes-service.ts), listing and lookups
 * (listing.ts), import and export (import-export.ts), settings (settings-service.ts), the
 * audit log (audit-reading.ts), teams and users (team.ts), sign-in MFA (mfa.ts). The methods
 * below that only hand a call on keep the session's public API as it was.
 * Every call checks the role (shared/policy) and group membership (the key ring), and audits
 * what DESIGN.md says is audited, in the same transaction as the change it records.
 * Returns opened views only; a password or OTP secret leaves only through a reveal* call.
 */
import { CrewvaultError } from '../../shared/errors';
import type { AuditRecord, CustomerView, EntryChanges, EntryDetails, EntryInput, EntrySummary, EntryTable, UserView, VaultSettings } from '../../shared/model';
import type { ImportResult as SharedImportResult } from '../../shared/import/types';
import type { HotpCode, OtpKind, TotpCode } from '../../shared/otp';
import { can, whyNotActOn, type Permission, type Person, type Role } from '../../shared/policy';
import { deriveKek, exportPrivateKey, newKdfParams, open, seal } from './crypto';
import { checkpoint, withWrite, type ReadDb, type WriteDb } from './db';
import { contexts, type GroupKey, type KeyRing, type StoredRef } from './keys';
import { refOf } from './store-ids';
import { ownerResealPending, resealSharedByGlobalId, type ResealCount } from './id-seals';
import { changesBetween, currentSequence, type ChangeSet } from './store-changes';
import { appendAudit, type AnchorCheck, type AuditFields, type AuditVerification } from './store-audit';
import { PageChanges } from './entry-pages';
import { rolePermissions } from './store-roles';
import { MfaService } from './mfa';
import { TeamService } from './team';
import { groupKeysOfUser, unsplitGroupIds } from './store-groups';
import { openHeldGroupKey } from './group-keys';
import { sealAuditDetail, syncDirectory } from './directory';
import { claimPasswordAttempt, getUser, releasePasswordClaim, setUserPasswordSeal, type UserRow } from './store-users';
import { parseKdf, validateNewPassword, type KdfOptions } from './records';
import { AuditReader } from './audit-reading';
import { CodesService, type RevealedOtp } from './codes-service';
import { CustomerNames } from './customer-names';
import { EntriesService } from './entries-service';
import { defaultGroupId, heldGroupKey } from './entry-access';
import { ImportExportService, type ExportOutcome, type ExportPlan, type ImportOutcome, type ImportPlan, type ImportResult } from './import-export';
import { ListingService, type EntryFilter } from './listing';
import { ReplicaService } from './replica-service';
import { SettingsService } from './settings-service';

export interface Clock {
  readonly now: () => number;
}

export type { VaultSettings } from '../../shared/model';
export { DEFAULT_SETTINGS } from './settings-service';

function forbidden(permission: Permission): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', `Your role may not do this (needs permission ${permission}).`);
}

/**
 * How long the one-time password a session signed in with stands as proof for replacing it
 * (a second step, then the new password chosen), so it is not asked again.
 */
const ONE_TIME_PROOF_MS = 10 * 60_000;

export class VaultSession {
  private currentUser: UserView;
  private readonly db: ReadDb;
  private readonly clock: Clock;
  private readonly ring: KeyRing;
  /** This person's row and global id, which what they seal for themselves names. */
  private readonly userRef: StoredRef;
  private readonly customerNames: CustomerNames;
  private readonly pages = new PageChanges();
  /** The KDF record this session signed in with; another one means the password changed. */
  private signedInKdf: string | undefined;
  private mustChange = false;
  private closed = false;
  /** When this session signed in (its password was checked then). */
  private readonly openedAt: number;

  /** True while the person signed in with a one-time password they must replace. */
  get mustChangePassword(): boolean {
    if (this.closed) return false;
    this.refreshUser();
    return this.mustChange;
  }

  /**
   * Replaces this person's password: the same key pair, sealed under a key derived with fresh
   * Argon2 settings. Other sessions of this user end (they notice the new KDF record).
   */
  async changePassword(current: string | undefined, next: string, kdf: KdfOptions = {}): Promise<void> {
    if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    this.refreshUser();
    validateNewPassword(next);
    if (current === undefined) {
      // Replacing a one-time password right after signing in with it: that sign-in is the proof,
      // so the person is not asked again for what they just typed. Later, or for a password of
      // their own, the current one is asked as ever.
      if (!this.mustChange || this.clock.now() - this.openedAt > ONE_TIME_PROOF_MS) throw new CrewvaultError('WRONG_PASSWORD', 'Enter your current password.');
      await this.refuseSamePassword(next);
    } else {
      if (current === next) throw new CrewvaultError('INVALID_INPUT', 'The new password must differ from the current one.');
      await this.confirmPassword(current);
    }
    const params = newKdfParams(kdf);
    const kek = await deriveKek(next, params);
    const privateRaw = exportPrivateKey(this.ring.keyPair.privateKey);
    try {
      const kdfText = JSON.stringify(params);
      this.write((w) => {
        setUserPasswordSeal(w, this.user.id, kdfText, seal(kek, privateRaw, contexts.privateKey(this.userRef)));
        this.audit(w, { action: 'user.change_password', subject: this.user.name });
      });
      this.signedInKdf = kdfText;
      this.mustChange = false;
    } finally {
      kek.fill(0);
      privateRaw.fill(0);
    }
  }

  /** INVALID_INPUT when `next` is the password the vault holds now (one Argon2 run to tell). */
  private async refuseSamePassword(next: string): Promise<void> {
    const row = getUser(this.db, this.user.id);
    if (!row) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    const kek = await deriveKek(next, parseKdf(row.kdf));
    let same = false;
    try {
      open(kek, row.sealed_private_key, contexts.privateKey(row)).fill(0);
      same = true;
    } catch {
      // Another password: what is wanted.
    } finally {
      kek.fill(0);
    }
    if (same) throw new CrewvaultError('INVALID_INPUT', 'The new password must differ from the one-time password.');
  }

  /** Checks this person's password again (before a sensitive change); WRONG_PASSWORD if not. */
  async confirmPassword(password: string): Promise<void> {
    // One re-check at a time in this session, and each counted before Argon2 runs (as sign-in
    // does, vault.ts): re-checks fired together cannot all be tried before the backoff bites.
    const run = this.confirming.then(() => this.confirmPasswordOnce(password));
    this.confirming = run.catch(() => undefined);
    return run;
  }

  private confirming: Promise<void> = Promise.resolve();

  private async confirmPasswordOnce(password: string): Promise<void> {
    if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    const row = getUser(this.db, this.user.id);
    if (!row) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    // An unlocked session must not be a way to guess the password: same backoff and audit as sign-in.
    const now = this.clock.now();
    const claim = this.write((w) => claimPasswordAttempt(w, row.id, now));
    if (!claim.ok) throw new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many failed attempts: try again in ${Math.ceil((claim.retryAt - now) / 1000)} s.`);
    const kek = await deriveKek(password, parseKdf(row.kdf));
    try {
      open(kek, row.sealed_private_key, contexts.privateKey(row)).fill(0);
    } catch {
      // The claim already counted it; only the audit row is left to write.
      this.write((w) => this.audit(w, { action: 'password.confirm_failed', subject: row.name }));
      throw new CrewvaultError('WRONG_PASSWORD', 'Your password is wrong.');
    } finally {
      kek.fill(0);
    }
    this.write((w) => releasePasswordClaim(w, row.id, claim, this.clock.now()));
  }

  /** What this person's role allows now: the built-in table, or the custom role's list. */
  permissions(): readonly Permission[] {
    return rolePermissions(this.db, this.user.role);
  }

  /** Access groups, members and users (the roles issue). */
  readonly team: TeamService;

  /** Sign-in MFA for this person, and the admin's resets and emergency codes. */
  readonly mfa: MfaService;

  /** Who is signed in, with their role as the vault says now. */
  get user(): UserView {
    return this.currentUser;
  }

  private set user(value: UserView) {
    this.currentUser = value;
  }

  /** The audit log's keyed anchor as this sign-in found it, before writing its own row. */
  readonly auditAnchorAtSignIn: AnchorCheck;

  /** Creating, editing and deleting entries: the one path that seals and writes an entry. */
  readonly entries: EntriesService;

  /** One-time codes, and revealing a password or an OTP key. */
  readonly codes: CodesService;

  /** Customers, the entry list and search, "Customer/Title" lookups, one entry's details. */
  readonly listing: ListingService;

  /** Entries in and out in bulk. */
  readonly importExport: ImportExportService;

  /** Vault-wide settings. */
  readonly vaultSettings: SettingsService;

  /** The audit log, read (audit.read). */
  readonly auditReader: AuditReader;

  /** This vault's changes handed to its other replicas, and theirs taken in (docs/SYNC.md). */
  readonly replica: ReplicaService;

  constructor(db: ReadDb, clock: Clock, user: UserView, ring: KeyRing, auditAnchor: AnchorCheck = { ok: true, anchoredRow: 0 }) {
    this.auditAnchorAtSignIn = auditAnchor;
    this.db = db;
    this.clock = clock;
    this.openedAt = clock.now();
    this.currentUser = user;
    this.ring = ring;
    const row = getUser(db, user.id);
    this.signedInKdf = row?.kdf;
    this.userRef = row ?? refOf(db, 'users', user.id);
    this.customerNames = new CustomerNames(db, ring, () => this.clock.now());
    const core = {
      db,
      ring,
      customers: this.customerNames,
      pages: this.pages,
      now: () => this.clock.now(),
      write: <T>(work: (db: WriteDb) => T): T => this.write(work),
      audit: (w: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string) => this.audit(w, fields, detail),
      require: (permission: Permission, groupId?: number) => this.require(permission, groupId),
      permissions: () => this.permissions(),
      user: () => this.user,
      person: () => this.person(),
    };
    this.team = new TeamService({
      ...core,
      requireActOn: (target) => this.requireActOn(target),
      customerName: (customerId) => this.customerName(customerId),
      defaultGroupId: () => defaultGroupId(this.db, this.ring),
    });
    this.mfa = new MfaService({
      db,
      keyPair: ring.keyPair,
      userId: () => this.user.id,
      userName: () => this.user.name,
      role: () => this.user.role,
      now: () => this.clock.now(),
      write: (work) => this.write(work),
      audit: (w, fields, detail) => this.audit(w, fields, detail),
      requireUsersManage: () => this.require('users.manage'),
      requireActOn: (target) => this.requireActOn(target),
    });
    this.entries = new EntriesService(core);
    this.codes = new CodesService({ ...core, userId: () => this.user.id, rewrite: (w, entry, fields, details) => this.entries.rewrite(w, entry, fields, details) });
    this.listing = new ListingService(core);
    this.importExport = new ImportExportService({
      ...core,
      confirmPassword: (password) => this.confirmPassword(password),
      listGroups: () => this.team.listGroups(),
      insertEntry: (w, input, allowed, auditEach) => this.entries.insert(w, input, allowed, auditEach),
    });
    this.vaultSettings = new SettingsService({
      ...core,
      requireUnlocked: () => {
        if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
      },
    });
    this.auditReader = new AuditReader({ ...core, anchorAtSignIn: auditAnchor });
    this.replica = new ReplicaService({
      ...core,
      entries: this.entries,
      userId: () => this.user.id,
      requireOpen: () => {
        if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
        this.refreshUser();
      },
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** This person as shared/policy's rules about people see them. */
  person(): Person {
    return { id: this.user.id, role: this.user.role, permissions: this.permissions() };
  }

  /** users.manage, and FORBIDDEN unless shared/policy lets this person act on `target`. */
  requireActOn(target: Pick<UserRow, 'id' | 'role'>): void {
    this.require('users.manage');
    const why = whyNotActOn(this.person(), { id: target.id, role: target.role, permissions: rolePermissions(this.db, target.role) });
    if (why) throw new CrewvaultError('FORBIDDEN', why);
  }

  private require(permission: Permission, groupId?: number): void {
    if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    this.refreshUser();
    if (!can(this.team.actor(), permission, groupId)) throw forbidden(permission);
  }

  /**
   * Another person may have changed this user since sign-in (in another window or process):
   * a disabled user's session ends, a new role applies at once, and group keys granted or
   * revoked since are picked up or dropped — read from the file, one row each time.
   */
  private refreshUser(): void {
    const row = getUser(this.db, this.user.id);
    if (!row || row.disabled_at !== null) {
      this.lock();
      throw new CrewvaultError('LOCKED', 'Your account was disabled: the session has ended.');
    }
    // A password changed elsewhere (or reset by an owner) ends every other session.
    this.signedInKdf ??= row.kdf;
    if (row.kdf !== this.signedInKdf) {
      this.lock();
      throw new CrewvaultError('LOCKED', 'Your password was changed: sign in again.');
    }
    this.mustChange = row.must_change_password === 1;
    if (row.role !== this.user.role) this.user = { ...this.user, role: row.role };
    syncDirectory(this.db, this.ring, this.userRef);
    const held = groupKeysOfUser(this.db, this.user.id);
    const current = new Set(held.map((g) => g.group_id));
    for (const groupId of [...this.ring.groups.keys()]) if (!current.has(groupId)) this.ring.dropGroup(groupId);
    for (const g of held) {
      const mine = this.ring.groups.get(g.group_id);
      const split = g.secret_split === 1;
      // A secret key granted or taken away (a role change) shows as a wrap that appeared or went.
      const sameSecret = !split || (mine?.secret !== undefined) === (g.wrapped_secret_key !== null);
      if (mine && mine.version === g.key_version && mine.split === split && sameSecret && mine.lead === (g.is_lead === 1)) continue;
      const opened = openHeldGroupKey(this.db, this.ring.keyPair, this.user.id, g);
      this.ring.dropGroup(g.group_id);
      this.ring.addGroup(g.group_id, opened);
    }
  }

  /** The sequence range of this session's last committed write (what it changed: lastChanges). */
  private lastWrite = { fromSeq: 0, toSeq: 0 };

  /** What this session's last committed write changed (schema 10), as the team server will be sent it. */
  lastChanges(): ChangeSet {
    return changesBetween(this.db, this.lastWrite.fromSeq, this.lastWrite.toSeq);
  }

  /** A write transaction; on failure the name cache forgets what the rollback undid. */
  private write<T>(work: (db: WriteDb) => T): T {
    try {
      let range = { fromSeq: 0, toSeq: 0 };
      const result = withWrite(this.db, (w) => {
        const fromSeq = currentSequence(w);
        // Inside the write lock: nothing is sealed or anchored under a directory key a rotation
        // elsewhere has replaced since this session last looked.
        syncDirectory(w, this.ring, this.userRef);
        const result = work(w);
        this.pages.flush(w, (groupId) => this.groupKey(groupId));
        range = { fromSeq, toSeq: currentSequence(w) };
        return result;
      });
      this.lastWrite = range;
      return result;
    } catch (error) {
      this.customerNames.clear();
      this.pages.clear();
      throw error;
    }
  }

  private audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void {
    appendAudit(db, { at: this.clock.now(), actor_id: this.user.id, ...fields }, detail === undefined ? undefined : (event) => sealAuditDetail(this.ring, event, detail), this.ring);
  }

  private groupKey(groupId: number): GroupKey {
    return heldGroupKey(this.ring, groupId);
  }

  private customerName(customerId: number): string {
    return this.customerNames.name(customerId);
  }

  // ---- handed on to the services (the session's API as callers know it) --------------------

  listCustomers(): CustomerView[] {
    return this.listing.listCustomers();
  }

  listEntries(filter: EntryFilter = {}): EntrySummary[] {
    return this.listing.listEntries(filter);
  }

  listEntryTable(filter: EntryFilter = {}): EntryTable {
    return this.listing.listEntryTable(filter);
  }

  findByPath(path: string): EntrySummary[] {
    return this.listing.findByPath(path);
  }

  resolvePath(path: string): EntrySummary {
    return this.listing.resolvePath(path);
  }

  getEntry(id: number): EntryDetails {
    return this.listing.getEntry(id);
  }

  otpCode(id: number, nowMs?: number, purpose?: 'view' | 'copy'): (TotpCode | HotpCode) & { readonly kind: OtpKind } {
    return this.codes.otpCode(id, nowMs, purpose);
  }

  revealPassword(id: number, purpose?: 'reveal' | 'copy'): string {
    return this.codes.revealPassword(id, purpose);
  }

  revealOtpSecret(id: number): RevealedOtp {
    return this.codes.revealOtpSecret(id);
  }

  createEntry(input: EntryInput): EntrySummary {
    return this.entries.create(input);
  }

  createEntries(inputs: readonly EntryInput[]): EntrySummary[] {
    return this.entries.createMany(inputs);
  }

  updateEntry(id: number, changes: EntryChanges, baseRevision?: number): EntrySummary {
    return this.entries.update(id, changes, baseRevision);
  }

  deleteEntry(id: number, baseRevision?: number): void {
    this.entries.delete(id, baseRevision);
  }

  importOtpauth(text: string, options?: { customer?: string; groupId?: number }): ImportResult {
    return this.importExport.importOtpauth(text, options);
  }

  importEntries(read: SharedImportResult, plan: ImportPlan): ImportOutcome {
    return this.importExport.importEntries(read, plan);
  }

  exportEntries(password: string, plan: ExportPlan): Promise<ExportOutcome> {
    return this.importExport.exportEntries(password, plan);
  }

  createUser(name: string, role: Role, password: string, kdf?: KdfOptions): Promise<UserView> {
    return this.team.createUser(name, role, password, kdf);
  }

  settings(): VaultSettings {
    return this.vaultSettings.read();
  }

  updateSettings(changes: Partial<VaultSettings>): VaultSettings {
    return this.vaultSettings.update(changes);
  }

  verifyAuditLog(): { readonly chain: AuditVerification; readonly anchor: AnchorCheck } {
    return this.auditReader.verify();
  }

  auditLog(limit?: number): AuditRecord[] {
    return this.auditReader.log(limit);
  }

  /** Locks, then closes the vault file (WAL folded in). For a session that owns its file,
   * as the one createVault returns does; a Vault's own close() is then a no-op. */
  close(): void {
    this.lock();
    if (this.db.open) {
      checkpoint(this.db);
      this.db.close();
    }
  }

  /**
   * Finishes schema 6 for an owner (who holds every group's key): groups that still seal their
   * secrets under their list key get a secret key of their own. Returns how many groups were
   * split (0 for anyone else, or once done); audited as vault.keys_split.
   */
  /**
   * Finishes schema 10 for an owner: what was sealed by row id is sealed by global id
   * (id-seals.ts). Returns how many entries, names and key wraps moved (0 for anyone else, or
   * once done: a read of one meta row); audited as vault.ids_resealed.
   */
  finishGlobalIds(): ResealCount {
    const none = { entries: 0, names: 0, keys: 0 };
    if (this.closed || this.user.role !== 'owner' || !ownerResealPending(this.db)) return none;
    return this.write((w) => {
      const count = resealSharedByGlobalId(w, this.ring, (customerId) => this.customerName(customerId));
      if (count.entries + count.names + count.keys > 0) {
        this.audit(w, { action: 'vault.ids_resealed' }, `${count.entries} entries, ${count.names} names and ${count.keys} keys now sealed by global id`);
      }
      return count;
    });
  }

  finishKeySplit(): number {
    // A read first: every owner sign-in (each `crewvault otp`) asks, and almost always nothing is left.
    if (this.closed || this.user.role !== 'owner' || unsplitGroupIds(this.db).length === 0) return 0;
    return this.team.splitLegacyKeys();
  }

  /**
   * Records, as this owner, that a backup of the vault is being taken (backup.ts), keyed and
   * anchored like every act: written before the snapshot, so the backup holds its own row.
   */
  recordBackup(detail: string): void {
    if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    this.refreshUser();
    if (this.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only an owner may back up the vault.');
    this.write((w) => this.audit(w, { action: 'vault.backup', subject: this.user.name }, detail));
  }

  /** Wipes this session's keys; every later call answers LOCKED. */
  lock(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.wipe();
    this.customerNames.clear();
    this.codes.clear();
  }
}
