/**
 * The opened views of vault data: what the UI, the CLI and the router hand around after the
 * main process has opened the sealed rows. A view never carries a password or an OTP secret;
 * those leave the main process only through an explicit, audited reveal.
 */
import type { OtpAlgorithm, OtpKind, OtpParams } from './otp';
import type { Permission, Role } from './policy';

export interface UserView {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

export interface CustomerView {
  readonly id: number;
  readonly name: string;
  /** Entries of this customer the viewer can see. */
  readonly entryCount: number;
}

export interface GroupView {
  readonly id: number;
  readonly name: string;
}

export interface GroupSummary extends GroupView {
  readonly members: number;
  readonly entries: number;
  /** Whether the person asking leads it. */
  readonly lead: boolean;
  /**
   * Whether it is the vault's default group: where an entry made without naming a group goes,
   * for a person who holds it (#11: the entry form offers "Default group" only to them).
   */
  readonly isDefault: boolean;
  /**
   * "Server computes codes" (#15): the team server holds this group's TOTP keys and computes
   * their codes; codes-only members hold no secret key of it. Off: end-to-end encrypted.
   */
  readonly serverCodes: boolean;
  /** The group's revision as read: a rename, delete, server-codes change or grant names it (#13). */
  readonly revision: number;
}

export interface MemberView extends UserView {
  readonly lead: boolean;
  /** The membership's revision as read: a lead change or removal names it (#13). */
  readonly revision: number;
}

export interface RoleView {
  readonly name: string;
  readonly permissions: readonly Permission[];
  readonly builtIn: boolean;
  /** A custom role's revision as read (a built-in one: 0, never written): a redefinition names it (#13). */
  readonly revision: number;
}

export interface UserAdminView extends UserView {
  readonly disabled: boolean;
  /** Two-step sign-in set up. */
  readonly mfa: boolean;
  /** The last correct password, in ms since the epoch; null if never. */
  readonly lastSignInAt: number | null;
  /** Computers trusted to skip the code step, not yet expired. */
  readonly trustedDevices: number;
  /** The user's revision as read: a role change, disable or password reset names it (#13). */
  readonly revision: number;
}

/** How long each entry field may be, in characters: the contract refuses longer input and the vault checks again. */
/** The app's appearance: follow the OS, or always light, or always dark (a UI setting of a computer). */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** What the app remembers on this computer outside any vault, for how it looks (electron/config.ts). */
export interface UiSettings {
  readonly theme: Theme;
}

export const FIELD_LIMITS = { customer: 200, title: 200, username: 500, password: 10_000, url: 2_000, notes: 20_000, issuer: 200 } as const;

/** The two-step sign-in policy levels, for everyone or per role. */
export const MFA_POLICY_LEVELS = ['off', 'optional', 'required'] as const;
export type MfaPolicyLevel = (typeof MFA_POLICY_LEVELS)[number];

/** What a list row shows. */
export interface EntrySummary {
  readonly id: number;
  readonly customerId: number;
  readonly customer: string;
  readonly groupId: number;
  readonly title: string;
  readonly username: string;
  readonly url: string;
  readonly otp: { readonly kind: OtpKind } | null;
  readonly updatedAt: number;
  /**
   * How many times it was written (schema 10): send it back with a change (`baseRevision`),
   * which a newer one refuses (CONFLICT). Absent in the list's columns (EntryTable).
   */
  readonly revision?: number;
}

/**
 * The entry list as columns, the shape `entries.list` answers with: entry `i` is `id[i]`,
 * `title[i]`, … in every column, already in list order (a table answering a search: in rank order, shared/search.ts), and each customer is named once
 * (`customer[i]` indexes `customerIds` and `customerNames`). 100,000 summaries as objects
 * are ~23 MB of JSON whose every key repeats; as columns they are well under half that, and
 * the page builds an object only for the rows it shows (shared/entry-table.ts).
 */
export interface EntryTable {
  readonly customerIds: readonly number[];
  readonly customerNames: readonly string[];
  readonly id: readonly number[];
  readonly customer: readonly number[];
  readonly groupId: readonly number[];
  readonly title: readonly string[];
  readonly username: readonly string[];
  readonly url: readonly string[];
  readonly otp: readonly (OtpKind | null)[];
  readonly updatedAt: readonly number[];
}

/**
 * The detail view: every field but the password and the OTP secret. For someone whose role
 * holds no secret key (an auditor), what is sealed with the secrets is unknown: `notes` and
 * `hasPassword` are null and `otp` names only its kind.
 */
export interface EntryDetails extends Omit<EntrySummary, 'otp' | 'revision'> {
  readonly revision: number;
  readonly notes: string | null;
  readonly hasPassword: boolean | null;
  readonly otp: {
    readonly kind: OtpKind;
    readonly algorithm?: OtpAlgorithm;
    readonly digits?: number;
    readonly period?: number;
    readonly issuer?: string;
  } | null;
  readonly createdAt: number;
}

export interface OtpInput {
  /** Normalised, validated parameters (secret included). */
  readonly params: OtpParams;
  readonly issuer?: string;
}

export interface EntryInput {
  readonly customer: string;
  readonly title: string;
  readonly username?: string;
  readonly password?: string;
  readonly url?: string;
  readonly notes?: string;
  readonly otp?: OtpInput | null;
  /** Access group id; the default group when absent. */
  readonly groupId?: number;
}

export type EntryChanges = Partial<Omit<EntryInput, 'groupId'>>;

export interface AuditRecord {
  readonly id: number;
  readonly at: number;
  readonly actor: string | null;
  readonly action: string;
  /** What the row is about, opened for the reader ("Acme Corp/Microsoft 365 admin"). */
  readonly detail: string;
}

/**
 * One page of the whole audit log, oldest first (audit.export): ask again with `after: next`
 * until `next` is null, and every row has been read once, however long the log.
 */
export interface AuditExportPage {
  readonly records: AuditRecord[];
  readonly next: number | null;
}

/** Vault-wide settings (owners and admins change them). */
export interface VaultSettings {
  readonly idleLockMinutes: number;
  readonly clipboardClearSeconds: number;
  /** How long "Trust this computer" lasts; 0 turns trusting computers off. */
  readonly trustDeviceDays: number;
}

/** The settings as read, with the revision a change names (#13): 0 until they are first changed. */
export interface VaultSettingsView extends VaultSettings {
  readonly revision: number;
}

/** The most each setting may be (the least is 0): the contract and the vault's own check both read these. */
export const SETTING_LIMITS: Readonly<Record<keyof VaultSettings, number>> = { idleLockMinutes: 24 * 60, clipboardClearSeconds: 3600, trustDeviceDays: 365 };
