/**
 * The sealed shape of an entry (Bitwarden's three shapes: stored row → sealed content →
 * opened view). This module turns one into the other and checks structure on the way in;
 * code that shows an entry never handles the sealed form.
 */
import { z } from 'zod';
import { OTP_ALGORITHMS, OTP_KINDS, type OtpParams } from '../../shared/otp';
import type { EntryDetails, EntrySummary } from '../../shared/model';
import { openJson, sealJson, tampered } from './crypto';
import { contexts, type GroupKey } from './keys';
import type { EntryRow } from './store-entries';

const summarySchema = z.object({
  c: z.number().int(), // the customer id the entry was sealed for: a moved customer_id shows
  t: z.string(),
  u: z.string(),
  l: z.string(),
  o: z.enum(OTP_KINDS).nullable(),
});

const otpSchema = z.object({
  kind: z.enum(OTP_KINDS),
  secret: z.string(),
  algorithm: z.enum(OTP_ALGORITHMS),
  digits: z.number().int(),
  period: z.number().int(),
  counter: z.number().int(),
  issuer: z.string().optional(),
});

const detailsSchema = z.object({
  p: z.string(),
  n: z.string(),
  otp: otpSchema.nullable(),
});

export type SealedSummary = z.infer<typeof summarySchema>;
export type SealedDetails = z.infer<typeof detailsSchema>;
export interface StoredOtp {
  readonly params: OtpParams;
  readonly issuer?: string;
}

export interface OpenedEntry {
  readonly row: EntryRow;
  readonly summary: SealedSummary;
}

function parseOrTampered<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw tampered();
  return parsed.data;
}

export function openSummary(row: EntryRow, group: GroupKey): SealedSummary {
  if (row.key_version !== group.version) throw tampered();
  const summary = parseOrTampered(summarySchema, openJson(group.key, row.sealed_summary, contexts.entrySummary(row.id, row.key_version)));
  if (summary.c !== row.customer_id) throw tampered();
  return summary;
}

export function openDetails(row: EntryRow, group: GroupKey): SealedDetails {
  if (row.key_version !== group.version) throw tampered();
  return parseOrTampered(detailsSchema, openJson(group.key, row.sealed_details, contexts.entryDetails(row.id, row.key_version)));
}

export function sealSummary(entryId: number, group: GroupKey, summary: SealedSummary): Buffer {
  return sealJson(group.key, summary, contexts.entrySummary(entryId, group.version));
}

export function sealDetails(entryId: number, group: GroupKey, details: SealedDetails): Buffer {
  return sealJson(group.key, details, contexts.entryDetails(entryId, group.version));
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
  };
}

export function detailsView(row: EntryRow, summary: SealedSummary, details: SealedDetails, customer: string): EntryDetails {
  const otp = details.otp;
  return {
    ...summaryView(row, summary, customer),
    notes: details.n,
    hasPassword: details.p.length > 0,
    otp: otp
      ? { kind: otp.kind, algorithm: otp.algorithm, digits: otp.digits, period: otp.period, ...(otp.issuer ? { issuer: otp.issuer } : {}) }
      : null,
    createdAt: row.created_at,
  };
}
