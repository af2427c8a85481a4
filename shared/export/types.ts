/**
 * The exporter contract (issue #12, "plain exports for leaving"): one file per format under
 * shared/export/, each turning the opened entries the vault hands out
 * (VaultSession.exportEntries, after the person's password again) into the bytes of a file
 * another app imports. Every format must read back through Crewvault's own importer of the
 * same name (shared/import/) to the same entries and codes: test/integration/export-roundtrip.
 *
 * Pure: no Node, no DOM; what needs either (randomness, Argon2 for .kdbx) is handed in or
 * lives in electron/export/. An exporter holds secrets in memory by design: it must never log
 * them or put them in an error.
 */
import type { OtpParams } from '../otp';

/** One entry as the vault opens it for an export: every field, the OTP key included. */
export interface ExportEntry {
  readonly customer: string;
  readonly title: string;
  /** '' when the entry has none (as for username, password, URL and notes). */
  readonly username: string;
  readonly password: string;
  readonly url: string;
  readonly notes: string;
  /** The HOTP counter is the next code's, as stored; the issuer only when one was set. */
  readonly otp: { readonly params: OtpParams; readonly issuer?: string } | null;
  /** Milliseconds since the Unix epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ExportOptions {
  /** An encrypted format's new password (read like every secret, never an argument). */
  readonly password?: string;
  /** A random RFC 4122 version 4 UUID (Aegis names entries and groups by one): node:crypto's. */
  readonly randomUuid: () => string;
}

export interface Exporter {
  /** Stable name for `--format`, the same as the importer that reads it back. */
  readonly name: string;
  /** What people call it ("Aegis (plain JSON)"). */
  readonly label: string;
  /** The format holds one-time passwords only: entries without one are left out, and counted. */
  readonly otpOnly: boolean;
  /** Encrypted under `options.password`: binary, so written to a file, never to standard output. */
  readonly encrypted: boolean;
  /** The whole file. Throws a CrewvaultError only for what no entry can change (a missing password). */
  write(entries: readonly ExportEntry[], options: ExportOptions): Promise<Uint8Array>;
}
