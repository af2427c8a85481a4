/**
 * Google Authenticator's export, `otpauth-migration://offline?data=BASE64`: a protobuf
 * MigrationPayload holding several OTP entries. Each entry is converted on its own and a bad
 * one is reported by its position, so one bad entry does not sink the rest.
 *
 * Schema (as published by the app's export and read by every importer):
 *   MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2;
 *                      int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5; }
 *   OtpParameters { bytes secret = 1; string name = 2; string issuer = 3;
 *                   Algorithm algorithm = 4; DigitCount digits = 5; OtpType type = 6;
 *                   int64 counter = 7; }
 *   Algorithm: 0 unspecified (SHA1), 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5
 *   DigitCount: 0 unspecified (6), 1 six, 2 eight      OtpType: 0 unspecified (TOTP), 1 HOTP, 2 TOTP
 */
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from '../bytes';
import { CrewvaultError } from '../errors';
import { decodeSecret, encodeSecret, normaliseSecret, type SecretWarning } from './base32';
import { DEFAULT_PERIOD, type OtpAlgorithm, type OtpParams } from './codes';
import { readMessage, writeMessage, type ProtoField } from './protobuf';
import { splitLabel } from './uri';

export interface MigrationEntry {
  readonly params: OtpParams;
  readonly issuer?: string;
  readonly account: string;
  readonly warning?: SecretWarning;
}

export interface MigrationProblem {
  /** 1-based position of the entry in the export. */
  readonly index: number;
  readonly message: string;
}

export interface MigrationBatch {
  readonly entries: MigrationEntry[];
  readonly problems: MigrationProblem[];
  /** "batch 1 of 3" when the export was split over several QR codes. */
  readonly batchIndex: number;
  readonly batchSize: number;
  /** The export all pages of one batch share (0 when the app did not say). */
  readonly batchId: number;
}

const ALGORITHMS: ReadonlyMap<number, OtpAlgorithm> = new Map([[0, 'SHA1'], [1, 'SHA1'], [2, 'SHA256'], [3, 'SHA512']]);
const MD5 = 4;
const DIGITS: ReadonlyMap<number, number> = new Map([[0, 6], [1, 6], [2, 8]]);
/**
 * The most pages one export may say it has. Google Authenticator puts about ten entries on a
 * page, so this is far above any phone's list; the count sizes the list of missing pages.
 */
export const MAX_BATCH_PAGES = 1000;

