/**
 * What a signed-in person can do with the vault: list and search, look up "Customer/Title",
 * create, edit and delete entries, compute codes, reveal secrets, import, read the audit log.
 * Every call checks the role (shared/policy) and group membership (the key ring), and audits
 * what DESIGN.md says is audited, in the same transaction as the change it records.
 * Returns opened views only; a password or OTP secret leaves only through a reveal* call.
 */
import { CrewvaultError } from '../../shared/errors';
import { hasC1Control, hasControlCharacter, lookAlikeProblem, normaliseNameText, printable } from '../../shared/text';
import type { AuditRecord, CustomerView, EntryChanges, EntryDetails, EntryInput, EntrySummary, EntryTable, OtpInput, UserView, VaultSettings } from '../../shared/model';
import { tableEntries } from '../../shared/entry-table';
import { readOtpauthList } from '../../shared/import/otpauth';
import type { ImportProblem as SharedImportProblem, ImportResult as SharedImportResult } from '../../shared/import/types';
import type { ExportEntry } from '../../shared/export/types';
import {
  buildOtpUri,
  groupSecret,
  hotpCode,
  timeStep,
  totpCode,
  validateOtpParams,
  type HotpCode,
  type OtpKind,
  type TotpCode,
} from '../../shared/otp';
import { can, whyNotActOn, whyNotManageVault, type Permission, type Person, type Role } from '../../shared/policy';
import type { KeyObject } from 'node:crypto';
import { batchKey, deriveKek, exportPrivateKey, newKdfParams, open, openJson, seal, sealJson } from './crypto';
import { checkpoint, withWrite, type ReadDb, type WriteDb } from './db';
import { newUid, uidText } from './ids';
import { contexts, customerIndex, entryLookup, type GroupKey, type KeyRing, type ObjectRef, type StoredRef } from './keys';
import { refOf } from './store-ids';
import { ownerResealPending, resealSharedByGlobalId, type ResealCount } from './id-seals';
import { changesBetween, currentSequence, type ChangeSet } from './store-changes';
import {
  detailsView,
  openDetails,
  openSummary,
  sealDetails,
  sealSummary,
  storedOtp,
  summaryView,
  type SealedDetails,
  type SealedSummary,
} from './sealed-entry';
import { appendAudit, lastEntryActionAt, listAuditRows, verifyAuditChain, type AnchorCheck, type AuditFields, type AuditVerification } from './store-audit';
import { countEntriesByCustomer, findCustomerByIndex, getCustomerRow, insertCustomer, listCustomerRows } from './store-customers';
import { openPage, PageChanges, type PageItem } from './entry-pages';
import { NAME_ORDER, orderedTable } from './entry-order';
import { rolePermissions } from './store-roles';
import { MfaService } from './mfa';
import { TeamService } from './team';
import { deletePagesOfGroup, entryCountsByGroup, listPagesInGroups, type PageRow } from './store-pages';
import { deleteEntryRow, findEntryRowsByLookup, getEntryRow, insertEntryRow, listEntryRowsInGroups, updateEntryRow, type EntryRow } from './store-entries';
import { groupKeysOfUser, unsplitGroupIds } from './store-groups';
import { openHeldGroupKey } from './group-keys';
import { openAuditDetail, sealAuditDetail, syncDirectory } from './directory';
import { getSetting, setSetting } from './store-meta';
import { claimPasswordAttempt, getUser, listUsers, releasePasswordClaim, setUserPasswordSeal, type UserRow } from './store-users';
import { parseKdf, validateNewPassword, type KdfOptions } from './records';

export interface Clock {
  readonly now: () => number;
}

export const OTP_AUDIT_INTERVAL_MS = 10 * 60_000;
/** How often a role without otp.reveal_secret may take the next HOTP code of one entry. */
export const HOTP_CODE_INTERVAL_MS = 30_000;

export type { VaultSettings } from '../../shared/model';
export const DEFAULT_SETTINGS: VaultSettings = { idleLockMinutes: 10, clipboardClearSeconds: 30, trustDeviceDays: 30 };
const SETTING_KEYS: Readonly<Record<keyof VaultSettings, string>> = {
  idleLockMinutes: 'idle_lock_minutes',
  clipboardClearSeconds: 'clipboard_clear_seconds',
  trustDeviceDays: 'trust_device_days',
};

export const FIELD_LIMITS = { customer: 200, title: 200, username: 500, password: 10_000, url: 2_000, notes: 20_000 } as const;

export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

export interface ImportResult {
  readonly added: EntrySummary[];
  readonly problems: ImportProblem[];
}

/** Where an import goes: one access group, and one customer for every entry when given. */
export interface ImportPlan {
  readonly customer?: string;
  readonly groupId?: number;
  /** false: a preview that writes nothing. */
  readonly commit: boolean;
}

