/**
 * [Note: IPC contract] The one list of what the UI may ask of the main process. Kept in step
 * with two other files: electron/preload.ts (exposes exactly these methods as
 * window.crewvault) and electron/router.ts (handles exactly these). Each method is a specific
 * use case with a zod schema for its input and a result type — never "run this query".
 *
 * `access` says who may call: `public` (no session), `session` (any signed-in person), or a
 * permission from shared/policy. `activity: false` marks calls a screen makes on its own
 * (polling codes), which must not keep an idle session awake.
 */
import { z } from 'zod';
import type { AuditExportPage, AuditRecord, CustomerView, VaultSettingsView, EntryDetails, EntrySummary, GroupSummary, MemberView, MfaPolicyLevel, RoleView, UiSettings, UserAdminView, UserView } from '../model';
import { FIELD_LIMITS, MFA_POLICY_LEVELS, SETTING_LIMITS, THEMES } from '../model';
import { OTP_ALGORITHMS, OTP_KINDS } from '../otp';
import type { Permission } from '../policy';
import type { PackedEntryTable } from '../entry-table';
import type { MethodName } from './methods';
import type { CsvMapping } from '../import/types';
import { TEAM_CONTRACT } from './team-contract';
import { TEAM_ADMIN_CONTRACT } from './team-admin-contract';


const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const revision = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/**
 * The revision of a group, membership, custom role or user the caller read (#13): required on
 * every write of one, 0 naming "none yet" (a role being created). The vault compares it inside the
 * write (electron/vault/base-revision.ts): CONFLICT when someone wrote the object since.
 */
const baseRevision = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const text = (max: number) => z.string().max(max);

export const otpSpecSchema = z.strictObject({
  uri: text(4096).optional(),
  secret: text(4096).optional(),
  kind: z.enum(OTP_KINDS).optional(),
  algorithm: z.enum(OTP_ALGORITHMS).optional(),
  digits: z.number().int().optional(),
  period: z.number().int().optional(),
  counter: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  issuer: text(FIELD_LIMITS.issuer).optional(),
});

const entryFields = {
  customer: text(FIELD_LIMITS.customer),
  title: text(FIELD_LIMITS.title),
  username: text(FIELD_LIMITS.username).optional(),
  password: text(FIELD_LIMITS.password).optional(),
  url: text(FIELD_LIMITS.url).optional(),
  notes: text(FIELD_LIMITS.notes).optional(),
  otp: otpSpecSchema.nullable().optional(),
};

const userName = text(64);
const newPassword = text(1024);

export interface SessionState {
  /** `canPick`: the door has a native file dialog (`vault.pick`); else the UI asks for a path. */
  readonly vault: { readonly path: string; readonly exists: boolean; readonly canPick: boolean };
  readonly user: UserView | null;
  readonly permissions: readonly Permission[];
  /** Signed in with a one-time password: nothing else works until it is replaced. */
  readonly mustChangePassword: boolean;
  /** The password was right and a second step is due: a code, or setting up an authenticator. */
  readonly pending: {
    readonly step: 'code' | 'enrol';
    readonly username: string;
    /** Days "Trust this computer" would last; 0 hides the choice (turned off, or no keychain). */
    readonly trustDays: number;
  } | null;
  readonly settings: VaultSettingsView;
}

/** The vault's MFA policy: for everyone, and the roles that differ. */
export interface MfaPolicyView {
  readonly global: MfaPolicyLevel;
  readonly roles: Readonly<Record<string, MfaPolicyLevel>>;
  /** What mfa.setPolicy names as its baseRevision (#13): 0 until the policy is first set. */
  readonly revision: number;
}

/** A computer trusted to skip the code step; `current` is the one this session runs on. */
export interface TrustedDeviceView {
  readonly id: number;
  readonly label: string;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly expiresAt: number;
  readonly current: boolean;
}

export interface MfaStatus {
  readonly enabled: boolean;
  readonly recoveryCodesLeft: number;
  /** The policy for this person's role: off, optional or required. */
  readonly policy: 'off' | 'optional' | 'required';
}

export interface OtpCodeResult {
  readonly kind: 'totp' | 'hotp' | 'steam';
  readonly code: string;
  readonly next: string;
  /** TOTP/Steam only. */
  readonly period?: number;
  readonly remainingMs?: number;
  /** HOTP only: the counter of `code`. */
  readonly counter?: number;
}

/** `opened` when the door opened it; else the checked http(s) address for the page to open itself (the browser host). */
export type UrlOpenResult = { readonly opened: true } | { readonly opened: false; readonly url: string };

export interface CopyResult {
  /** Present only where the page itself must write the clipboard (the browser host). */
  readonly value?: string;
  readonly clearAfterSeconds: number;
}

