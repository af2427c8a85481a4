/**
 * Aegis Authenticator's vault export, plain or password-encrypted, read as Aegis's own
 * docs/vault.md describes it (https://github.com/beemdevelopment/Aegis/blob/master/docs/vault.md):
 *
 *   { version: 1, header: { slots, params }, db }
 *   plain:      slots and params null, db the content object
 *   encrypted:  db is base64 of AES-256-GCM(master key, header.params.nonce/tag, content JSON);
 *               each password slot (type 1) wraps the master key under scrypt(password, salt,
 *               n, r, p) with AES-256-GCM (key_params.nonce/tag); other slot types (raw,
 *               biometric) need a key that never leaves the phone and are passed over.
 *   content:    { version: 1–3, entries: [{ type, name, issuer, note, info, group | groups }],
 *                 groups: [{ uuid, name }] }; content version 3 lists group uuids per entry,
 *               resolved through content.groups, older ones name the group in `group`.
 *
 * An entry's type is totp, hotp or steam; Aegis's mOTP and Yandex entries are reported, not
 * guessed at. The group becomes the customer, the issuer the title, the name the username.
 *
 * Must never put a secret, a key, ciphertext or the file's text in a problem or an error:
 * JSON.parse's own message quotes the input, so it is never passed on.
 */
import { base64Decode, utf8Decode, utf8Encode } from '../bytes';
import { CrewvaultError } from '../errors';
import { normaliseSecret, OTP_ALGORITHMS, validateOtpParams, type OtpAlgorithm, type OtpParams } from '../otp';
import { decodeExportText, decodeHead } from './csv';
import { MAX_IMPORT_ENTRIES, type ImportCrypto, type ImportedEntry, type Importer, type ImportOptions, type ImportResult } from './types';
import { collectEntries } from './collect';

/** The vault file and content versions this reader was written against (Aegis 3.x). */
const FILE_VERSION = 1;
const CONTENT_VERSION = 3;
/** Password slots tried per file: each costs an scrypt run, and Aegis makes one or two. */
const MAX_PASSWORD_SLOTS = 2;
/** scrypt's time grows with N·r·p: Aegis uses 2^15·8·1; eight times that is the most one slot may ask. */
const MAX_SCRYPT_WORK = 8 * 2 ** 15 * 8;
/** Far above what a phone holds, low enough that a hostile file cannot hold the import forever. */
/** scrypt costs 128·N·r bytes: Aegis uses N=2^15, r=8 (32 MiB). A slot asking for more than
 * 256 MiB is not from Aegis and would only stall the import. */
const MAX_SCRYPT_BYTES = 256 * 1024 * 1024;

const WHAT = 'an Aegis export';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return invalid(`The file is not JSON, so not ${WHAT}.`);
  }
}

/** The file's top level, when it has Aegis's shape; else undefined. */
function vaultShape(document: unknown): JsonObject | undefined {
  if (!isObject(document) || typeof document.version !== 'number' || !isObject(document.header)) return undefined;
  return isObject(document.db) || typeof document.db === 'string' ? document : undefined;
}

function isEncrypted(vault: JsonObject): boolean {
  return typeof vault.db === 'string';
}

/** Text from the file, shortened to one line without control or format characters. */
function clean(text: string, max = 40): string {
  const kept = Array.from(text.replace(/[\p{Cc}\p{Cf}]/gu, ''));
  return kept.length > max ? kept.slice(0, max).join('') + '…' : kept.join('');
}


function hex(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(value)) {
    invalid(`The Aegis export is damaged: its ${name} is not hex.`);
  }
  const out = new Uint8Array(value.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(value.slice(i * 2, i * 2 + 2), 16);
  return out;
}

