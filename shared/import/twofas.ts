/**
 * 2FAS Authenticator's backup (`.2fas`), plain or password-encrypted, read by the field names
 * 2FAS itself writes (twofas/2fas-android: data/services/.../domain/BackupContent.kt,
 * BackupService.kt, BackupGroup.kt; core/cipher/.../BackupCipherImpl.kt):
 *
 *   { schemaVersion, services: [...], groups: [{ id, name }], servicesEncrypted?, reference? }
 *   service: { name, secret, groupId?, otp: { account, label, issuer, digits, period,
 *              algorithm, counter, tokenType, link } }
 *
 * The schema changed under other importers at each version, so nothing here assumes more than
 * the field names: 1–2 have no tokenType (TOTP only) and a label "Issuer:account"; 3 adds
 * tokenType (TOTP, HOTP, STEAM) and counter; 4 adds `link` and writes the bare account as the
 * label. `link` is never read: 2FAS for iOS may write "[hidden]" in place of its secret.
 * A newer schema is read where its fields match, with a warning.
 *
 * Encrypted: `servicesEncrypted` is "ciphertext:salt:iv", each base64, where ciphertext is
 * AES-256-GCM of the services JSON with its 16-byte tag at the end (Java's AES/GCM/NoPadding),
 * under PBKDF2-HMAC-SHA256(password, salt, 10,000 iterations, 32 bytes). `reference` is a
 * fixed text sealed the same way: it failing means a wrong password; it opening and the
 * services failing means a damaged file. Groups stay in the clear.
 *
 * Must never put a secret, a key, ciphertext or the file's text in a problem or an error.
 */
import { base64Decode, utf8Decode, utf8Encode } from '../bytes';
import { CrewvaultError } from '../errors';
import { normaliseSecret, OTP_ALGORITHMS, splitLabel, STEAM_DIGITS, validateOtpParams, type OtpAlgorithm, type OtpKind } from '../otp';
import { decodeExportText, decodeHead } from './csv';
import { MAX_IMPORT_ENTRIES, type ImportedEntry, type Importer, type ImportOptions, type ImportResult } from './types';
import { collectEntries } from './collect';

/** The newest schema this reader was checked against (BackupContent.CurrentSchema). */
const KNOWN_SCHEMA = 4;
const PBKDF2_ITERATIONS = 10_000;
const GCM_TAG_BYTES = 16;
const WHAT = 'a 2FAS backup';

const TOKEN_TYPES: Readonly<Record<string, OtpKind>> = { TOTP: 'totp', HOTP: 'hotp', STEAM: 'steam' };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message quotes the input, which may hold a secret: never passed on.
    return invalid(`${what} is not JSON.`);
  }
}

function backupShape(document: unknown): JsonObject | undefined {
  if (!isObject(document) || typeof document.schemaVersion !== 'number') return undefined;
  return Array.isArray(document.services) || typeof document.servicesEncrypted === 'string' ? document : undefined;
}

function isEncrypted(backup: JsonObject): boolean {
  return typeof backup.servicesEncrypted === 'string' && backup.servicesEncrypted.trim() !== '';
}

function readBackup(data: Uint8Array): JsonObject {
  const backup = backupShape(parseJson(decodeExportText(data, WHAT), `The file is not ${WHAT}: it`));
  if (!backup) invalid(`The file is JSON but not ${WHAT} (no schemaVersion and services).`);
  return backup;
}

/** Text from the file, shortened to one line without control or format characters. */
function clean(text: string, max = 40): string {
  const kept = Array.from(text.replace(/[\p{Cc}\p{Cf}]/gu, ''));
  return kept.length > max ? kept.slice(0, max).join('') + '…' : kept.join('');
}


interface Sealed {
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
  readonly salt: Uint8Array;
  readonly iv: Uint8Array;
}

