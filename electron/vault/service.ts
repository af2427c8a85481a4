/**
 * A signed-in person's session: their keys (the ring), their user row read again before each
 * act (a disabled user, a new role or a changed password takes effect at once), the write
 * path every change goes through, the audit helper, and lock/close. What the person
 * can do lives in one service per concern, each given a narrow core of this session:
 * entries (entries-service.ts), codes and reveals (codes-service.ts), listing and lookups
 * (listing.ts), import and export (import-export.ts), settings (settings-service.ts), the
 * audit log (audit-reading.ts), teams and users (team.ts), sign-in MFA (mfa.ts). The methods
 * below that only hand a call on keep the session's public API as it was.
 * Every call checks the role (shared/policy) and group membership (the key ring), and audits
 * what DESIGN.md says is audited, in the same transaction as the change it records.
 * Returns opened views only; a password or OTP secret leaves only through a reveal* call.
 *
 * The session and its services hold a VaultStore (store.ts), never a database: every read is
 * one `store.read`, every write one `store.write` through `write` below, and every method that
 * touches the vault answers with a promise. What must hold together — the person's row read
 * again and the act it permits, a check and the change it guards — happens inside one work
 * callback (which never awaits), so two calls overlapping on one session (the router serving
 * two requests) cannot slip between them. Helpers called inside a callback take its handle.
 */