export interface RevealResult {
  readonly password?: string;
  /** The OTP key in groups of four, and as an otpauth URI for another app. */
  readonly otpSecret?: string;
  readonly otpUri?: string;
}

/** One skipped or duplicate entry of an import, by where it was in the file (never a secret). */
export interface ImportNote {
  readonly where: string;
  readonly message: string;
}

/**
 * What an import would do, before anything is written (issue #12): the format recognised from
 * the content, what goes in per customer (into `groupName`, once a group is chosen), every
 * skipped entry with its reason, duplicates of what the vault holds. `needsPassword`: the
 * file is an encrypted export and nothing is read until its password is given.
 */
export interface ImportPreview {
  readonly format: string;
  readonly label: string;
  readonly needsPassword: boolean;
  readonly total: number;
  readonly byCustomer: ReadonlyArray<{ readonly customer: string; readonly count: number }>;
  readonly groupName: string;
  readonly problems: readonly ImportNote[];
  readonly duplicates: readonly ImportNote[];
  readonly warnings: readonly string[];
  /** A generic CSV before its columns are mapped: nothing is read until they are. */
  readonly needsMapping: boolean;
  /** The CSV's columns, and a first guess at which is which, for the mapping step. */
  readonly columns: readonly string[];
  readonly suggestedMapping: CsvMapping;
}

export interface ImportCommitted {
  readonly added: number;
  readonly skipped: number;
  readonly duplicatesSkipped: number;
  readonly groupName: string;
}

/** A file the vault wrote (backup, plain export); `path` null when the save dialog was cancelled. */
export interface FileWritten {
  readonly path: string | null;
  /** What went in: entries (backup: every row; export: those written). */
  readonly entries: number;
  /** Backup: users, groups and audit rows; export: entries left out for having no OTP. */
  readonly details: string;
}

/** The import formats (electron/import/registry.ts; a test keeps the two in step), after "auto". */
export const IMPORT_FORMATS = ['auto', 'aegis', '2fas', 'bitwarden', 'keepassxc-csv', '1password', 'ente', 'otpauth', 'csv', 'qr', 'kdbx'] as const;

/** The plain export formats (electron/export/registry.ts; a test keeps the two in step). */
export const EXPORT_FORMATS = ['otpauth', 'aegis', 'keepassxc-csv', 'kdbx'] as const;

/** The largest import the app takes (electron/import/registry.ts MAX_IMPORT_BYTES). */
export const MAX_IMPORT_FILE_BYTES = 64 * 1024 * 1024;

type Access = 'public' | 'session' | Permission;

interface MethodSpec<I extends z.ZodType, R> {
  readonly input: I;
  readonly access: Access;
  readonly activity: boolean;
  /** Phantom: the result type, for the client's typing. Never read at run time. */
  readonly result?: R;
}

function method<R>() {
  return <I extends z.ZodType>(input: I, access: Access, activity = true): MethodSpec<I, R> => ({ input, access, activity });
}

const empty = z.strictObject({});
/** A fresh proof for a sensitive change: a code from the person's app, or their password. */
const proof = z.strictObject({ code: text(16).optional(), password: newPassword.optional() });
const uploadId = z.string().regex(/^[0-9a-f]{32}$/);
/** Where the vault writes a file: a full path, or none to ask the door's save dialog. */
const targetPath = text(4096).optional();
/** What the person chose for an import: the group (required to commit), one customer for all. */
const csvColumn = text(200).optional();
const importTarget = {
  uploadId,
  /** A generic CSV's columns, as the person confirmed them. */
  mapping: z.strictObject({ title: csvColumn, customer: csvColumn, username: csvColumn, password: csvColumn, url: csvColumn, notes: csvColumn, otp: csvColumn }).optional(),
  format: z.enum(IMPORT_FORMATS).optional(),
  customer: text(FIELD_LIMITS.customer).optional(),
  includeDuplicates: z.boolean().optional(),
  /** The person saw the entries that cannot be imported and chose to import the rest without them. */
  skipProblems: z.boolean().optional(),
};