function readSealed(value: string, name: string): Sealed {
  const parts = value.trim().split(':');
  if (parts.length !== 3) invalid(`The 2FAS backup is damaged: its ${name} is not "ciphertext:salt:iv".`);
  let decoded: Uint8Array[];
  try {
    decoded = parts.map((part) => base64Decode(part));
  } catch {
    return invalid(`The 2FAS backup is damaged: its ${name} is not base64.`);
  }
  const [sealed = new Uint8Array(), salt = new Uint8Array(), iv = new Uint8Array()] = decoded;
  if (sealed.length < GCM_TAG_BYTES || salt.length === 0 || iv.length === 0) invalid(`The 2FAS backup is damaged: its ${name} is cut short.`);
  return { ciphertext: sealed.subarray(0, sealed.length - GCM_TAG_BYTES), tag: sealed.subarray(sealed.length - GCM_TAG_BYTES), salt, iv };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function decryptServices(backup: JsonObject, options: ImportOptions): Promise<unknown> {
  if (options.password === undefined) throw new CrewvaultError('WRONG_PASSWORD', 'This 2FAS backup is encrypted: its password is needed.');
  const { crypto } = options;
  const password = utf8Encode(options.password);
  const services = readSealed(backup.servicesEncrypted as string, 'servicesEncrypted');
  const reference = typeof backup.reference === 'string' && backup.reference.trim() !== '' ? readSealed(backup.reference, 'reference') : undefined;

  const key = await crypto.pbkdf2(password, services.salt, PBKDF2_ITERATIONS, 32, 'sha256');
  if (reference) {
    // 2FAS seals both with one salt; a file that used two is still read.
    const referenceKey = sameBytes(reference.salt, services.salt) ? key : await crypto.pbkdf2(password, reference.salt, PBKDF2_ITERATIONS, 32, 'sha256');
    try {
      crypto.aesGcmDecrypt(referenceKey, reference.iv, reference.ciphertext, reference.tag);
    } catch {
      throw new CrewvaultError('WRONG_PASSWORD', 'Wrong password for this 2FAS backup.');
    }
  }
  let plain: Uint8Array;
  try {
    plain = crypto.aesGcmDecrypt(key, services.iv, services.ciphertext, services.tag);
  } catch {
    if (!reference) throw new CrewvaultError('WRONG_PASSWORD', 'Wrong password for this 2FAS backup.');
    return invalid('The 2FAS backup is damaged: its services fail their integrity check (the password is right).');
  }
  let text: string;
  try {
    text = utf8Decode(plain);
  } catch {
    return invalid('The 2FAS backup is damaged: its decrypted services are not UTF-8.');
  }
  return parseJson(text, 'The 2FAS backup is damaged: its decrypted services are');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** A number field: absent or null means the default 2FAS applies; anything else must be whole. */
function wholeNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) invalid(`its ${name} is not a whole number.`);
  return value;
}

function algorithmOf(value: unknown): OtpAlgorithm {
  if (value === undefined || value === null) return 'SHA1';
  const match = OTP_ALGORITHMS.find((a) => a === (typeof value === 'string' ? value.toUpperCase() : ''));
  // 2FAS also knows SHA224 and SHA384, which Crewvault's engine does not compute.
  // Not quoted back: a misplaced secret can sit in any field.
  if (!match) invalid('Unsupported algorithm: use SHA1, SHA256 or SHA512.');
  return match;
}

function kindOf(value: unknown): OtpKind {
  // Schemas 1 and 2 have no tokenType: 2FAS reads that as TOTP, and so does this.
  if (value === undefined || value === null) return 'totp';
  const kind = typeof value === 'string' ? TOKEN_TYPES[value.toUpperCase()] : undefined;
  if (!kind) invalid('its token type is not TOTP, HOTP or STEAM.');
  return kind;
}

function whereOf(index: number, service: unknown): string {
  const name = isObject(service) ? text(service.name) || (isObject(service.otp) ? text(service.otp.issuer) : '') : '';
  return name ? `entry ${index} '${clean(name)}'` : `entry ${index}`;
}