export interface ImportOutcome {
  /** Empty for a preview. */
  readonly added: EntrySummary[];
  /** What goes in, per customer. */
  readonly byCustomer: ReadonlyArray<{ readonly customer: string; readonly count: number }>;
  readonly groupName: string;
  readonly problems: SharedImportProblem[];
  readonly duplicates: SharedImportProblem[];
  readonly committed: boolean;
}

/** What a plain export asks the vault for (exportEntries). */
export interface ExportPlan {
  /** The format's name, for the audit row. */
  readonly format: string;
  /** The format holds one-time passwords only: entries without one are not opened, only counted. */
  readonly otpOnly: boolean;
}

export interface ExportOutcome {
  /** Opened, in the list's order (customer, then title). */
  readonly entries: ExportEntry[];
  /** Left out because the format holds one-time passwords only. */
  readonly withoutOtp: number;
}

/** Duplicates are the same OTP key, issuer and account (case aside). */
function otpFingerprint(secret: string, issuer: string | undefined, account: string): string {
  return `${secret}\n${(issuer ?? '').toLowerCase()}\n${account.toLowerCase()}`;
}

export interface RevealedOtp {
  /** Normalised key, in groups of four. */
  readonly secret: string;
  readonly uri: string;
}

function forbidden(permission: Permission): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', `Your role may not do this (needs permission ${permission}).`);
}

function notFound(): CrewvaultError {
  return new CrewvaultError('NOT_FOUND', 'No such entry.');
}

function field(value: string | undefined, name: keyof typeof FIELD_LIMITS, required: boolean): string {
  // Names are compared by eye and by keyed index: one Unicode form, and no invisible characters.
  const text = name === 'password' || name === 'notes' ? (value ?? '') : name === 'customer' || name === 'title' ? normaliseNameText(value ?? '') : (value ?? '').trim();
  const label = `${name[0]?.toUpperCase()}${name.slice(1)}`;
  // What a person reads to tell entries apart (and "Customer/Title" finds) must look like what it is.
  const lookAlike = name === 'customer' || name === 'title' || name === 'username' || name === 'url' ? lookAlikeProblem(label, text) : undefined;
  if (lookAlike) throw new CrewvaultError('INVALID_INPUT', lookAlike);
  if (required && text.length === 0) throw new CrewvaultError('INVALID_INPUT', `${name[0]?.toUpperCase()}${name.slice(1)} is required.`);
  if (text.length > FIELD_LIMITS[name]) throw new CrewvaultError('INVALID_INPUT', `${name[0]?.toUpperCase()}${name.slice(1)} is longer than ${FIELD_LIMITS[name]} characters.`);
  if (name !== 'notes' && name !== 'password' && (hasControlCharacter(text) || hasC1Control(text))) {
    throw new CrewvaultError('INVALID_INPUT', `${name[0]?.toUpperCase()}${name.slice(1)} contains a control character.`);
  }
  return text;
}

function otpFromInput(otp: OtpInput | null | undefined): SealedDetails['otp'] {
  if (!otp) return null;
  const params = validateOtpParams(otp.params);
  const issuer = otp.issuer === undefined ? undefined : otpIssuer(otp.issuer);
  return { ...params, ...(issuer ? { issuer } : {}) };
}

/** An OTP issuer is shown beside the code and built into URIs: a name, held to a name's rules. */
function otpIssuer(issuer: string): string {
  const text = normaliseNameText(issuer);
  if (text.length > FIELD_LIMITS.customer) throw new CrewvaultError('INVALID_INPUT', `OTP issuer is longer than ${FIELD_LIMITS.customer} characters.`);
  const lookAlike = lookAlikeProblem('OTP issuer', text);
  if (lookAlike) throw new CrewvaultError('INVALID_INPUT', lookAlike);
  return text;
}

/** Splits "Customer/Title" at every slash: either side may hold slashes of its own. */
export function pathCandidates(path: string): Array<{ customer: string; title: string }> {
  const out: Array<{ customer: string; title: string }> = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const customer = path.slice(0, i).trim();
    const title = path.slice(i + 1).trim();
    if (customer && title) out.push({ customer, title });
  }
  return out;
}