interface PasswordSlot {
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
  readonly tag: Uint8Array;
  readonly salt: Uint8Array;
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

function readPasswordSlot(slot: JsonObject): PasswordSlot {
  const params = isObject(slot.key_params) ? slot.key_params : {};
  const { n, r, p } = slot;
  if (typeof n !== 'number' || typeof r !== 'number' || typeof p !== 'number') invalid('The Aegis export is damaged: a password slot has no scrypt parameters.');
  const powerOfTwo = Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
  if (!powerOfTwo || !Number.isInteger(r) || r < 1 || !Number.isInteger(p) || p < 1 || p > 16 || 128 * n * r > MAX_SCRYPT_BYTES || n * r * p > MAX_SCRYPT_WORK) {
    invalid(`The Aegis export asks for scrypt parameters no Aegis uses (N=${n}, r=${r}, p=${p}).`);
  }
  return { key: hex(slot.key, 'slot key'), nonce: hex(params.nonce, 'slot nonce'), tag: hex(params.tag, 'slot tag'), salt: hex(slot.salt, 'slot salt'), n, r, p };
}

/** Opens the master key with the password, trying each password slot; WRONG_PASSWORD if none opens. */
async function openMasterKey(header: JsonObject, password: string, crypto: ImportCrypto): Promise<Uint8Array> {
  const slots = Array.isArray(header.slots) ? header.slots.filter(isObject).filter((s) => s.type === 1) : [];
  if (slots.length === 0) invalid('This Aegis export has no password slot (only a biometric one): export it again from Aegis with a password.');
  const passwordBytes = utf8Encode(password);
  for (const slot of slots.slice(0, MAX_PASSWORD_SLOTS)) {
    const s = readPasswordSlot(slot);
    const wrappingKey = await crypto.scrypt(passwordBytes, s.salt, s.n, s.r, s.p, 32);
    try {
      return crypto.aesGcmDecrypt(wrappingKey, s.nonce, s.key, s.tag);
    } catch {
      // Not this slot's password (a GCM tag that does not verify): try the next slot.
    }
  }
  throw new CrewvaultError('WRONG_PASSWORD', 'Wrong password for this Aegis export.');
}

async function decryptContent(vault: JsonObject, options: ImportOptions): Promise<unknown> {
  if (options.password === undefined) throw new CrewvaultError('WRONG_PASSWORD', 'This Aegis export is encrypted: its password is needed.');
  const header = vault.header as JsonObject;
  const params = isObject(header.params) ? header.params : {};
  const nonce = hex(params.nonce, 'nonce');
  const tag = hex(params.tag, 'tag');
  let ciphertext: Uint8Array;
  try {
    ciphertext = base64Decode(vault.db as string);
  } catch {
    return invalid('The Aegis export is damaged: its contents are not base64.');
  }
  const masterKey = await openMasterKey(header, options.password, options.crypto);
  let plain: Uint8Array;
  try {
    plain = options.crypto.aesGcmDecrypt(masterKey, nonce, ciphertext, tag);
  } catch {
    // The slot's tag verified, so the password is right: it is the contents that changed.
    return invalid('The Aegis export is damaged: its contents fail their integrity check.');
  }
  let text: string;
  try {
    text = utf8Decode(plain);
  } catch {
    return invalid('The Aegis export is damaged: its decrypted contents are not UTF-8.');
  }
  return parseJson(text);
}

/** "entry 7 'GitHub'": the issuer (what Aegis shows first), else the account name. */
function whereOf(index: number, entry: unknown): string {
  const name = isObject(entry) ? [entry.issuer, entry.name].find((v): v is string => typeof v === 'string' && v.trim() !== '') : undefined;
  return name === undefined ? `entry ${index}` : `entry ${index} '${clean(name.trim())}'`;
}

function wholeNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) invalid(`its ${name} is not a whole number.`);
  return value;
}

function algorithmOf(value: unknown): OtpAlgorithm {
  const upper = typeof value === 'string' ? value.toUpperCase().replace('-', '') : '';
  // Aegis itself reads MD5 on a non-mOTP entry as SHA1: an old Aegis bug let people pick it.
  if (upper === 'MD5') return 'SHA1';
  const match = OTP_ALGORITHMS.find((a) => a === upper);
  // Not quoted back: a misplaced secret can sit in any field.
  if (!match) invalid('Unsupported algorithm: use SHA1, SHA256 or SHA512.');
  return match;
}

interface Converted {
  readonly entry: ImportedEntry;
  readonly warnings: string[];
}

