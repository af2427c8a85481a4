/**
 * The outer header of a KeePass database (KDBX 3.1 and 4.x), read into what the streaming
 * reader (kdbx.ts) needs: cipher, compression, seeds, the KDF and its parameters, and for
 * 3.1 the inner stream key and the stream start bytes. Layout: KeePassXC's
 * src/format/KdbxReader.cpp and Kdbx4Reader.cpp, https://keepass.info/help/kb/kdbx_4.html.
 *
 * KDF parameters a real database would not use are refused here, before any key is derived,
 * so a hostile file cannot tie the process up. Must never log or put in an error a seed or a
 * key: at most a parameter's size or count.
 */
import { CrewvaultError } from '../../shared/errors';
import { u32 } from './kdbx-signature';

/** KeePassXC's own ceiling for Argon2 memory is 4 GiB; 1 GiB is already 16× its default. */
export const MAX_ARGON2_MEMORY_KIB = 1024 * 1024;
export const MAX_ARGON2_ITERATIONS = 1000;
export const MAX_ARGON2_PARALLELISM = 64;
/** About a minute of AES-KDF on a fast machine; KeePassXC's "1 s" default is ~10 million. */
export const MAX_AES_KDF_ROUNDS = 1_000_000_000;

export type KdbxKdf =
  | { readonly kind: 'aes'; readonly seed: Uint8Array; readonly rounds: number }
  | {
      readonly kind: 'argon2';
      readonly variant: 'argon2d' | 'argon2id';
      readonly salt: Uint8Array;
      readonly memoryKiB: number;
      readonly iterations: number;
      readonly parallelism: number;
      readonly version: number;
    };

/** The protected-value stream (KeePass "CrsAlgorithm"): 2 Salsa20 (KDBX 3.1), 3 ChaCha20 (KDBX 4). */
export const INNER_STREAM_SALSA20 = 2;
export const INNER_STREAM_CHACHA20 = 3;

export interface KdbxHeader {
  readonly major: number;
  readonly minor: number;
  readonly cipher: 'aes-256-cbc' | 'chacha20';
  readonly gzip: boolean;
  readonly masterSeed: Uint8Array;
  readonly encryptionIv: Uint8Array;
  readonly kdf: KdbxKdf;
  /** KDBX 3.1 only (KDBX 4 keeps them in the inner header). */
  readonly innerStream?: number;
  readonly innerStreamKey?: Uint8Array;
  readonly streamStartBytes?: Uint8Array;
  /** Where the header ends: the bytes before it are what the header hash and HMAC cover. */
  readonly end: number;
}

const CIPHER_AES256 = '31c1f2e6bf714350be5805216afc5aff';
const CIPHER_CHACHA20 = 'd6038a2b8b6f4cb5a524339a31dbb59a';
const CIPHER_TWOFISH = 'ad68f29f576f4bb9a36ad47af965346c';
const KDF_AES = 'c9d9f39a628a4460bf740d08c18a4fea';
const KDF_ARGON2D = 'ef636ddf8c29444b91f7a9a403e30a0c';
const KDF_ARGON2ID = '9e298b1956db4773b23dfc3ec6f0a1e6';

/** The newest minor version of each major this reader knows (KDBX 3.1, KDBX 4.1). */
const LAST_MINOR: Readonly<Record<number, number>> = { 3: 1, 4: 1 };

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

export function damaged(): never {
  invalid('The KeePass database is damaged or cut short.');
}

