/**
 * Bitwarden's exports: JSON (unencrypted, and "password protected"), and CSV (personal vault:
 * folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,
 * login_totp; organisation: collections,type,name,…). Logins and secure notes become entries;
 * cards, identities and SSH keys are counted and left out. The top-level folder (Bitwarden
 * nests folders by "/" in the name) or else the first collection is the customer.
 *
 * `login.totp` is what Bitwarden accepts there: an otpauth:// URI, `steam://KEY`, or a bare
 * base32 key (then TOTP SHA1, 6 digits, 30 s). The issuer is the URI's, else the item's name.
 *
 * A password-protected export, as Bitwarden writes it (bitwarden/sdk `exporters`
 * encrypted_json.rs, bitwarden/clients BitwardenPasswordProtectedImporter and PinService
 * `makePinKey` → KeyGenerationService `stretchKey`): the key is PBKDF2-SHA256 of the password
 * over the *base64 text* of `salt` (its UTF-8 bytes, not decoded), `kdfIterations` rounds, 32
 * bytes; then HKDF-Expand only (no extract) with info "enc" and "mac" gives the AES-256-CBC
 * and HMAC-SHA256 keys. `encKeyValidation_DO_NOT_EDIT` and `data` are EncStrings
 * "2.<iv>|<ciphertext>|<mac>" with mac = HMAC(macKey, iv‖ciphertext), checked before
 * decrypting: a wrong password is a failed MAC on the validation string. An account set to
 * Argon2id exports with `kdfType` 1: the key is then Argon2id (version 0x13) of the password
 * over the SHA-256 of that same salt text, `kdfIterations` passes, `kdfMemory` MiB,
 * `kdfParallelism` lanes, 32 bytes (bitwarden/sdk bitwarden-crypto keys/utils.rs
 * derive_kdf_key), stretched the same way.
 *
 * Must never put a field's value, the password or any key in a problem or error.
 */
import { base64Decode, utf8Decode, utf8Encode } from '../bytes';
import { CrewvaultError } from '../errors';
import { cellOf, columnsOf, decodeExportText, decodeHead, readCsvTable } from './csv';
import { LoginCollector, topLevel } from './login';
import type { ImportCrypto, Importer, ImportOptions, ImportResult } from './types';

/** Bitwarden's cipher types (libs/common/src/vault/enums/cipher-type.ts). */
const LOGIN = 1;
const SECURE_NOTE = 2;
const LEFT_OUT_TYPES: Readonly<Record<number, string>> = { 3: 'card', 4: 'identity', 5: 'SSH key' };
const KDF_PBKDF2_SHA256 = 0;
const KDF_ARGON2ID = 1;
/** Bitwarden's own ceiling for PBKDF2 is 2,000,000; far above it is a damaged or hostile file. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Bitwarden's own Argon2id bounds (KdfConfig): 16–1024 MiB, 2–10 passes, 1–16 lanes; a file
 * asking for more is damaged or hostile, and is refused before any memory is taken. */
const ARGON2_LIMITS = { memory: { min: 16, max: 1024 }, iterations: { min: 2, max: 10 }, parallelism: { min: 1, max: 16 } } as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

// ---- JSON ---------------------------------------------------------------------------------

function namesById(list: unknown): Map<string, string> {
  const names = new Map<string, string>();
  if (!Array.isArray(list)) return names;
  for (const item of list) {
    if (isObject(item) && typeof item.id === 'string' && typeof item.name === 'string') names.set(item.id, item.name);
  }
  return names;
}

function readPlainJson(doc: Json): ImportResult {
  if (!Array.isArray(doc.items)) invalid('Not a Bitwarden JSON export: it has no "items" list.');
  const folders = namesById(doc.folders);
  const collections = namesById(doc.collections);
  const collector = new LoginCollector('bitwarden');
  doc.items.forEach((item: unknown, i) => {
    const index = i + 1;
    if (!isObject(item)) return collector.problem(index, '', 'The item is not a JSON object.');
    const name = text(item.name);
    const type = item.type;
    if (typeof type === 'number' && LEFT_OUT_TYPES[type]) return collector.leaveOut(LEFT_OUT_TYPES[type]);
    if (type !== LOGIN && type !== SECURE_NOTE) return collector.problem(index, name, 'Unknown Bitwarden item type: Crewvault reads logins and secure notes.');
    const folder = typeof item.folderId === 'string' ? folders.get(item.folderId) : undefined;
    const firstCollection = Array.isArray(item.collectionIds) ? item.collectionIds.find((id): id is string => typeof id === 'string') : undefined;
    const collection = firstCollection === undefined ? undefined : collections.get(firstCollection);
    const customer = topLevel(folder ?? collection ?? '');
    const login = isObject(item.login) ? item.login : {};
    const firstUri = Array.isArray(login.uris) ? login.uris.find(isObject) : undefined;
    collector.add(index, {
      name,
      ...(customer ? { customer } : {}),
      notes: text(item.notes),
      username: text(login.username),
      password: text(login.password),
      url: text(firstUri?.uri),
      totp: text(login.totp),
    });
  });
  return collector.result();
}