function convertEntry(entry: unknown, index: number, groupNames: ReadonlyMap<string, string>): Converted {
  if (!isObject(entry)) invalid('it is not an entry object.');
  const type = entry.type;
  if (type === 'motp' || type === 'yandex') invalid(`Aegis ${type === 'motp' ? 'mOTP' : 'Yandex'} entries are not supported by Crewvault.`);
  if (type !== 'totp' && type !== 'hotp' && type !== 'steam') invalid('its OTP type is not totp, hotp or steam.');
  if (!isObject(entry.info)) invalid('it has no OTP settings ("info").');
  const info = entry.info;
  if (typeof info.secret !== 'string') invalid('it has no secret key.');
  const { secret, warning } = normaliseSecret(info.secret);
  const params: OtpParams = validateOtpParams({
    kind: type,
    secret,
    algorithm: algorithmOf(info.algo),
    digits: wholeNumber(info.digits, 'digits'),
    period: type === 'hotp' ? 30 : wholeNumber(info.period, 'period'),
    counter: type === 'hotp' ? wholeNumber(info.counter, 'counter') : 0,
  });

  const issuer = typeof entry.issuer === 'string' ? entry.issuer.trim() : '';
  const name = typeof entry.name === 'string' ? entry.name.trim() : '';
  const note = typeof entry.note === 'string' ? entry.note.trim() : '';
  const warnings: string[] = [];
  // Content version 3 names groups by uuid; an entry that still has the old `group` field
  // (versions 1 and 2) names it directly. Aegis prefers `groups` when both are there.
  let groups: string[];
  if (Array.isArray(entry.groups)) {
    groups = entry.groups.flatMap((id) => (typeof id === 'string' && groupNames.has(id) ? [groupNames.get(id) ?? ''] : []));
  } else {
    groups = typeof entry.group === 'string' ? [entry.group] : [];
  }
  groups = groups.map((g) => g.trim()).filter((g) => g !== '');
  const customer = groups[0];
  if (groups.length > 1) warnings.push(`is in ${groups.length} Aegis groups; imported under the first, "${clean(customer ?? '')}".`);
  if (warning) warnings.push(warning.message);
  // A code nobody can tell apart is still worth keeping: give it a name to be renamed.
  const title = issuer || name || `Aegis entry ${index}`;
  if (!issuer && !name) warnings.push(`has neither issuer nor name; imported as "${title}".`);

  return {
    entry: {
      ...(customer ? { customer } : {}),
      title,
      ...(issuer && name ? { username: name } : {}),
      ...(note ? { notes: note } : {}),
      otp: { params, ...(issuer ? { issuer } : {}) },
    },
    warnings,
  };
}

function convertContent(content: unknown, fileVersion: number): ImportResult {
  if (!isObject(content) || !Array.isArray(content.entries)) invalid('The Aegis export is damaged: it has no list of entries.');
  const warnings: string[] = [];
  if (fileVersion > FILE_VERSION) warnings.push(`Aegis vault file version ${fileVersion} is newer than this importer knows (${FILE_VERSION}): read where its fields match.`);
  const contentVersion = content.version;
  if (typeof contentVersion === 'number' && contentVersion > CONTENT_VERSION) {
    warnings.push(`Aegis content version ${contentVersion} is newer than this importer knows (${CONTENT_VERSION}): read where its fields match.`);
  }
  if (content.entries.length > MAX_IMPORT_ENTRIES) invalid(`The Aegis export holds ${content.entries.length} entries; at most ${MAX_IMPORT_ENTRIES} are read at once.`);

  const groupNames = new Map<string, string>();
  for (const group of Array.isArray(content.groups) ? content.groups : []) {
    if (isObject(group) && typeof group.uuid === 'string' && typeof group.name === 'string') groupNames.set(group.uuid, group.name);
  }

  return collectEntries('aegis', content.entries as readonly unknown[], whereOf, (raw, position) => convertEntry(raw, position, groupNames), warnings);
}

function readVault(data: Uint8Array): JsonObject {
  const vault = vaultShape(parseJson(decodeExportText(data, WHAT)));
  if (!vault) invalid(`The file is JSON but not ${WHAT} (no version, header and db).`);
  return vault;
}

export const aegisImporter: Importer = {
  name: 'aegis',
  label: 'Aegis (JSON, plain or encrypted)',
  detect(data) {
    try {
      return readVault(data) !== undefined;
    } catch {
      // Too big to parse: guess from the opening, where Aegis writes its version and header.
      const head = decodeHead(data) ?? '';
      return /^\s*\{\s*"version"\s*:\s*\d+\s*,\s*"header"\s*:/.test(head);
    }
  },
  needsPassword(data) {
    try {
      return isEncrypted(readVault(data));
    } catch {
      return false;
    }
  },
  async read(data, options) {
    const vault = readVault(data);
    const fileVersion = vault.version as number;
    const content = isEncrypted(vault) ? await decryptContent(vault, options) : vault.db;
    return convertContent(content, fileVersion);
  },
};