export const CONTRACT = {
  'session.state': method<SessionState>()(empty, 'public', false),
  'vault.create': method<SessionState>()(z.strictObject({ username: text(64), password: text(1024) }), 'public'),
  'vault.open': method<SessionState>()(z.strictObject({ path: text(4096) }), 'public'),
  'vault.pick': method<SessionState>()(empty, 'public'),
  // Before sign-in too: the sign-in screen has the chosen look. Only the appearance, never a secret.
  'ui.settings': method<UiSettings>()(empty, 'public', false),
  'ui.setTheme': method<UiSettings>()(z.strictObject({ theme: z.enum(THEMES) }), 'public', false),
  'session.signIn': method<SessionState>()(z.strictObject({ username: text(64), password: text(1024) }), 'public'),
  'session.lock': method<SessionState>()(empty, 'public'),
  'session.verifyCode': method<SessionState>()(z.strictObject({ code: text(16).optional(), recoveryCode: text(32).optional(), emergencyCode: text(16).optional(), trustDevice: z.boolean().optional() }), 'public'),
  /** Without `current` only to replace a one-time password just signed in with (the vault decides). */
  'session.changePassword': method<SessionState>()(z.strictObject({ current: newPassword.optional(), next: newPassword }), 'session'),
  'customers.list': method<CustomerView[]>()(empty, 'entries.view'),
  'entries.list': method<PackedEntryTable>()(z.strictObject({ customer: text(200).optional(), search: text(200).optional() }), 'entries.view'),
  'entries.get': method<EntryDetails>()(z.strictObject({ id }), 'entries.view'),
  'entries.create': method<EntrySummary>()(z.strictObject({ ...entryFields, groupId: id.optional() }), 'entries.create'),
  'entries.update': method<EntrySummary>()(z.strictObject({ id, baseRevision: revision, changes: z.strictObject(entryFields).partial() }), 'entries.edit'),
  'entries.delete': method<{ deleted: number }>()(z.strictObject({ id, baseRevision: revision }), 'entries.delete'),
  'otp.code': method<OtpCodeResult>()(z.strictObject({ id }), 'otp.view', false),
  'secrets.reveal': method<RevealResult>()(z.strictObject({ id, what: z.enum(['password', 'otpSecret']) }), 'session'),
  'secrets.copy': method<CopyResult>()(z.strictObject({ id, what: z.enum(['password', 'otpCode']) }), 'session'),
  /** Copies what the page already shows (recovery codes, an emergency code), with the same clearing as secrets. */
  'clipboard.copy': method<CopyResult>()(z.strictObject({ text: text(4096) }), 'session'),
  /** Opens the entry's stored URL, http(s) only, in the system browser through the door (Electron: the main process's shell.openExternal); a door with none hands back the address for the page to open. */
  'url.open': method<UrlOpenResult>()(z.strictObject({ id }), 'entries.view'),
  'audit.list': method<AuditRecord[]>()(z.strictObject({ limit: z.number().int().min(1).max(10_000).optional() }), 'audit.read'),
  /** The whole log a page at a time, oldest first (the screen's export): `after` a row id, `next` null at the end. */
  'audit.export': method<AuditExportPage>()(z.strictObject({ after: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(5000).optional() }), 'audit.read'),
  'groups.list': method<GroupSummary[]>()(empty, 'entries.view'),
  'groups.create': method<GroupSummary>()(z.strictObject({ name: text(100) }), 'groups.manage'),
  'groups.members': method<MemberView[]>()(z.strictObject({ id }), 'groups.manage'),
  'groups.grant': method<MemberView>()(z.strictObject({ id, username: userName, lead: z.boolean().optional(), baseRevision }), 'groups.manage'),
  'groups.revoke': method<{ revoked: string }>()(z.strictObject({ id, username: userName, baseRevision }), 'groups.manage'),
  /** Active users not in the group: whom a lead may add, picked from a list. */
  'groups.candidates': method<UserView[]>()(z.strictObject({ id }), 'groups.manage'),
  /** Promote or demote a member; the group's last lead is never demoted. */
  'groups.setLead': method<MemberView>()(z.strictObject({ id, username: userName, lead: z.boolean(), baseRevision }), 'groups.manage'),
  'groups.rename': method<GroupSummary>()(z.strictObject({ id, name: text(100), baseRevision }), 'groups.manage'),
  /** An empty group only, never the default nor the last; it becomes a tombstone that keeps no secret. */
  'groups.delete': method<{ deleted: string }>()(z.strictObject({ id, baseRevision }), 'groups.manage'),
  /** "Server computes codes" on or off (owners and admins; #15, docs/SYNC.md "Server-computed codes"). */
  'groups.setServerCodes': method<GroupSummary>()(z.strictObject({ id, on: z.boolean(), baseRevision }), 'groups.manage'),
  /** Change the group's key, nobody removed (its managers: owners, admins, its leads; #15, docs/SYNC.md "A key change owed"): sent at the next sync. */
  'groups.rotateKey': method<{ rotated: true }>()(z.strictObject({ id }), 'groups.manage'),
  /** `baseRevision`: the revision of the entry the mover saw (CONFLICT when someone wrote it since). */
  'entries.move': method<{ moved: number }>()(z.strictObject({ id, groupId: id, baseRevision: revision }), 'entries.edit'),
  'users.list': method<UserAdminView[]>()(empty, 'users.manage'),
  'users.create': method<UserView>()(z.strictObject({ username: userName, role: text(64), password: newPassword }), 'users.manage'),
  'users.disable': method<{ disabled: string }>()(z.strictObject({ username: userName, baseRevision }), 'users.manage'),
  'users.setRole': method<UserView>()(z.strictObject({ username: userName, role: text(64), baseRevision }), 'users.manage'),
  'users.resetPassword': method<{ reset: string }>()(z.strictObject({ username: userName, password: newPassword, baseRevision }), 'users.manage'),
  'roles.list': method<RoleView[]>()(empty, 'entries.view'),
  'mfa.status': method<MfaStatus>()(empty, 'session'),
  'mfa.begin': method<{ secret: string; uri: string }>()(proof, 'public'),
  'mfa.confirm': method<{ recoveryCodes: string[]; state: SessionState }>()(z.strictObject({ code: text(16) }), 'public'),
  'mfa.disable': method<MfaStatus>()(proof, 'session'),
  'mfa.regenerate': method<{ recoveryCodes: string[] }>()(proof, 'session'),
  'mfa.reset': method<{ reset: string }>()(z.strictObject({ username: userName, code: text(16).optional(), password: newPassword.optional() }), 'users.manage'),
  'mfa.emergency': method<{ code: string; expiresInSeconds: number }>()(z.strictObject({ username: userName }), 'users.manage'),
  'mfa.showKey': method<{ secret: string; uri: string }>()(proof, 'session'),
  'mfa.policy': method<MfaPolicyView>()(empty, 'users.manage'),
  'mfa.devices': method<{ devices: TrustedDeviceView[] }>()(z.strictObject({ username: userName.optional() }), 'session'),
  'mfa.forgetDevice': method<{ forgotten: number }>()(z.strictObject({ id }), 'session'),
  'settings.update': method<VaultSettingsView>()(z.strictObject({
    baseRevision,
    idleLockMinutes: z.number().int().min(0).max(SETTING_LIMITS.idleLockMinutes).optional(),
    clipboardClearSeconds: z.number().int().min(0).max(SETTING_LIMITS.clipboardClearSeconds).optional(),
    trustDeviceDays: z.number().int().min(0).max(SETTING_LIMITS.trustDeviceDays).optional(),
  }), 'users.manage'),
  'mfa.setPolicy': method<MfaStatus>()(z.strictObject({ level: z.enum(MFA_POLICY_LEVELS), role: text(64).optional(), baseRevision }), 'users.manage'),
  'import.begin': method<{ uploadId: string; chunkBytes: number }>()(z.strictObject({ size: z.number().int().min(1).max(MAX_IMPORT_FILE_BYTES) }), 'entries.create'),
  /** A chunk of the file, base64 (512 KiB of bytes at most: the browser host takes 1 MiB a call). */
  'import.chunk': method<{ received: number }>()(z.strictObject({ uploadId, offset: z.number().int().nonnegative().max(MAX_IMPORT_FILE_BYTES), data: z.string().max(700_000).regex(/^[A-Za-z0-9+/]*={0,2}$/) }), 'entries.create'),
  'import.preview': method<ImportPreview>()(z.strictObject({ ...importTarget, password: text(1024).optional(), groupId: id.optional() }), 'entries.create'),
  'import.commit': method<ImportCommitted>()(z.strictObject({ ...importTarget, groupId: id }), 'entries.create'),
  'import.cancel': method<{ cancelled: boolean }>()(z.strictObject({ uploadId }), 'session'),
  /** Owner only (the vault decides): the whole vault sealed under a backup password typed twice. */
  'vault.backup': method<FileWritten>()(z.strictObject({ path: targetPath, password: newPassword, backupPassword: newPassword, backupPasswordAgain: newPassword }), 'session'),
  /** Every entry the person can reveal, unencrypted: the password again, and `plaintext: true` said. */
  'vault.export': method<FileWritten>()(z.strictObject({ format: z.enum(EXPORT_FORMATS), path: targetPath, password: newPassword, plaintext: z.literal(true), databasePassword: newPassword.optional() }), 'session'),
  'roles.define': method<RoleView>()(z.strictObject({ name: text(64), permissions: z.array(text(64)).max(20), baseRevision }), 'users.manage'),
  ...TEAM_CONTRACT,
  ...TEAM_ADMIN_CONTRACT,
} as const satisfies { readonly [M in MethodName]: MethodSpec<z.ZodType, unknown> };

export type Contract = typeof CONTRACT;
export { METHOD_NAMES, isMethodName, type MethodName } from './methods';
export type MethodInput<M extends MethodName> = z.input<Contract[M]['input']>;
export type MethodResult<M extends MethodName> = NonNullable<Contract[M]['result']>;


/** The permission a reveal or copy needs, decided by what is asked for. */
export function secretPermission(what: 'password' | 'otpSecret' | 'otpCode'): Permission {
  return what === 'password' ? 'passwords.reveal' : what === 'otpSecret' ? 'otp.reveal_secret' : 'otp.view';
}