export class VaultSession {
  private currentUser: UserView;
  private readonly db: ReadDb;
  private readonly clock: Clock;
  private readonly ring: KeyRing;
  /** This person's row and global id, which what they seal for themselves names. */
  private readonly userRef: StoredRef;
  private customerNames = new Map<number, string>();
  private readonly otpAuditedAt = new Map<number, number>();
  private readonly pages = new PageChanges();
  /** The KDF record this session signed in with; another one means the password changed. */
  private signedInKdf: string | undefined;
  private mustChange = false;
  private closed = false;

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
  async changePassword(current: string, next: string, kdf: KdfOptions = {}): Promise<void> {
    if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    this.refreshUser();
    validateNewPassword(next);
    if (current === next) throw new CrewvaultError('INVALID_INPUT', 'The new password must differ from the current one.');
    await this.confirmPassword(current);
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

  constructor(db: ReadDb, clock: Clock, user: UserView, ring: KeyRing, auditAnchor: AnchorCheck = { ok: true, anchoredRow: 0 }) {
    this.auditAnchorAtSignIn = auditAnchor;
    this.db = db;
    this.clock = clock;
    this.currentUser = user;
    this.ring = ring;
    const row = getUser(db, user.id);
    this.signedInKdf = row?.kdf;
    this.userRef = row ?? refOf(db, 'users', user.id);
    this.team = new TeamService({
      db,
      ring,
      user: () => this.user,
      pages: this.pages,
      now: () => this.clock.now(),
      write: (work) => this.write(work),
      audit: (w, fields, detail) => this.audit(w, fields, detail),
      require: (permission, groupId) => this.require(permission, groupId),
      permissions: () => this.permissions(),
      person: () => this.person(),
      requireActOn: (target) => this.requireActOn(target),
      customerName: (customerId) => this.customerName(customerId),
      defaultGroupId: () => this.defaultGroupId(),
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
    const key = this.ring.groups.get(groupId);
    if (!key) throw notFound(); // not a member: the entry does not exist for this person
    return key;
  }

  private customerName(customerId: number): string {
    const cached = this.customerNames.get(customerId);
    if (cached !== undefined) return cached;
    const row = getCustomerRow(this.db, customerId);
    if (!row) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: an entry refers to a missing customer.');
    const name = openJson(this.ring.directoryKey, row.sealed_name, contexts.customerName(row));
    if (typeof name !== 'string') throw new CrewvaultError('VAULT_TAMPERED', 'A customer name failed its integrity check.');
    this.customerNames.set(customerId, name);
    return name;
  }

  private loadCustomerNames(): void {
    let key: KeyObject | undefined; // made only when a name is missing: thousands open in a row
    for (const row of listCustomerRows(this.db)) {
      if (this.customerNames.has(row.id)) continue;
      key ??= batchKey(this.ring.directoryKey);
      const name = openJson(key, row.sealed_name, contexts.customerName(row));
      if (typeof name !== 'string') throw new CrewvaultError('VAULT_TAMPERED', 'A customer name failed its integrity check.');
      this.customerNames.set(row.id, name);
    }
  }

  private findOrCreateCustomer(db: WriteDb, name: string): ObjectRef & { readonly id: number } {
    const index = customerIndex(this.ring, name);
    const existing = findCustomerByIndex(db, index);
    if (existing) return existing;
    const now = this.clock.now();
    const uid = newUid(now);
    const id = insertCustomer(db, { uid, sealed_name: sealJson(this.ring.directoryKey, name, contexts.customerName({ uid })), name_index: index, created_at: now });
    this.customerNames.set(id, name);
    return { id, uid };
  }

  private defaultGroupId(): number {
    const configured = Number(getSetting(this.db, 'default_group_id'));
    if (this.ring.groups.has(configured)) return configured;
    const first = [...this.ring.groups.keys()][0];
    if (first === undefined) throw new CrewvaultError('FORBIDDEN', 'You are not a member of any access group.');
    return first;
  }

  private visibleRow(id: number): EntryRow {
    const row = getEntryRow(this.db, id);
    if (!row || !this.ring.groups.has(row.group_id)) throw notFound();
    return row;
  }

  /**
   * Seals and writes an entry: a new one (no `id`: it gets its global id here and is sealed
   * before it is inserted) or an existing one. The summary names the customer by global id.
   */
  private writeEntry(
    db: WriteDb,
    target: { readonly id?: number; readonly customer: ObjectRef & { readonly id: number }; readonly groupId: number },
    fields: Omit<SealedSummary, 'c'>,
    details: SealedDetails,
  ): { readonly row: EntryRow; readonly summary: SealedSummary } {
    const group = this.groupKey(target.groupId);
    const now = this.clock.now();
    const entry: ObjectRef = target.id === undefined ? { uid: newUid(now) } : refOf(db, 'entries', target.id);
    const summary: SealedSummary = { c: uidText(target.customer.uid), ...fields };
    const written = {
      customer_id: target.customer.id,
      group_id: target.groupId,
      key_version: group.version,
      lookup: entryLookup(group, this.customerName(target.customer.id), summary.t),
      sealed_summary: sealSummary(entry, group, summary),
      sealed_details: sealDetails(entry, group, details),
      updated_at: now,
    };
    const id = target.id ?? insertEntryRow(db, { uid: entry.uid, ...written, created_at: now });
    if (target.id !== undefined) updateEntryRow(db, { id, ...written });
    this.pages.set(target.groupId, [id, target.customer.id, summary.t, summary.u, summary.l, summary.o, now]);
    const row = getEntryRow(db, id);
    if (!row) throw notFound();
    return { row, summary };
  }

  /** Where a stored entry is, as writeEntry names it. */
  private entryPlace(row: EntryRow): { readonly id: number; readonly customer: ObjectRef & { readonly id: number }; readonly groupId: number } {
    return { id: row.id, customer: { id: row.customer_id, uid: row.customer_uid }, groupId: row.group_id };
  }

  /**
   * The entry `id` as this person may write it: CONFLICT when `baseRevision` (the revision
   * they read) is not the stored one — someone else wrote it since, and their change is not
   * to be overwritten unseen (schema 10).
   */
  private rowToWrite(id: number, baseRevision: number | undefined): EntryRow {
    const row = this.visibleRow(id);
    if (baseRevision !== undefined && baseRevision !== row.revision) {
      throw new CrewvaultError('CONFLICT', `This entry was changed since you opened it (revision ${baseRevision}, now ${row.revision}): open it again and redo your change.`);
    }
    return row;
  }

  /**
   * `allowed`: groups already checked for entries.create in this transaction (a bulk insert
   * asks once per group, not once per entry: the check re-reads the user and their keys).
   * `auditEach` false: the caller audits the whole batch in one row (an import).
   */
  private insertEntry(db: WriteDb, input: EntryInput, allowed?: Set<number>, auditEach = true): EntrySummary {
    const customer = field(input.customer, 'customer', true);
    const title = field(input.title, 'title', true);
    const username = field(input.username, 'username', false);
    const url = field(input.url, 'url', false);
    const details: SealedDetails = { p: field(input.password, 'password', false), n: field(input.notes, 'notes', false), otp: otpFromInput(input.otp) };
    const groupId = input.groupId ?? this.defaultGroupId();
    if (!allowed?.has(groupId)) {
      this.require('entries.create', groupId);
      allowed?.add(groupId);
    }
    const customerRef = this.findOrCreateCustomer(db, customer);
    const { row, summary } = this.writeEntry(db, { customer: customerRef, groupId }, { t: title, u: username, l: url, o: details.otp ? details.otp.kind : null }, details);
    if (auditEach) this.audit(db, { action: 'entry.create', entry_id: row.id, customer_id: row.customer_id, group_id: groupId }, `${customer}/${title}`);
    return summaryView(row, summary, customer);
  }

  // ---- reading ------------------------------------------------------------------------------

  listCustomers(): CustomerView[] {
    this.require('entries.view');
    this.loadCustomerNames();
    const counts = countEntriesByCustomer(this.db, [...this.ring.groups.keys()]);
    // A customer is shown to someone who can see one of its entries; owners see every one.
    const everyOne = this.user.role === 'owner';
    return [...this.customerNames.entries()]
      .filter(([id]) => everyOne || (counts.get(id) ?? 0) > 0)
      .map(([id, name]) => ({ id, name, entryCount: counts.get(id) ?? 0 }))
      .sort((a, b) => NAME_ORDER.compare(a.name, b.name));
  }

  /** Every visible entry, optionally of one customer and matching `search` in customer,
   * title, username or URL (case-insensitive). */
  listEntries(filter: { customer?: string; search?: string } = {}): EntrySummary[] {
    return tableEntries(this.listEntryTable(filter));
  }

  /** listEntries as columns (what the UI asks for: 100,000 entries in a fraction of the bytes). */
  listEntryTable(filter: { customer?: string; search?: string } = {}): EntryTable {
    this.require('entries.view');
    this.loadCustomerNames();
    const customerKey = filter.customer?.trim().toLowerCase();
    const needle = filter.search?.trim().toLowerCase();
    const items: PageItem[] = [];
    const groupIds: number[] = [];
    for (const page of this.currentPages()) {
      for (const item of openPage(page, this.groupKey(page.group_id))) {
        if (customerKey !== undefined || needle) {
          const [, customerId, title, username, url] = item;
          const customer = this.customerName(customerId);
          if (customerKey !== undefined && customer.toLowerCase() !== customerKey) continue;
          if (needle && ![customer, title, username, url].some((text) => text.toLowerCase().includes(needle))) continue;
        }
        items.push(item);
        groupIds.push(page.group_id);
      }
    }
    return orderedTable(items, groupIds, (customerId) => this.customerName(customerId));
  }

  /** The summary pages of every group this person holds, rebuilding any group whose pages
   * do not account for all its entries (a vault from before schema 2, or damage). */
  private currentPages(): PageRow[] {
    const groupIds = [...this.ring.groups.keys()];
    const pages = listPagesInGroups(this.db, groupIds);
    const paged = new Map<number, number>();
    for (const page of pages) paged.set(page.group_id, (paged.get(page.group_id) ?? 0) + page.entry_count);
    const counts = entryCountsByGroup(this.db, groupIds);
    const stale = groupIds.filter((groupId) => (paged.get(groupId) ?? 0) !== (counts.get(groupId) ?? 0));
    if (stale.length === 0) return pages;
    this.write((w) => {
      for (const groupId of stale) {
        deletePagesOfGroup(w, groupId);
        const group = this.groupKey(groupId);
        for (const row of listEntryRowsInGroups(w, [groupId])) {
          const summary = openSummary(row, group);
          this.pages.set(groupId, [row.id, row.customer_id, summary.t, summary.u, summary.l, summary.o, row.updated_at]);
        }
      }
    });
    return listPagesInGroups(this.db, groupIds);
  }

  /** Exact "Customer/Title" lookup through the keyed index: opens only the rows it finds. */
  findByPath(path: string): EntrySummary[] {
    this.require('entries.view');
    const candidates = pathCandidates(path);
    if (candidates.length === 0) throw new CrewvaultError('INVALID_INPUT', 'Name an entry as "Customer/Title".');
    const lookups: Buffer[] = [];
    for (const group of this.ring.groups.values()) for (const c of candidates) lookups.push(entryLookup(group, c.customer, c.title));
    return findEntryRowsByLookup(this.db, lookups)
      .filter((row) => this.ring.groups.has(row.group_id))
      .map((row) => summaryView(row, openSummary(row, this.groupKey(row.group_id)), this.customerName(row.customer_id)));
  }

  /** The one entry at `path`: NOT_FOUND or AMBIGUOUS (naming the matches) otherwise. */
  resolvePath(path: string): EntrySummary {
    const matches = this.findByPath(path);
    const [only] = matches;
    if (!only) throw new CrewvaultError('NOT_FOUND', `No entry named "${path}".`);
    if (matches.length > 1) {
      throw new CrewvaultError('AMBIGUOUS', `${matches.length} entries are named "${path}" (ids ${matches.map((m) => m.id).join(', ')}); rename one.`);
    }
    return only;
  }

  getEntry(id: number): EntryDetails {
    this.require('entries.view');
    const row = this.visibleRow(id);
    const group = this.groupKey(row.group_id);
    // Without the secret key (an auditor) the details stay sealed: the view says they are unknown.
    // Notes are sealed with the secrets: shown to those who may reveal a password, not to codes-only.
    return detailsView(row, openSummary(row, group), group.secret ? openDetails(row, group) : undefined, this.customerName(row.customer_id), this.permissions().includes('passwords.reveal'));
  }

  // ---- codes and reveals --------------------------------------------------------------------

  /**
   * The entry's code. TOTP/Steam: at `nowMs` — someone who may not see the key (codes-only)
   * gets the current step only (its result names the next code too, as the screen shows), so
   * codes cannot be collected ahead to use after access ends. HOTP: the code for the stored
   * counter, which then advances and is saved (a used HOTP code is never shown again).
   * Audited with the step or counter it was for: a copy, a code at another time and every HOTP
   * code each time; a screen's passive refresh once per entry per OTP_AUDIT_INTERVAL_MS.
   */
  otpCode(id: number, nowMs: number = this.clock.now(), purpose: 'view' | 'copy' = 'view'): (TotpCode | HotpCode) & { readonly kind: OtpKind } {
    this.require('otp.view');
    return this.write((w) => {
      const row = this.visibleRow(id);
      const group = this.groupKey(row.group_id);
      const summary = openSummary(row, group);
      const details = openDetails(row, group);
      const otp = storedOtp(details);
      if (!otp || !details.otp) throw new CrewvaultError('NOT_FOUND', 'This entry has no one-time password.');
      const path = `${this.customerName(row.customer_id)}/${summary.t}`;
      const audit = (detail: string): void => {
        this.audit(w, { action: purpose === 'copy' ? 'otp.copy' : 'otp.code', entry_id: id, customer_id: row.customer_id, group_id: row.group_id }, `${path} (${detail})`);
      };
      const mayLookAhead = this.permissions().includes('otp.reveal_secret');
      if (otp.params.kind === 'hotp') {
        // Each HOTP code is the next one the service will accept: someone who may not see the
        // key gets one at a time, one per HOTP_CODE_INTERVAL_MS, so codes cannot be collected
        // ahead in a burst (each is audited with its counter).
        if (!mayLookAhead) {
          const last = lastEntryActionAt(w, this.user.id, id, ['otp.code', 'otp.copy']);
          const now = this.clock.now();
          if (last !== undefined && now - last < HOTP_CODE_INTERVAL_MS) {
            throw new CrewvaultError('TOO_MANY_ATTEMPTS', `One HOTP code at a time for your role: the next in ${Math.ceil((last + HOTP_CODE_INTERVAL_MS - now) / 1000)} s.`);
          }
        }
        const result = hotpCode(otp.params);
        this.writeEntry(w, this.entryPlace(row), summary, { ...details, otp: { ...details.otp, counter: otp.params.counter + 1 } });
        audit(`HOTP counter ${result.counter}`);
        // The next HOTP code is the one the next person will be shown: someone who may not see
        // the key does not get it ahead (an empty string says "not shown").
        return { ...result, next: mayLookAhead ? result.next : '', kind: 'hotp' as const };
      }
      const now = this.clock.now();
      const step = timeStep(nowMs, otp.params.period);
      const currentStep = timeStep(now, otp.params.period);
      if (step !== currentStep && !mayLookAhead) {
        throw new CrewvaultError('FORBIDDEN', 'Your role shows only the current code (needs permission otp.reveal_secret for a code at another time).');
      }
      // A screen refreshes a visible code every period: one row per entry per interval says
      // "this person saw these codes" without burying the log. Anything else is an act.
      const last = this.otpAuditedAt.get(id);
      if (purpose === 'copy' || step !== currentStep || last === undefined || now - last >= OTP_AUDIT_INTERVAL_MS) {
        audit(`step ${step}`);
        if (purpose === 'view' && step === currentStep) this.otpAuditedAt.set(id, now);
      }
      return { ...totpCode(otp.params, nowMs), kind: otp.params.kind };
    });
  }

  /** The entry's password; `purpose` names the audit action (a copy is audited as one). */
  revealPassword(id: number, purpose: 'reveal' | 'copy' = 'reveal'): string {
    this.require('passwords.reveal');
    return this.reveal(id, `password.${purpose}`, (details) => details.p);
  }

  revealOtpSecret(id: number): RevealedOtp {
    this.require('otp.reveal_secret');
    return this.reveal(id, 'otp.reveal_secret', (details, summary, customer) => {
      const otp = storedOtp(details);
      if (!otp) throw new CrewvaultError('NOT_FOUND', 'This entry has no one-time password.');
      const issuer = otp.issuer ?? customer;
      return { secret: groupSecret(otp.params.secret), uri: buildOtpUri({ params: otp.params, issuer, account: summary.u || summary.t }) };
    });
  }

  private reveal<T>(id: number, action: string, pick: (details: SealedDetails, summary: SealedSummary, customer: string) => T): T {
    return this.write((w) => {
      const row = this.visibleRow(id);
      const group = this.groupKey(row.group_id);
      const summary = openSummary(row, group);
      const customer = this.customerName(row.customer_id);
      const value = pick(openDetails(row, group), summary, customer);
      this.audit(w, { action, entry_id: id, customer_id: row.customer_id, group_id: row.group_id }, `${customer}/${summary.t}`);
      return value;
    });
  }

  // ---- changing -----------------------------------------------------------------------------

  createEntry(input: EntryInput): EntrySummary {
    this.require('entries.create');
    return this.write((w) => this.insertEntry(w, input));
  }

  /** Creates many entries in one transaction (imports, benches): all or nothing. */
  createEntries(inputs: readonly EntryInput[]): EntrySummary[] {
    this.require('entries.create');
    return this.write((w) => {
      const allowed = new Set<number>();
      return inputs.map((input) => this.insertEntry(w, input, allowed));
    });
  }

  /** `baseRevision`: the revision the change was made from (EntrySummary.revision); CONFLICT when it is stale. */
  updateEntry(id: number, changes: EntryChanges, baseRevision?: number): EntrySummary {
    this.require('entries.edit');
    return this.write((w) => {
      const row = this.rowToWrite(id, baseRevision);
      const group = this.groupKey(row.group_id);
      const summary = openSummary(row, group);
      const details = openDetails(row, group);
      const customer = changes.customer === undefined ? this.customerName(row.customer_id) : field(changes.customer, 'customer', true);
      const place = this.entryPlace(row);
      const customerRef = changes.customer === undefined ? place.customer : this.findOrCreateCustomer(w, customer);
      const nextSummary: Omit<SealedSummary, 'c'> = {
        t: changes.title === undefined ? summary.t : field(changes.title, 'title', true),
        u: changes.username === undefined ? summary.u : field(changes.username, 'username', false),
        l: changes.url === undefined ? summary.l : field(changes.url, 'url', false),
        o: changes.otp === undefined ? summary.o : changes.otp ? changes.otp.params.kind : null,
      };
      const nextDetails: SealedDetails = {
        p: changes.password === undefined ? details.p : field(changes.password, 'password', false),
        n: changes.notes === undefined ? details.n : field(changes.notes, 'notes', false),
        otp: changes.otp === undefined ? details.otp : otpFromInput(changes.otp),
      };
      const stored = this.writeEntry(w, { ...place, customer: customerRef }, nextSummary, nextDetails);
      // Which fields changed, never their values.
      const changed = Object.keys(changes).filter((k) => changes[k as keyof EntryChanges] !== undefined).sort().join(', ');
      this.audit(w, { action: changes.otp === null && changed === 'otp' ? 'entry.remove_otp' : 'entry.edit', entry_id: id, customer_id: customerRef.id, group_id: row.group_id }, `${customer}/${nextSummary.t} (${changed || 'nothing'})`);
      return summaryView(stored.row, stored.summary, customer);
    });
  }

  /** Leaves a tombstone (store-entries.ts); `baseRevision` as for updateEntry. */
  deleteEntry(id: number, baseRevision?: number): void {
    this.require('entries.delete');
    this.write((w) => {
      const row = this.rowToWrite(id, baseRevision);
      const summary = openSummary(row, this.groupKey(row.group_id));
      this.audit(w, { action: 'entry.delete', entry_id: id, customer_id: row.customer_id, group_id: row.group_id }, `${this.customerName(row.customer_id)}/${summary.t}`);
      deleteEntryRow(w, id, this.clock.now());
      this.pages.remove(row.group_id, id);
    });
  }

  /** One otpauth:// (or otpauth-migration://) URI per line; blank lines and # comments are
   * skipped. Good lines are committed together; bad ones are reported by line number. */
  importOtpauth(text: string, options: { customer?: string; groupId?: number } = {}): ImportResult {
    const outcome = this.importEntries(readOtpauthList(text), { ...options, commit: true });
    const lineOf = (where: string): number => Number(/^Line (\d+)$/.exec(where)?.[1] ?? 0);
    const problems = [...outcome.problems, ...outcome.duplicates].map((p) => ({ line: lineOf(p.where), message: `${p.where}: ${p.message}` }));
    return { added: outcome.added, problems: problems.sort((a, b) => a.line - b.line) };
  }

  /**
   * Imports what an importer read (shared/import) into one access group: each entry checked on
   * its own (field limits, control characters, OTP settings), so a bad one is a problem naming
   * where it was and the rest go in; duplicates of what is already in the vault, or earlier in
   * the same file (same OTP key, issuer and account), are reported and skipped. `commit: false`
   * is the preview: the same answer, nothing written. What is committed is committed in one
   * transaction, audited with its counts (never its secrets).
   */
  importEntries(read: SharedImportResult, plan: ImportPlan): ImportOutcome {
    this.require('entries.create');
    // The same --customer for every entry: wrong once is wrong for all, so it fails the import.
    const fixedCustomer = plan.customer === undefined ? undefined : field(plan.customer, 'customer', true);
    const groupId = plan.groupId ?? this.defaultGroupId();
    this.require('entries.create', groupId);
    // What the file says is printed back to a terminal or a screen: made printable, and short.
    const safe = (p: SharedImportProblem): SharedImportProblem => ({ where: printable(p.where, 80), message: printable(p.message, 300) });
    const problems: SharedImportProblem[] = read.problems.map(safe);
    const duplicates: SharedImportProblem[] = [];
    const inputs: EntryInput[] = [];
    const seen = this.otpFingerprints();
    read.entries.forEach((entry, i) => {
      const where = printable(read.where?.[i] ?? `entry ${i + 1} '${entry.title}'`, 80);
      const customer = fixedCustomer ?? entry.customer;
      if (!customer) {
        problems.push({ where, message: 'no issuer to use as the customer (pass --customer).' });
        return;
      }
      try {
        // Checked in the order a person reads them: the first problem named is the first field.
        const fields = {
          customer: field(customer, 'customer', true),
          title: field(entry.title, 'title', true),
          username: field(entry.username, 'username', false),
          url: field(entry.url, 'url', false),
          password: field(entry.password, 'password', false),
          notes: field(entry.notes, 'notes', false),
        };
        const username = fields.username;
        const issuer = entry.otp?.issuer ? otpIssuer(entry.otp.issuer) : undefined;
        const otp = entry.otp ? { params: validateOtpParams(entry.otp.params), ...(issuer ? { issuer } : {}) } : null;
        const input: EntryInput = { ...fields, otp, groupId };
        if (otp) {
          const fingerprint = otpFingerprint(otp.params.secret, otp.issuer, username);
          if (seen.has(fingerprint)) {
            duplicates.push({ where, message: 'already in the vault (same OTP key, issuer and account): skipped.' });
            return;
          }
          seen.add(fingerprint);
        }
        inputs.push(input);
      } catch (error) {
        if (!(error instanceof CrewvaultError)) throw error;
        problems.push({ where, message: printable(error.message, 300) });
      }
    });
    const counts = new Map<string, number>();
    for (const input of inputs) counts.set(input.customer, (counts.get(input.customer) ?? 0) + 1);
    const byCustomer = [...counts].map(([customer, count]) => ({ customer, count })).sort((a, b) => NAME_ORDER.compare(a.customer, b.customer));
    const groupName = this.team.listGroups().find((g) => g.id === groupId)?.name ?? '';
    if (!plan.commit) return { added: [], byCustomer, groupName, problems, duplicates, committed: false };
    const added = this.write((w) => {
      const allowed = new Set<number>();
      // One audit row for the import (its format and counts), not one per entry: 100,000
      // entry.create rows would bury what people did (issue #11's complaint about the log).
      const created = inputs.map((input) => this.insertEntry(w, input, allowed, false));
      this.audit(w, { action: 'entries.import', group_id: groupId }, `${read.format}: ${created.length} added, ${problems.length} skipped, ${duplicates.length} duplicates`);
      return created;
    });
    return { added, byCustomer, groupName, problems, duplicates, committed: true };
  }

  /**
   * Every entry of every group whose secret key this person holds, opened for a plain export
   * (issue #12): the file will hold passwords, notes and OTP keys, so this needs both
   * passwords.reveal and otp.reveal_secret, and the person's password again (a session left
   * open is not enough). Opened and audited ("entries.export": the format and the counts,
   * never a secret) in one write transaction, with the permissions checked again inside it:
   * a role taken away while the password was being checked exports nothing.
   */
  async exportEntries(password: string, plan: ExportPlan): Promise<ExportOutcome> {
    this.require('passwords.reveal');
    this.require('otp.reveal_secret');
    await this.confirmPassword(password);
    return this.write((w) => {
      this.require('passwords.reveal');
      this.require('otp.reveal_secret');
      this.loadCustomerNames();
      const entries: ExportEntry[] = [];
      let withoutOtp = 0;
      for (const [groupId, group] of this.ring.groups) {
        if (!group.secret) continue;
        for (const row of listEntryRowsInGroups(w, [groupId])) {
          const summary = openSummary(row, group);
          const details = openDetails(row, group);
          const otp = storedOtp(details);
          if (plan.otpOnly && !otp) {
            withoutOtp++;
            continue;
          }
          entries.push({
            customer: this.customerName(row.customer_id),
            title: summary.t,
            username: summary.u,
            password: details.p,
            url: summary.l,
            notes: details.n,
            otp,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
          });
        }
      }
      entries.sort((a, b) => NAME_ORDER.compare(a.customer, b.customer) || NAME_ORDER.compare(a.title, b.title));
      const withOtp = entries.filter((e) => e.otp).length;
      this.audit(w, { action: 'entries.export' }, `${plan.format}: ${entries.length} exported (${withOtp} with a one-time password), ${withoutOtp} without one left out`);
      return { entries, withoutOtp };
    });
  }

  /** Every OTP key this person can open, as duplicate fingerprints (import). */
  private otpFingerprints(): Set<string> {
    const seen = new Set<string>();
    for (const [groupId, group] of this.ring.groups) {
      if (!group.secret) continue;
      for (const row of listEntryRowsInGroups(this.db, [groupId])) {
        const details = openDetails(row, group);
        if (details.otp) seen.add(otpFingerprint(details.otp.secret, details.otp.issuer, openSummary(row, group).u));
      }
    }
    return seen;
  }

  /** A new person (TeamService.createUser); kept here so callers keep their session API. */
  createUser(name: string, role: Role, password: string, kdf: KdfOptions = {}): Promise<UserView> {
    return this.team.createUser(name, role, password, kdf);
  }

  /** Vault-wide settings, defaults filled in. Readable by every signed-in person. */
  settings(): VaultSettings {
    if (this.closed) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    const number = (key: string, fallback: number): number => {
      const value = Number(getSetting(this.db, key));
      return Number.isFinite(value) && value >= 0 ? value : fallback;
    };
    return {
      idleLockMinutes: number(SETTING_KEYS.idleLockMinutes, DEFAULT_SETTINGS.idleLockMinutes),
      clipboardClearSeconds: number(SETTING_KEYS.clipboardClearSeconds, DEFAULT_SETTINGS.clipboardClearSeconds),
      trustDeviceDays: number(SETTING_KEYS.trustDeviceDays, DEFAULT_SETTINGS.trustDeviceDays),
    };
  }

  /** Changes vault-wide settings (users.manage); each change is audited with its new value. */
  updateSettings(changes: Partial<VaultSettings>): VaultSettings {
    this.require('users.manage');
    const why = whyNotManageVault(this.person());
    if (why) throw new CrewvaultError('FORBIDDEN', why);
    const entries = Object.entries(changes).filter((e): e is [keyof VaultSettings, number] => e[0] in SETTING_KEYS && typeof e[1] === 'number');
    for (const [, value] of entries) {
      if (!Number.isInteger(value) || value < 0) throw new CrewvaultError('INVALID_INPUT', 'Settings are whole numbers, 0 or more.');
    }
    this.write((w) => {
      for (const [key, value] of entries) {
        setSetting(w, SETTING_KEYS[key], String(value));
        this.audit(w, { action: 'settings.update' }, `${key}: ${value}`);
      }
    });
    return this.settings();
  }

  // ---- audit --------------------------------------------------------------------------------

  /** The hash chain walked from the start, and the keyed anchor as this sign-in found it (audit.read). */
  verifyAuditLog(): { readonly chain: AuditVerification; readonly anchor: AnchorCheck } {
    this.require('audit.read');
    return { chain: verifyAuditChain(this.db), anchor: this.auditAnchorAtSignIn };
  }

  auditLog(limit = 1000): AuditRecord[] {
    this.require('audit.read');
    const names = new Map(listUsers(this.db).map((u) => [u.id, u.name]));
    return listAuditRows(this.db, limit).map((row) => {
      const detail = (row.sealed_detail ? openAuditDetail(this.db, this.ring, row, row.sealed_detail) : undefined) ?? row.subject ?? '';
      return { id: row.id, at: row.at, actor: row.actor_id === null ? null : (names.get(row.actor_id) ?? `#${row.actor_id}`), action: row.action, detail };
    });
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
    this.otpAuditedAt.clear();
  }
}
