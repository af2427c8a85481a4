/**
 * The importer contract (issue #12; Aegis's DatabaseImporter is the model): one file per
 * format under shared/import/, each `detect` (from content, never the file name) → `read`
 * (decrypt where the format is encrypted, through the `ImportCrypto` the caller hands in, so
 * this folder stays pure: no Node, no DOM) → entries, with problems collected per entry so one
 * bad entry never sinks the rest. A problem names where it is ("entry 7 'GitHub'", "line 4")
 * and never carries a secret: at most the one offending character.
 */
import type { OtpParams } from '../otp';

/** One entry as a format holds it, converted to what the vault stores. */
export interface ImportedEntry {
  /** The format's folder, group, collection or issuer, when it has one (a customer candidate). */
  readonly customer?: string;
  readonly title: string;
  readonly username?: string;
  readonly password?: string;
  readonly url?: string;
  readonly notes?: string;
  readonly otp?: { readonly params: OtpParams; readonly issuer?: string } | null;
}

export interface ImportProblem {
  /** Where: "entry 7 'GitHub'", "line 4", "page 2 of 3". */
  readonly where: string;
  readonly message: string;
}

export interface ImportResult {
  readonly format: string;
  readonly entries: ImportedEntry[];
  /** Entries skipped, each with why. */
  readonly problems: ImportProblem[];
  /** Things read but worth saying (an unknown newer schema read where fields matched, a short key). */
  readonly warnings: string[];
  /** Where each entry was ("Line 4"), for problems the vault finds later; else "entry N 'Title'". */
  readonly where?: readonly string[];
}

/**
 * The cryptography an encrypted format needs, handed in by the main process (node:crypto)
 * so importers stay pure. Every function throws on failure (a wrong password shows as a
 * failed tag check: the importer turns that into WRONG_PASSWORD).
 */
export interface ImportCrypto {
  scrypt(password: Uint8Array, salt: Uint8Array, n: number, r: number, p: number, length: number): Promise<Uint8Array>;
  pbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number, length: number, hash: 'sha256' | 'sha512'): Promise<Uint8Array>;
  /** AES-256-GCM; `tag` separate from the ciphertext. */
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** AES-256-CBC with PKCS#7 padding. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(key: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  /** Argon2id version 0x13 (RFC 9106); `memoryKiB` in KiB. The caller bounds the settings. */
  argon2id(password: Uint8Array, salt: Uint8Array, iterations: number, memoryKiB: number, parallelism: number, length: number): Promise<Uint8Array>;
}

/**
 * The most entries one import takes, whatever its format (Aegis, 2FAS and Ente check it as
 * they read; the vault checks every format's result): far above a real export, and a bound on
 * what one transaction and one preview hold.
 */
export const MAX_IMPORT_ENTRIES = 100_000;

/** What a generic CSV's columns hold, confirmed by the person (shared/import/mapped-csv.ts). */
export const CSV_TARGETS = ['title', 'customer', 'username', 'password', 'url', 'notes', 'otp'] as const;
export type CsvTarget = (typeof CSV_TARGETS)[number];
/** Each target field → the header of the column that holds it. */
export type CsvMapping = Readonly<Partial<Record<CsvTarget, string>>>;

export interface ImportOptions {
  /** For encrypted exports: read like every other secret (prompt or stdin line), never an argument. */
  readonly password?: string;
  readonly crypto: ImportCrypto;
  /** For a generic CSV: which column is which. */
  readonly mapping?: CsvMapping;
}

export interface Importer {
  /** Stable name for `--format` ("aegis", "2fas", "bitwarden", …). */
  readonly name: string;
  /** What people call it ("Aegis (JSON, plain or encrypted)"). */
  readonly label: string;
  /** Recognises the format from the bytes; cheap, never throws. */
  detect(data: Uint8Array): boolean;
  /** Whether this data is encrypted and needs `options.password`. */
  needsPassword(data: Uint8Array): boolean;
  /**
   * Reads every entry it can. Throws a CrewvaultError only when nothing can be read (not this
   * format, damaged beyond reading: INVALID_INPUT; wrong password: WRONG_PASSWORD).
   */
  read(data: Uint8Array, options: ImportOptions): Promise<ImportResult>;
}
