/**
 * The sealed shape of an entry (Bitwarden's three shapes: stored row → sealed content →
 * opened view). This module turns one into the other and checks structure on the way in;
 * code that shows an entry never handles the sealed form.
 */
import { OTP_ALGORITHMS, OTP_KINDS, type OtpKind, type OtpParams } from '../../shared/otp';
import type { EntryDetails, EntrySummary } from '../../shared/model';
import { CrewvaultError } from '../../shared/errors';
import { openJson, sealJson, tampered } from './crypto';
import { uidText } from './ids';
import { contexts, type GroupKey, type ObjectRef } from './keys';
import type { EntryRow } from './store-entries';

/** What an entry's list line seals: c is the customer it was sealed for (a moved customer_id
 * shows) — its global id since schema 10, its row id before — then title, username, URL and
 * the OTP kind. */
export interface SealedSummary {
  readonly c: number | string;
  readonly t: string;
  readonly u: string;
  readonly l: string;
  readonly o: OtpKind | null;
}

/** The OTP parameters as sealed, with the issuer beside them. */
type SealedOtp = OtpParams & { readonly issuer?: string };

/** The rest: password, notes and the OTP parameters (secret included). */
export interface SealedDetails {
  readonly p: string;
  readonly n: string;
  readonly otp: SealedOtp | null;
}

export interface StoredOtp {
  readonly params: OtpParams;
  readonly issuer?: string;
}

export interface OpenedEntry {
  readonly row: EntryRow;
  readonly summary: SealedSummary;
}

// The shapes are checked by hand rather than with zod: the CLI opens one entry per run, and
// loading zod cost it about 18 MiB and 20 ms (the router, which parses requests, still uses it).
type Fields = Readonly<Record<string, unknown>>;
const KINDS: ReadonlySet<unknown> = new Set(OTP_KINDS);
const ALGORITHMS: ReadonlySet<unknown> = new Set(OTP_ALGORITHMS);

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown): value is number {
  return Number.isSafeInteger(value);
}

function isSummary(value: unknown): value is SealedSummary {
  return isObject(value) && (isInt(value.c) || typeof value.c === 'string') && typeof value.t === 'string' && typeof value.u === 'string'
    && typeof value.l === 'string' && (value.o === null || KINDS.has(value.o));
}

function isOtp(value: unknown): value is SealedOtp {
  return isObject(value) && KINDS.has(value.kind) && typeof value.secret === 'string' && ALGORITHMS.has(value.algorithm)
    && isInt(value.digits) && isInt(value.period) && isInt(value.counter)
    && (value.issuer === undefined || typeof value.issuer === 'string');
}

function isDetails(value: unknown): value is SealedDetails {
  return isObject(value) && typeof value.p === 'string' && typeof value.n === 'string' && (value.otp === null || isOtp(value.otp));
}

function parseOrTampered<T>(check: (value: unknown) => value is T, value: unknown): T {
  if (!check(value)) throw tampered();
  return value;
}

export function openSummary(row: EntryRow, group: GroupKey): SealedSummary {
  if (row.key_version !== group.version) throw tampered();
  const summary = parseOrTampered(isSummary, openJson(group.key, row.sealed_summary, contexts.entrySummary(row, row.key_version)));
  if (summary.c !== (typeof summary.c === 'number' ? row.customer_id : uidText(row.customer_uid))) throw tampered();
  return summary;
}

/** FORBIDDEN for someone whose role holds no secret key of the group (an auditor). */
function secretKey(group: GroupKey): Buffer {
  if (!group.secret) throw new CrewvaultError('FORBIDDEN', 'Your role holds no key to this entry\'s secrets (in a group whose codes the team server computes, only roles that may reveal OTP keys hold it).');
  return group.secret;
}

export function openDetails(row: EntryRow, group: GroupKey): SealedDetails {
  if (row.key_version !== group.version) throw tampered();
  return parseOrTampered(isDetails, openJson(secretKey(group), row.sealed_details, contexts.entryDetails(row, row.key_version)));
}

export function sealSummary(entry: ObjectRef, group: GroupKey, summary: SealedSummary): Buffer {
  return sealJson(group.key, summary, contexts.entrySummary(entry, group.version));
}

export function sealDetails(entry: ObjectRef, group: GroupKey, details: SealedDetails): Buffer {
  return sealJson(secretKey(group), details, contexts.entryDetails(entry, group.version));
}

export function storedOtp(details: SealedDetails): StoredOtp | null {
  if (!details.otp) return null;
  const { issuer, ...params } = details.otp;
  return issuer === undefined ? { params } : { params, issuer };
}

export function summaryView(row: EntryRow, summary: SealedSummary, customer: string): EntrySummary {
  return {
    id: row.id,
    customerId: row.customer_id,
    customer,
    groupId: row.group_id,
    title: summary.t,
    username: summary.u,
    url: summary.l,
    otp: summary.o ? { kind: summary.o } : null,
    updatedAt: row.updated_at,
    revision: row.revision,
  };
}

/**
 * `details` undefined: the viewer holds no secret key (an auditor), so notes, whether there is
 * a password and the OTP settings are unknown to them, and said to be (null). `showNotes`
 * false: notes are sealed with the secrets and this viewer may not reveal them (codes-only).
 */
export function detailsView(row: EntryRow, summary: SealedSummary, details: SealedDetails | undefined, customer: string, showNotes: boolean): EntryDetails {
  const otp = details?.otp;
  return {
    ...summaryView(row, summary, customer),
    notes: details && showNotes ? details.n : null,
    hasPassword: details ? details.p.length > 0 : null,
    otp: otp
      ? { kind: otp.kind, algorithm: otp.algorithm, digits: otp.digits, period: otp.period, ...(otp.issuer ? { issuer: otp.issuer } : {}) }
      : summary.o ? { kind: summary.o } : null,
    createdAt: row.created_at,
    revision: row.revision,
  };
}