function refuse(message: string): never {
  throw new CrewvaultError('INVALID_URI', message);
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

/**
 * A count, position or enum as the number the file wrote (a negative int32 is sent as 10
 * bytes), not cut to 32 bits: 2^32 + 1 must not pass for 1. Callers bound it before use.
 */
function signed(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

/** The batch id is a label, never a size: read as protobuf reads an int32, its low 32 bits. */
function int32(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

function readEntry(bytes: Uint8Array): MigrationEntry {
  let secretBytes: Uint8Array | undefined;
  let name = '';
  let issuerField = '';
  let algorithm = 0;
  let digits = 0;
  let type = 0;
  let counter = 0n;
  for (const f of readMessage(bytes)) {
    if (f.wire === 2 && f.field === 1) secretBytes = f.bytes;
    else if (f.wire === 2 && f.field === 2) name = utf8Decode(f.bytes);
    else if (f.wire === 2 && f.field === 3) issuerField = utf8Decode(f.bytes);
    else if (f.wire === 0 && f.field === 4) algorithm = signed(f.value);
    else if (f.wire === 0 && f.field === 5) digits = signed(f.value);
    else if (f.wire === 0 && f.field === 6) type = signed(f.value);
    else if (f.wire === 0 && f.field === 7) counter = BigInt.asIntN(64, f.value);
  }
  if (!secretBytes || secretBytes.length === 0) throw new Error('it has no secret key');
  const alg = ALGORITHMS.get(algorithm);
  if (!alg) throw new Error(algorithm === MD5 ? 'it uses MD5, which Crewvault does not support' : 'its algorithm is not SHA1, SHA256 or SHA512');
  const digitCount = DIGITS.get(digits);
  if (!digitCount) throw new Error('its digit count is not 6 or 8');
  if (type !== 0 && type !== 1 && type !== 2) throw new Error('its OTP type is not TOTP or HOTP');
  if (counter < 0n || counter > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('its counter is out of range');
  const { secret, warning } = normaliseSecret(encodeSecret(secretBytes));
  // The name is "Issuer:account": cut after the issuer field when it is the prefix, so an
  // issuer with a colon of its own keeps it.
  const label = splitLabel(name, issuerField);
  const issuer = issuerField.trim() || label.issuer;
  return {
    params: {
      kind: type === 1 ? 'hotp' : 'totp',
      secret,
      algorithm: alg,
      digits: digitCount,
      period: DEFAULT_PERIOD,
      counter: Number(counter),
    },
    account: label.account,
    ...(issuer ? { issuer } : {}),
    ...(warning ? { warning } : {}),
  };
}

interface BatchPosition {
  readonly batchIndex: number;
  readonly batchSize: number;
  readonly batchId: number;
}

/**
 * The page position the file claims, checked before anyone sizes a list by it: the count is
 * 1 to MAX_BATCH_PAGES (0 or absent means a single page) and the index lies within it.
 */
function checkedPosition(size: number, index: number, id: number): BatchPosition {
  const batchSize = size === 0 ? 1 : size;
  if (batchSize < 1 || batchSize > MAX_BATCH_PAGES) invalid(`The export's page count is not a whole number from 1 to ${MAX_BATCH_PAGES}.`);
  if (index < 0 || index >= batchSize) invalid("The export's page number is not within its page count.");
  return { batchIndex: index, batchSize, batchId: id };
}

/** Parses one export URI (one QR code) into its entries and the problems of the others. */
export function parseMigrationUri(uri: string): MigrationBatch {
  const text = uri.trim();
  const match = /^otpauth-migration:\/\/offline\?(.*)$/i.exec(text);
  if (!match) refuse('Not a Google Authenticator export: it should start with otpauth-migration://offline?data=.');
  const data = (match[1] ?? '')
    .split('&')
    .find((pair) => pair.toLowerCase().startsWith('data='))
    ?.slice(5);
  if (!data) refuse('The export has no data parameter.');

  let payload: ProtoField[];
  try {
    // "+" in the data is base64, not a space: decode percent-escapes only.
    payload = readMessage(base64Decode(decodeURIComponent(data)));
  } catch {
    return refuse('The export data is damaged (not base64 protobuf); scan the QR code again.');
  }

  const entries: MigrationEntry[] = [];
  const problems: MigrationProblem[] = [];
  let batchIndex = 0;
  let batchSize = 0;
  let batchId = 0;
  let index = 0;
  for (const f of payload) {
    if (f.wire === 2 && f.field === 1) {
      index++;
      try {
        entries.push(readEntry(f.bytes));
      } catch (error) {
        const reason = error instanceof CrewvaultError || error instanceof Error ? error.message : 'it is damaged';
        problems.push({ index, message: `Entry ${index} skipped: ${reason}` });
      }
    } else if (f.wire === 0 && f.field === 3) {
      batchSize = signed(f.value);
    } else if (f.wire === 0 && f.field === 4) {
      batchIndex = signed(f.value);
    } else if (f.wire === 0 && f.field === 5) {
      batchId = int32(f.value);
    }
  }
  return { entries, problems, ...checkedPosition(batchSize, batchIndex, batchId) };
}

const ALGORITHM_CODES: Readonly<Record<OtpAlgorithm, bigint>> = { SHA1: 1n, SHA256: 2n, SHA512: 3n };

/**
 * Builds an export URI Google Authenticator can read. Steam keys and periods other than 30 s
 * cannot be written in this format: the caller must leave those entries out.
 */
export function buildMigrationUri(entries: readonly MigrationEntry[], batch = { index: 0, size: 1, id: 0 }): string {
  const fields: ProtoField[] = entries.map((entry) => {
    const { params } = entry;
    if (params.kind === 'steam' || params.period !== DEFAULT_PERIOD || (params.digits !== 6 && params.digits !== 8)) {
      throw new CrewvaultError('INVALID_INPUT', 'Google Authenticator exports hold only 6- or 8-digit TOTP/HOTP keys with a 30-second period.');
    }
    const name = entry.issuer ? `${entry.issuer}:${entry.account}` : entry.account;
    const inner: ProtoField[] = [
      { field: 1, wire: 2, bytes: decodeSecret(params.secret) },
      { field: 2, wire: 2, bytes: utf8Encode(name) },
      { field: 3, wire: 2, bytes: utf8Encode(entry.issuer ?? '') },
      { field: 4, wire: 0, value: ALGORITHM_CODES[params.algorithm] },
      { field: 5, wire: 0, value: params.digits === 8 ? 2n : 1n },
      { field: 6, wire: 0, value: params.kind === 'hotp' ? 1n : 2n },
      { field: 7, wire: 0, value: BigInt(params.counter) },
    ];
    return { field: 1, wire: 2, bytes: writeMessage(inner) };
  });
  fields.push(
    { field: 2, wire: 0, value: 1n },
    { field: 3, wire: 0, value: BigInt(batch.size) },
    { field: 4, wire: 0, value: BigInt(batch.index) },
    { field: 5, wire: 0, value: BigInt(batch.id) },
  );
  return `otpauth-migration://offline?data=${encodeURIComponent(base64Encode(writeMessage(fields)))}`;
}