import { CrewvaultError } from '../../shared/errors';
import type { AuditRecord, CustomerView, EntryChanges, EntryDetails, EntryInput, EntrySummary, EntryTable, UserView, VaultSettings, VaultSettingsView } from '../../shared/model';
import type { ImportResult as SharedImportResult } from '../../shared/import/types';
import type { HotpCode, OtpKind, TotpCode } from '../../shared/otp';
import { ALL_GROUP_ROLES, can, whyNotActOn, type Permission, type Person, type Role } from '../../shared/policy';
import { deriveKek, exportPrivateKey, newKdfParams, open, seal } from './crypto';
import type { ReadDb, WriteDb } from './db';
import type { VaultStore } from './store';
import { contexts, type GroupKey, type KeyRing, type StoredRef } from './keys';
import { ownerResealPending, resealSharedByGlobalId, type ResealCount } from './id-seals';
import type { ChangeSet } from './store-changes';
import { appendAudit, type AnchorCheck, type AuditFields, type AuditVerification } from './store-audit';
import { PageChanges } from './entry-pages';
import { rolePermissions } from './store-roles';
import { MfaService } from './mfa';
import { TeamService } from './team';
import { groupKeysOfUser, unsplitGroupIds } from './store-groups';
import { groupsWithStraySecretKeys, openHeldGroupKey } from './group-keys';
import { sealAuditDetail, syncDirectory } from './directory';
import { claimPasswordAttempt, getUser, releasePasswordClaim, setUserPasswordSeal, type UserRow } from './store-users';
import { parseKdf, validateNewPassword, type KdfOptions } from './records';
import { AuditReader, type AuditExportPage } from './audit-reading';
import { CodesService, type CodePurpose, type RevealedOtp, type ServerCodeKeysView, type ServerCodeSource } from './codes-service';
import { CustomerNames } from './customer-names';
import { EntriesService } from './entries-service';
import { defaultGroupId, heldGroupKey } from './entry-access';
import { ImportExportService, type ExportOutcome, type ExportPlan, type ImportOutcome, type ImportPlan, type ImportResult } from './import-export';
import { ListingService, type EntryFilter } from './listing';
import type { ReplicaService } from './replica-service';
import { lazyReplica } from './replica-lazy';
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
  private readonly store: VaultStore;
  private readonly clock: Clock;
  private readonly ring: KeyRing;
  /** This person's row and global id, which what they seal for themselves names. */
  private readonly userRef: StoredRef;
  private readonly customerNames: CustomerNames;
  private readonly pages = new PageChanges();
  /** The KDF record this session signed in with; another one means the password changed. */
  private signedInKdf: string | undefined;
  /**
   * When this person's authenticator was set up, as this session knows it (undefined: not read
   * yet; null: none). Another value means their second step was reset, turned off or replaced
   * elsewhere: the session ends, at every door (DESIGN "Sign-in and MFA").
   */
  private signedInMfa: number | null | undefined;
  private mustChange = false;
  private closed = false;
  /** When this session signed in (its password was checked then). */
  private readonly openedAt: number;

  /** True while the person signed in with a one-time password they must replace. */
  async mustChangePassword(): Promise<boolean> {
    if (this.closed) return false;
    return this.store.read((r) => {
      this.refreshUser(r);
      return this.mustChange;
    });
  }

  /**
   * Replaces this person's password: the same key pair, sealed under a key derived with fresh
   * Argon2 settings. Other sessions of this user end (they notice the new KDF record).
   */
  async changePassword(current: string | undefined, next: string, kdf: KdfOptions = {}): Promise<void> {
    if (this.closed) throw lockedError();
    const mustChange = await this.store.read((r) => {
      this.refreshUser(r);
      return this.mustChange;
    });
    validateNewPassword(next);
    if (current === undefined) {
      // Replacing a one-time password right after signing in with it: that sign-in is the proof,
      // so the person is not asked again for what they just typed. Later, or for a password of
      // their own, the current one is asked as ever.
      if (!mustChange || this.clock.now() - this.openedAt > ONE_TIME_PROOF_MS) throw new CrewvaultError('WRONG_PASSWORD', 'Enter your current password.');
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
      await this.write((w) => {
        // The row read again in the write that replaces it: disabled, or the password changed or
        // reset elsewhere while Argon2 ran, ends this session and writes nothing (else it would
        // overwrite a reset with the old key pair and outlive it).
        this.refreshUser(w);
        setUserPasswordSeal(w, this.user.id, kdfText, seal(kek, privateRaw, contexts.privateKey(this.userRef)));
        this.audit(w, { action: 'user.change_password', subject: this.user.name });
        // Noted in the transaction that makes it so: a call that reads the row next must not
        // take this session's own change for someone else's.
        this.signedInKdf = kdfText;
        this.mustChange = false;
      });
    } finally {
      kek.fill(0);
      privateRaw.fill(0);
    }
  }

  /** INVALID_INPUT when `next` is the password the vault holds now (one Argon2 run to tell). */
  private async refuseSamePassword(next: string): Promise<void> {
    const row = await this.store.read((r) => getUser(r, this.user.id));
    if (!row) throw lockedError();
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
    if (this.closed) throw lockedError();
    // An unlocked session must not be a way to guess the password: same backoff and audit as sign-in.
    // The row and the claim in one transaction: the claim counts the attempt on the row as it is.
    const now = this.clock.now();
    const { row, claim } = await this.write((w) => {
      const row = getUser(w, this.user.id);
      if (!row) throw lockedError();
      return { row, claim: claimPasswordAttempt(w, row.id, now) };
    });
    if (!claim.ok) throw new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many failed attempts: try again in ${Math.ceil((claim.retryAt - now) / 1000)} s.`);
    const kek = await deriveKek(password, parseKdf(row.kdf));
    let right = false;
    try {
      open(kek, row.sealed_private_key, contexts.privateKey(row)).fill(0);
      right = true;
    } catch {
      // Answered below, once the audit row is written.
    } finally {
      kek.fill(0);
    }
    if (!right) {
      // The claim already counted it; only the audit row is left to write.
      await this.write((w) => this.audit(w, { action: 'password.confirm_failed', subject: row.name }));
      throw new CrewvaultError('WRONG_PASSWORD', 'Your password is wrong.');
    }
    await this.write((w) => {
      // Right for the row the claim read: still this person's password only if the row has not
      // changed since (a reset or a change elsewhere ends this session here).
      this.refreshUser(w);
      releasePasswordClaim(w, row.id, claim, this.clock.now());
    });
  }

  /** What this person's role allows now: the built-in table, or the custom role's list. */
  async permissions(): Promise<readonly Permission[]> {
    return this.store.read((r) => this.permissionsIn(r));
  }

  private permissionsIn(db: ReadDb): readonly Permission[] {
    return rolePermissions(db, this.user.role);
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

  /**
   * `me`: this person's row as the sign-in (or the vault's creation) read it, in the
   * transaction that opened their keys: their global id and the KDF record they signed in with.
   */
  constructor(store: VaultStore, clock: Clock, user: UserView, ring: KeyRing, me: StoredRef & { readonly kdf?: string; readonly mfaEnabledAt?: number | null }, auditAnchor: AnchorCheck = { ok: true, anchoredRow: 0 }) {
    this.auditAnchorAtSignIn = auditAnchor;
    this.store = store;
    this.clock = clock;
    this.openedAt = clock.now();
    this.currentUser = user;
    this.ring = ring;
    this.signedInKdf = me.kdf;
    this.signedInMfa = me.mfaEnabledAt;
    this.userRef = { id: me.id, uid: me.uid };
    this.customerNames = new CustomerNames(ring, () => this.clock.now());
    const core = {
      ring,
      customers: this.customerNames,
      pages: this.pages,
      now: () => this.clock.now(),
      read: <T>(work: (db: ReadDb) => T): Promise<T> => this.store.read(work),
      write: <T>(work: (db: WriteDb) => T): Promise<T> => this.write(work),
      audit: (w: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string) => this.audit(w, fields, detail),
      require: (db: ReadDb, permission: Permission, groupId?: number) => this.require(db, permission, groupId),
      permissions: (db: ReadDb) => this.permissionsIn(db),
      user: () => this.user,
      person: (db: ReadDb) => this.personIn(db),
    };
    this.team = new TeamService({
      ...core,
      requireActOn: (db, target) => this.requireActOnIn(db, target),
      customerName: (db, customerId) => this.customerNames.name(db, customerId),
      defaultGroupId: (db) => defaultGroupId(db, this.ring),
    });
    this.mfa = new MfaService({
      keyPair: ring.keyPair,
      userId: () => this.user.id,
      userName: () => this.user.name,
      role: () => this.user.role,
      now: () => this.clock.now(),
      read: (work) => this.store.read(work),
      // Every two-step act reads the person's row again first, in its own transaction, as every
      // other act does through require: a session whose account was disabled, or whose password
      // was changed elsewhere, ends here too instead of setting up an authenticator, making
      // recovery codes or forgetting computers for the account. (Reads stay plain: the router
      // asks the policy and status of a session it is about to find LOCKED.)
      write: (work) => this.write((w) => {
        this.refreshUser(w);
        const result = work(w);
        // This session's own change of its second step (set up, replaced, turned off) is not
        // someone else's reset: noted in the transaction that makes it.
        this.signedInMfa = getUser(w, this.user.id)?.mfa_enabled_at ?? null;
        return result;
      }),
      audit: (w, fields, detail) => this.audit(w, fields, detail),
      requireUsersManage: (db) => this.require(db, 'users.manage'),
      requireActOn: (db, target) => this.requireActOnIn(db, target),
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
        if (this.closed) throw lockedError();
      },
    });
    this.auditReader = new AuditReader({ ...core, anchorAtSignIn: auditAnchor, userId: () => this.user.id });
    // Loaded on its first call (replica-lazy.ts): a session that never syncs never loads the sync schemas.
    this.replica = lazyReplica({
      ...core,
      entries: this.entries,
      userId: () => this.user.id,
      rotateAgain: () => this.team.rotateAgain(),
      revokesUnmade: () => this.team.revokesUnmadeTold(),
      revokesWaiting: () => this.team.revokesWaitingTold(),
      keyChangesOwed: () => this.team.keyChangesOwedTold(),
      requireOpen: (db) => {
        if (this.closed) throw lockedError();
        this.refreshUser(db);
      },
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** This person as shared/policy's rules about people see them. */
  async person(): Promise<Person> {
    return this.store.read((r) => this.personIn(r));
  }

  private personIn(db: ReadDb): Person {
    return { id: this.user.id, role: this.user.role, permissions: this.permissionsIn(db) };
  }

  /** users.manage, and FORBIDDEN unless shared/policy lets this person act on `target`. */
  async requireActOn(target: Pick<UserRow, 'id' | 'role'>): Promise<void> {
    await this.store.read((r) => this.requireActOnIn(r, target));
  }

  private requireActOnIn(db: ReadDb, target: Pick<UserRow, 'id' | 'role'>): void {
    this.require(db, 'users.manage');
    const why = whyNotActOn(this.personIn(db), { id: target.id, role: target.role, permissions: rolePermissions(db, target.role) });
    if (why) throw new CrewvaultError('FORBIDDEN', why);
  }

  /** Inside the work it guards: the row read again and the act are one transaction. */
  private require(db: ReadDb, permission: Permission, groupId?: number): void {
    if (this.closed) throw lockedError();
    this.refreshUser(db);
    if (!can(this.team.actor(db), permission, groupId)) throw forbidden(permission);
  }

  /**
   * Another person may have changed this user since sign-in (in another window or process):
   * a disabled user's session ends, a new role applies at once, and group keys granted or
   * revoked since are picked up or dropped — read from the file, one row each time, in the
   * caller's transaction.
   */
  private refreshUser(db: ReadDb): void {
    const row = getUser(db, this.user.id);
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
    // Two-step sign-in reset (a lost phone), turned off or replaced elsewhere ends every other
    // session, as a password change does: whoever holds one may be who the reset was against.
    // One set up elsewhere where there was none takes nothing away, so it is only noted.
    if (this.signedInMfa === undefined || this.signedInMfa === null) this.signedInMfa = row.mfa_enabled_at;
    else if (row.mfa_enabled_at !== this.signedInMfa) {
      this.lock();
      throw new CrewvaultError('LOCKED', 'Your two-step sign-in was reset or changed: sign in again.');
    }
    this.mustChange = row.must_change_password === 1;
    if (row.role !== this.user.role) this.user = { ...this.user, role: row.role };
    syncDirectory(db, this.ring, this.userRef);
    const held = groupKeysOfUser(db, this.user.id);
    const current = new Set(held.map((g) => g.group_id));
    for (const groupId of [...this.ring.groups.keys()]) if (!current.has(groupId)) this.ring.dropGroup(groupId);
    for (const g of held) {
      const mine = this.ring.groups.get(g.group_id);
      const split = g.secret_split === 1;
      // A secret key granted or taken away (a role change) shows as a wrap that appeared or went.
      const sameSecret = !split || (mine?.secret !== undefined) === (g.wrapped_secret_key !== null);
      if (mine && mine.version === g.key_version && mine.split === split && sameSecret && mine.lead === (g.is_lead === 1)) continue;
      const opened = openHeldGroupKey(db, this.ring.keyPair, this.user.id, g);
      this.ring.dropGroup(g.group_id);
      this.ring.addGroup(g.group_id, opened);
    }
  }

  /** What this session's last committed write changed (store.ts). */
  private lastChangeSet: ChangeSet = { fromSeq: 0, toSeq: 0, objects: [], links: [], events: [] };

  /**
   * What this session's last committed write changed (schema 10), as the team server will be
   * sent it. Two calls overlapping on one session: the later write's.
   */
  lastChanges(): ChangeSet {
    return this.lastChangeSet;
  }

  /**
   * The session's write path: one store.write whose work reads the directory key afresh, runs
   * `work`, and flushes the summary pages it changed — all in the one transaction. If it fails,
   * the caches forget what the rollback undid, before anything else can read them.
   */
  private async write<T>(work: (db: WriteDb) => T): Promise<T> {
    if (this.closed) throw lockedError();
    try {
      const { value, changes } = await this.store.write((w) => {
        try {
          // Locked since the call began (another call on this session): nothing is written.
          if (this.closed) throw lockedError();
          // Inside the write lock: nothing is sealed or anchored under a directory key a rotation
          // elsewhere has replaced since this session last looked.
          syncDirectory(w, this.ring, this.userRef);
          const result = work(w);
          this.pages.flush(w, (groupId) => this.groupKey(groupId));
          return result;
        } catch (error) {
          this.forgetUnwritten();
          throw error;
        }
      });
      this.lastChangeSet = changes;
      return value;
    } catch (error) {
      // A failure at commit, after the work ran.
      this.forgetUnwritten();
      throw error;
    }
  }

  private forgetUnwritten(): void {
    this.customerNames.clear();
    this.pages.clear();
  }

  private audit(db: WriteDb, fields: Omit<AuditFields, 'at' | 'actor_id'>, detail?: string): void {
    appendAudit(db, { at: this.clock.now(), actor_id: this.user.id, ...fields }, detail === undefined ? undefined : (event) => sealAuditDetail(this.ring, event, detail), this.ring);
  }

  private groupKey(groupId: number): GroupKey {
    return heldGroupKey(this.ring, groupId);
  }

  // ---- handed on to the services (the session's API as callers know it) --------------------

  async listCustomers(): Promise<CustomerView[]> {
    return this.listing.listCustomers();
  }

  async listEntries(filter: EntryFilter = {}): Promise<EntrySummary[]> {
    return this.listing.listEntries(filter);
  }

  async listEntryTable(filter: EntryFilter = {}): Promise<EntryTable> {
    return this.listing.listEntryTable(filter);
  }

  async findByPath(path: string): Promise<EntrySummary[]> {
    return this.listing.findByPath(path);
  }

  async resolvePath(path: string): Promise<EntrySummary> {
    return this.listing.resolvePath(path);
  }

  async getEntry(id: number): Promise<EntryDetails> {
    return this.listing.getEntry(id);
  }

  /** The TOTP keys this person hands the team server for groups set to "server computes codes" (codes-service.ts). */
  async serverCodeKeys(): Promise<ServerCodeKeysView> {
    return this.codes.serverCodeKeys();
  }

  /** The entry's code at `atMs`, or now (by the vault's clock, in the transaction) when left out: codes-service.ts. */
  async otpCode(id: number, atMs?: number, purpose?: CodePurpose, fromServer?: ServerCodeSource): Promise<(TotpCode | HotpCode) & { readonly kind: OtpKind }> {
    return this.codes.otpCode(id, atMs, purpose, fromServer);
  }

  async revealPassword(id: number, purpose?: 'reveal' | 'copy'): Promise<string> {
    return this.codes.revealPassword(id, purpose);
  }

  async revealOtpSecret(id: number): Promise<RevealedOtp> {
    return this.codes.revealOtpSecret(id);
  }

  async createEntry(input: EntryInput): Promise<EntrySummary> {
    return this.entries.create(input);
  }

  async createEntries(inputs: readonly EntryInput[]): Promise<EntrySummary[]> {
    return this.entries.createMany(inputs);
  }

  /** `baseRevision`: the revision the change was made from (required; CONFLICT when stale). */
  async updateEntry(id: number, changes: EntryChanges, baseRevision: number): Promise<EntrySummary> {
    return this.entries.update(id, changes, baseRevision);
  }

  /** `baseRevision` as for updateEntry. */
  async deleteEntry(id: number, baseRevision: number): Promise<void> {
    return this.entries.delete(id, baseRevision);
  }

  async importOtpauth(text: string, options?: { customer?: string; groupId?: number }): Promise<ImportResult> {
    return this.importExport.importOtpauth(text, options);
  }

  async importEntries(read: SharedImportResult, plan: ImportPlan): Promise<ImportOutcome> {
    return this.importExport.importEntries(read, plan);
  }

  async exportEntries(password: string, plan: ExportPlan): Promise<ExportOutcome> {
    return this.importExport.exportEntries(password, plan);
  }

  async createUser(name: string, role: Role, password: string, kdf?: KdfOptions): Promise<UserView> {
    return this.team.createUser(name, role, password, kdf);
  }

  async settings(): Promise<VaultSettingsView> {
    return this.vaultSettings.read();
  }

  /** `baseRevision`: the settings' revision the caller read (`settings().revision`), #13. */
  async updateSettings(changes: Partial<VaultSettings>, baseRevision: number): Promise<VaultSettingsView> {
    return this.vaultSettings.update(changes, baseRevision);
  }

  async verifyAuditLog(): Promise<{ readonly chain: AuditVerification; readonly anchor: AnchorCheck }> {
    return this.auditReader.verify();
  }

  async auditLog(limit?: number): Promise<AuditRecord[]> {
    return this.auditReader.log(limit);
  }

  /** One page of the whole log, oldest first (audit-reading.ts): what an export reads. */
  async auditExportPage(after?: number, limit?: number): Promise<AuditExportPage> {
    return this.auditReader.exportPage(after, limit);
  }

  /** The whole log, page by page, oldest first: each page its own read, so memory stays bounded. */
  async *auditExport(): AsyncGenerator<AuditRecord[]> {
    let after: number | null = 0;
    while (after !== null) {
      const page: AuditExportPage = await this.auditReader.exportPage(after);
      if (page.records.length > 0) yield page.records;
      after = page.next;
    }
  }

  /** Locks, then closes the vault's store (WAL folded in). For a session that owns its store,
   * as the one createVault returns does; a Vault's own close() is then a no-op. */
  async close(): Promise<void> {
    this.lock();
    await this.store.close();
  }

  /**
   * Finishes schema 10 for an owner: what was sealed by row id is sealed by global id
   * (id-seals.ts). Returns how many entries, names and key wraps moved (0 for anyone else, or
   * once done: a read of one meta row); audited as vault.ids_resealed.
   */
  async finishGlobalIds(): Promise<ResealCount> {
    const none = { entries: 0, names: 0, keys: 0 };
    if (this.closed || this.user.role !== 'owner' || !(await this.store.read((r) => ownerResealPending(r)))) return none;
    return this.write((w) => {
      const count = resealSharedByGlobalId(w, this.ring, (customerId) => this.customerNames.name(w, customerId));
      if (count.entries + count.names + count.keys > 0) {
        this.audit(w, { action: 'vault.ids_resealed' }, `${count.entries} entries, ${count.names} names and ${count.keys} keys now sealed by global id`);
      }
      return count;
    });
  }

  /**
   * Finishes schema 6 for an owner (who holds every group's key): groups that still seal their
   * secrets under their list key get a secret key of their own (audited as vault.keys_split); and
   * groups where someone holds a secret key their role may not hold there are rotated away from
   * them (a vault from before the server-codes rule, team.ts takeStraySecretKeys; an admin's
   * sign-in does this part too). Returns how many groups were rotated (0 for anyone else, or once done).
   */
  async finishKeySplit(): Promise<number> {
    // Stray secret keys are taken at an admin's sign-in too (an admin holds every group): a team whose owner never signs in on a desktop.
    if (this.closed || !ALL_GROUP_ROLES.includes(this.user.role)) return 0;
    // A read first: every owner sign-in (each `crewvault otp`) asks, and almost always nothing is left.
    const owner = this.user.role === 'owner';
    const left = await this.store.read((r) => ({ unsplit: owner && unsplitGroupIds(r).length > 0, stray: groupsWithStraySecretKeys(r, this.ring.groups.keys()).length > 0 }));
    return (left.unsplit ? await this.team.splitLegacyKeys() : 0) + (left.stray ? await this.team.takeStraySecretKeys() : 0);
  }

  /**
   * Records, as this owner, that a backup of the vault is being taken (backup.ts), keyed and
   * anchored like every act: written before the snapshot, so the backup holds its own row.
   */
  async recordBackup(detail: string): Promise<void> {
    await this.write((w) => {
      this.refreshUser(w);
      if (this.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only an owner may back up the vault.');
      this.audit(w, { action: 'vault.backup', subject: this.user.name }, detail);
    });
  }

  /**
   * Reads the person's row afresh (refreshUser): LOCKED once the session has ended — locked, the
   * account disabled, the password changed or the second step reset elsewhere. The sign-in rules
   * (sign-in-flow.ts admitSession) ask this before every command or call, at every door.
   */
  async recheck(): Promise<void> {
    if (this.closed) throw lockedError();
    await this.store.read((r) => this.refreshUser(r));
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

function lockedError(): CrewvaultError {
  return new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
}