interface Converted {
  readonly entry: ImportedEntry;
  readonly warnings: string[];
}

function convertService(service: unknown, index: number, groupNames: ReadonlyMap<string, string>): Converted {
  if (!isObject(service)) invalid('it is not a service object.');
  if (typeof service.secret !== 'string') invalid('it has no secret key.');
  const otp = isObject(service.otp) ? service.otp : {};
  const kind = kindOf(otp.tokenType);
  const { secret, warning } = normaliseSecret(service.secret);
  const params = validateOtpParams({
    kind,
    secret,
    algorithm: algorithmOf(otp.algorithm),
    digits: wholeNumber(otp.digits, 'digits', kind === 'steam' ? STEAM_DIGITS : 6),
    period: kind === 'hotp' ? 30 : wholeNumber(otp.period, 'period', 30),
    counter: kind === 'hotp' ? wholeNumber(otp.counter, 'counter', 0) : 0,
  });

  const issuer = text(otp.issuer) || text(service.name);
  // 2FAS shows the account, else the label (BackupService.asDomain); schemas 1–3 wrote the
  // label as "Issuer:account", so only its account part is the username (cut after the issuer
  // itself, which may hold a colon of its own).
  const account = text(otp.account) || (text(otp.label) ? splitLabel(text(otp.label), text(otp.issuer)).account : '');
  const title = text(service.name) || issuer || account || `2FAS entry ${index}`;
  const groupId = service.groupId;
  const customer = typeof groupId === 'string' ? groupNames.get(groupId)?.trim() : undefined;
  const warnings: string[] = [];
  if (typeof groupId === 'string' && customer === undefined) warnings.push('names a group the backup does not list; imported without a customer.');
  if (warning) warnings.push(warning.message);
  return {
    entry: {
      ...(customer ? { customer } : {}),
      title,
      ...(account && account !== title ? { username: account } : {}),
      otp: { params, ...(issuer ? { issuer } : {}) },
    },
    warnings,
  };
}

function convertServices(backup: JsonObject, services: unknown): ImportResult {
  if (!Array.isArray(services)) invalid('The 2FAS backup is damaged: its services are not a list.');
  if (services.length > MAX_IMPORT_ENTRIES) invalid(`The 2FAS backup holds ${services.length} services; at most ${MAX_IMPORT_ENTRIES} are read at once.`);
  const warnings: string[] = [];
  const schema = backup.schemaVersion as number;
  if (schema > KNOWN_SCHEMA) warnings.push(`2FAS backup schema ${schema} is newer than this importer knows (${KNOWN_SCHEMA}): read where its fields match; check the entries.`);

  const groupNames = new Map<string, string>();
  for (const group of Array.isArray(backup.groups) ? backup.groups : []) {
    if (isObject(group) && typeof group.id === 'string' && typeof group.name === 'string') groupNames.set(group.id, group.name);
  }

  return collectEntries('2fas', services as readonly unknown[], whereOf, (raw, position) => convertService(raw, position, groupNames), warnings);
}

export const twofasImporter: Importer = {
  name: '2fas',
  label: '2FAS (.2fas backup, plain or encrypted)',
  detect(data) {
    try {
      return readBackup(data) !== undefined;
    } catch {
      // Too big (or cut short) to parse: guess from the fields 2FAS writes first.
      return /^\s*\{\s*"(services|servicesEncrypted)"\s*:/.test(decodeHead(data) ?? '');
    }
  },
  needsPassword(data) {
    try {
      return isEncrypted(readBackup(data));
    } catch {
      return false;
    }
  },
  async read(data, options) {
    const backup = readBackup(data);
    const services = isEncrypted(backup) ? await decryptServices(backup, options) : backup.services;
    return convertServices(backup, services);
  },
};