function unsupported(what: string): never {
  invalid(`This KeePass database uses something Crewvault cannot read (${what}).`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A little-endian unsigned 64-bit integer as a number (exact below 2^53, and large beyond). */
function u64(data: Uint8Array, at: number): number {
  return u32(data, at) + u32(data, at + 4) * 2 ** 32;
}

export function refuseAesRounds(rounds: number): void {
  if (rounds > MAX_AES_KDF_ROUNDS) invalid('This KeePass database asks for more AES-KDF rounds than Crewvault will run.');
}

export function refuseArgon2(memoryKiB: number, iterations: number, parallelism: number): void {
  if (memoryKiB > MAX_ARGON2_MEMORY_KIB || iterations > MAX_ARGON2_ITERATIONS || parallelism > MAX_ARGON2_PARALLELISM) {
    invalid(`This KeePass database asks for Argon2 settings beyond what Crewvault will run (${Math.round(memoryKiB / 1024)} MiB, ${iterations} iterations, ${parallelism} lanes).`);
  }
}

interface Variant {
  readonly type: number;
  readonly value: Uint8Array;
}

const VD_UINT32 = 0x04;
const VD_UINT64 = 0x05;
const VD_BYTES = 0x42;

/** KDBX 4's KDF parameters: u16 version, then (type u8, key length i32, key, value length i32, value)… until type 0. */
function variantDictionary(dict: Uint8Array): Map<string, Variant> {
  if (dict.length < 2 || dict[1] !== 0x01) damaged(); // major version 1
  const items = new Map<string, Variant>();
  let at = 2;
  for (;;) {
    if (at >= dict.length) damaged();
    const type = dict[at] ?? 0;
    if (type === 0) return items;
    const keyLength = u32(dict, at + 1);
    const valueAt = at + 5 + keyLength;
    if (valueAt + 4 > dict.length) damaged();
    const valueLength = u32(dict, valueAt);
    if (valueAt + 4 + valueLength > dict.length) invalid('This KeePass database\'s KDF parameters are malformed.');
    const key = Buffer.from(dict.subarray(at + 5, valueAt)).toString('utf8');
    items.set(key, { type, value: dict.subarray(valueAt + 4, valueAt + 4 + valueLength) });
    at = valueAt + 4 + valueLength;
  }
}

function variantNumber(items: Map<string, Variant>, key: string, what: string): number {
  const item = items.get(key);
  if (item?.type === VD_UINT32 && item.value.length === 4) return u32(item.value, 0);
  if (item?.type === VD_UINT64 && item.value.length === 8) return u64(item.value, 0);
  return invalid(`This KeePass database's ${what} is malformed.`);
}

function variantBytes(items: Map<string, Variant>, key: string, length: number, what: string): Uint8Array {
  const item = items.get(key);
  if (item?.type !== VD_BYTES || item.value.length !== length) invalid(`This KeePass database's ${what} is malformed.`);
  return item.value;
}

function kdfOf(dict: Uint8Array): KdbxKdf {
  const items = variantDictionary(dict);
  const id = items.get('$UUID');
  if (id?.type !== VD_BYTES) damaged();
  switch (hex(id.value)) {
    case KDF_AES: {
      // The rounds are checked first: a hostile "R" is refused whatever else is wrong.
      const rounds = items.get('R');
      if (rounds?.type !== VD_UINT64 || rounds.value.length !== 8) invalid('This KeePass database\'s AES-KDF rounds are malformed.');
      refuseAesRounds(u64(rounds.value, 0));
      if (u64(rounds.value, 0) < 1) damaged();
      return { kind: 'aes', seed: variantBytes(items, 'S', 32, 'AES-KDF seed'), rounds: u64(rounds.value, 0) };
    }
    case KDF_ARGON2D:
    case KDF_ARGON2ID: {
      const memoryBytes = variantNumber(items, 'M', 'Argon2 memory');
      const iterations = variantNumber(items, 'I', 'Argon2 iterations');
      const parallelism = variantNumber(items, 'P', 'Argon2 parallelism');
      refuseArgon2(memoryBytes / 1024, iterations, parallelism);
      if (memoryBytes < 8 * 1024 || memoryBytes % 1024 !== 0 || iterations < 1 || parallelism < 1) damaged();
      const version = variantNumber(items, 'V', 'Argon2 version');
      if (version !== 0x10 && version !== 0x13) damaged();
      // A secret key or associated data would be a second factor Crewvault is not given.
      if (items.has('K') || items.has('A')) unsupported('an Argon2 secret key');
      return {
        kind: 'argon2',
        variant: hex(id.value) === KDF_ARGON2ID ? 'argon2id' : 'argon2d',
        salt: variantBytes(items, 'S', 32, 'Argon2 salt'),
        memoryKiB: memoryBytes / 1024,
        iterations,
        parallelism,
        version,
      };
    }
    default:
      return unsupported('an unknown key derivation');
  }
}

/**
 * Reads the header from the file's start (signature checked by the caller). Fields are
 * (id u8, size u16 in 3.1 / u32 in 4, data) until id 0. Throws INVALID_INPUT: damaged,
 * unsupported, or KDF settings beyond the bounds above.
 */
export function readKdbxHeader(data: Uint8Array): KdbxHeader {
  if (data.length < 12) damaged();
  const minor = (data[8] ?? 0) | ((data[9] ?? 0) << 8);
  const major = (data[10] ?? 0) | ((data[11] ?? 0) << 8);
  const lastMinor = LAST_MINOR[major];
  if (lastMinor === undefined || minor > lastMinor) invalid('This KeePass database format version is not one Crewvault reads (KDBX 3.1 and 4 are).');
  const sizeBytes = major >= 4 ? 4 : 2;
  const fields = new Map<number, Uint8Array>();
  let at = 12;
  let end: number | undefined;
  while (end === undefined) {
    if (at + 1 + sizeBytes > data.length) damaged();
    const id = data[at] ?? 0;
    const size = sizeBytes === 4 ? u32(data, at + 1) : (data[at + 1] ?? 0) | ((data[at + 2] ?? 0) << 8);
    const value = at + 1 + sizeBytes;
    if (value + size > data.length) damaged();
    const bytes = data.subarray(value, value + size);
    // The AES-KDF rounds are refused as soon as they are seen, before anything else can fail.
    if (major < 4 && id === 6) {
      if (size !== 8) invalid('This KeePass database\'s AES-KDF rounds field is malformed.');
      refuseAesRounds(u64(bytes, 0));
    }
    if (id === 0) end = value + size;
    else fields.set(id, bytes);
    at = value + size;
  }

  const field = (id: number, length?: number): Uint8Array => {
    const bytes = fields.get(id);
    if (bytes === undefined || (length !== undefined && bytes.length !== length)) damaged();
    return bytes;
  };
  let cipher: KdbxHeader['cipher'];
  switch (hex(field(2, 16))) {
    case CIPHER_AES256: cipher = 'aes-256-cbc'; break;
    case CIPHER_CHACHA20: cipher = 'chacha20'; break;
    case CIPHER_TWOFISH: return unsupported('the Twofish cipher');
    default: return unsupported('an unknown cipher');
  }
  const compression = u32(field(3, 4), 0);
  if (compression > 1) unsupported('an unknown compression');
  const masterSeed = field(4, 32);
  const encryptionIv = field(7, cipher === 'chacha20' ? 12 : 16);

  if (major >= 4) {
    return { major, minor, cipher, gzip: compression === 1, masterSeed, encryptionIv, kdf: kdfOf(field(11)), end };
  }
  const rounds = u64(field(6, 8), 0);
  if (rounds < 1) damaged();
  return {
    major,
    minor,
    cipher,
    gzip: compression === 1,
    masterSeed,
    encryptionIv,
    kdf: { kind: 'aes', seed: field(5, 32), rounds },
    innerStream: u32(field(10, 4), 0),
    innerStreamKey: field(8),
    streamStartBytes: field(9, 32),
    end,
  };
}