interface EncString {
  readonly iv: Uint8Array;
  readonly data: Uint8Array;
  readonly mac: Uint8Array;
}

function parseEncString(value: unknown, what: string): EncString {
  const damaged = (): never => invalid(`The password-protected Bitwarden export is damaged (its ${what} is not an encrypted string).`);
  if (typeof value !== 'string') return damaged();
  const match = /^2\.([^|]+)\|([^|]+)\|([^|]+)$/.exec(value.trim());
  if (!match) return damaged();
  try {
    const [iv, data, mac] = [match[1], match[2], match[3]].map((part) => base64Decode(part ?? ''));
    if (!iv || !data || !mac || iv.length !== 16 || mac.length !== 32 || data.length === 0 || data.length % 16 !== 0) return damaged();
    return { iv, data, mac };
  } catch {
    return damaged();
  }
}

/** Compares MACs without stopping at the first difference. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** HKDF-Expand (RFC 5869 §2.3) for one 32-byte block: T(1) = HMAC(PRK, info ‖ 0x01). */
function hkdfExpand32(crypto: ImportCrypto, prk: Uint8Array, info: string): Uint8Array {
  const infoBytes = utf8Encode(info);
  const message = new Uint8Array(infoBytes.length + 1);
  message.set(infoBytes);
  message[infoBytes.length] = 1;
  return crypto.hmacSha256(prk, message);
}

interface StretchedKey {
  readonly encKey: Uint8Array;
  readonly macKey: Uint8Array;
}

/** Checks the MAC, then decrypts. Returns undefined when the MAC does not match. */
function openEncString(crypto: ImportCrypto, key: StretchedKey, sealed: EncString): Uint8Array | undefined {
  const macInput = new Uint8Array(sealed.iv.length + sealed.data.length);
  macInput.set(sealed.iv);
  macInput.set(sealed.data, sealed.iv.length);
  if (!sameBytes(crypto.hmacSha256(key.macKey, macInput), sealed.mac)) return undefined;
  return crypto.aesCbcDecrypt(key.encKey, sealed.iv, sealed.data);
}

async function readProtectedJson(doc: Json, options: ImportOptions): Promise<ImportResult> {
  if (doc.kdfType !== KDF_PBKDF2_SHA256 && doc.kdfType !== KDF_ARGON2ID) invalid('Unknown Bitwarden key derivation (kdfType): Crewvault reads PBKDF2-SHA256 and Argon2id exports.');
  const argon2 = doc.kdfType === KDF_ARGON2ID;
  const setting = (name: 'kdfIterations' | 'kdfMemory' | 'kdfParallelism', min: number, max: number): number => {
    const value = doc[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return invalid(`The password-protected Bitwarden export is damaged (its ${name} is not a sensible number).`);
    }
    return value;
  };
  const iterations = argon2 ? setting('kdfIterations', ARGON2_LIMITS.iterations.min, ARGON2_LIMITS.iterations.max) : setting('kdfIterations', 1, MAX_PBKDF2_ITERATIONS);
  const memory = argon2 ? setting('kdfMemory', ARGON2_LIMITS.memory.min, ARGON2_LIMITS.memory.max) : 0;
  const parallelism = argon2 ? setting('kdfParallelism', ARGON2_LIMITS.parallelism.min, ARGON2_LIMITS.parallelism.max) : 0;
  if (typeof doc.salt !== 'string' || doc.salt === '') invalid('The password-protected Bitwarden export is damaged (it has no salt).');
  const validation = parseEncString(doc.encKeyValidation_DO_NOT_EDIT, 'encKeyValidation_DO_NOT_EDIT');
  const data = parseEncString(doc.data, 'data');
  if (options.password === undefined || options.password === '') {
    throw new CrewvaultError('USAGE', 'This Bitwarden export is password-protected: give the password it was exported with.');
  }

  const { crypto } = options;
  const master = argon2
    ? await crypto.argon2id(utf8Encode(options.password), crypto.sha256(utf8Encode(doc.salt)), iterations, memory * 1024, parallelism, 32)
    : await crypto.pbkdf2(utf8Encode(options.password), utf8Encode(doc.salt), iterations, 32, 'sha256');
  const key: StretchedKey = { encKey: hkdfExpand32(crypto, master, 'enc'), macKey: hkdfExpand32(crypto, master, 'mac') };
  if (openEncString(crypto, key, validation) === undefined) {
    throw new CrewvaultError('WRONG_PASSWORD', 'Wrong password for this Bitwarden export.');
  }
  let inner: unknown;
  try {
    const plain = openEncString(crypto, key, data);
    if (plain === undefined) throw new Error('mac');
    inner = JSON.parse(utf8Decode(plain));
  } catch {
    return invalid('The password-protected Bitwarden export is damaged (its data does not decrypt to a Bitwarden export).');
  }
  if (!isObject(inner) || inner.encrypted === true) invalid('The password-protected Bitwarden export holds no plain Bitwarden export.');
  return readPlainJson(inner);
}

function parseJson(data: Uint8Array): Json {
  const textValue = decodeExportText(data, 'a Bitwarden export');
  let doc: unknown;
  try {
    doc = JSON.parse(textValue);
  } catch {
    return invalid('The Bitwarden export is not valid JSON (damaged or cut short).');
  }
  if (!isObject(doc)) invalid('Not a Bitwarden JSON export: it is not a JSON object.');
  return doc;
}

function readJson(data: Uint8Array, options: ImportOptions): Promise<ImportResult> {
  const doc = parseJson(data);
  if (doc.encrypted === true && doc.passwordProtected === true) return readProtectedJson(doc, options);
  if (doc.encrypted === true) {
    invalid('This Bitwarden export is encrypted with the account\'s own key, so only that Bitwarden account can open it: export again as "Password protected" or unencrypted JSON.');
  }
  return Promise.resolve(readPlainJson(doc));
}

// ---- CSV ----------------------------------------------------------------------------------

const CSV_COLUMNS = ['folder', 'collections', 'type', 'name', 'notes', 'login_uri', 'login_username', 'login_password', 'login_totp'] as const;
const CSV_HEADER = /^(folder,favorite|collections),type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp/i;

function readCsvExport(data: Uint8Array): ImportResult {
  const table = readCsvTable(decodeExportText(data, 'a Bitwarden export'));
  if (!table || !CSV_HEADER.test(table.header.fields.join(','))) {
    invalid('Not a Bitwarden CSV export: its first line must be folder,favorite,type,name,… or collections,type,name,….');
  }
  const at = columnsOf(table.header.fields, CSV_COLUMNS);
  const collector = new LoginCollector('bitwarden');
  table.rows.forEach((row, i) => {
    const cell = (name: (typeof CSV_COLUMNS)[number]): string => cellOf(row, at, name);
    const index = i + 1;
    const type = cell('type').trim().toLowerCase();
    if (type !== 'login' && type !== 'note') return collector.problem(index, cell('name'), `Unknown Bitwarden item type (line ${row.line}): Crewvault reads logins and notes.`);
    // An organisation's item may sit in several collections, comma-separated: the first decides.
    const customer = topLevel(cell('folder') || (cell('collections').split(',')[0] ?? ''));
    // Several URIs are written comma-separated in one field; the first is the login page.
    const url = (cell('login_uri').split(',')[0] ?? '').trim();
    collector.add(index, {
      name: cell('name'),
      ...(customer ? { customer } : {}),
      notes: cell('notes'),
      username: cell('login_username'),
      password: cell('login_password'),
      url,
      totp: cell('login_totp'),
    });
  });
  return collector.result();
}

// ---- the importer -------------------------------------------------------------------------

function looksLikeJsonExport(head: string): boolean {
  // Bitwarden writes "encrypted" first in every JSON export, plain or protected.
  return /^\s*\{\s*"encrypted"\s*:\s*(true|false)/.test(head);
}

export const bitwardenImporter: Importer = {
  name: 'bitwarden',
  label: 'Bitwarden (JSON, plain or password-protected; CSV)',
  detect(data) {
    const head = decodeHead(data);
    return head !== undefined && (looksLikeJsonExport(head) || CSV_HEADER.test(head.trimStart()));
  },
  needsPassword(data) {
    const head = decodeHead(data);
    if (head === undefined || !looksLikeJsonExport(head)) return false;
    return /"passwordProtected"\s*:\s*true/.test(head);
  },
  async read(data, options) {
    const head = decodeHead(data) ?? '';
    if (head.trimStart().startsWith('{')) return await readJson(data, options);
    return readCsvExport(data);
  },
};
