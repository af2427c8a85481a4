/**
 * KeePass databases (.kdbx: KDBX 3.1 with AES-KDF, KDBX 4 with AES-KDF, Argon2d or Argon2id),
 * opened by kdbxweb with the password only, then converted entry by entry with the same rules
 * as KeePassXC's CSV export (shared/import/keepassxc-csv.ts `convertKeePassEntry`).
 *
 * It lives in the main process because it needs Node: kdbxweb uses node:crypto, and Argon2
 * comes from the `argon2` package (kdbxweb ships none). Must never log or put in an error a
 * field's value, the password or a derived key; KDF parameters a real database would not use
 * are refused before any work, so a hostile file cannot tie the process up.
 */
import argon2 from 'argon2';
import * as kdbxweb from 'kdbxweb';
import { CrewvaultError } from '../../shared/errors';
import { KeePassCollector, type KeePassEntryFields } from '../../shared/import/keepassxc-csv';
import type { Importer, ImportResult } from '../../shared/import/types';
import { isKeePassDatabase, SIGNATURE_1, SIGNATURE_KDB, SIGNATURE_KDBX, u32 } from './kdbx-signature';

/** Large databases with attachments reach tens of MB; beyond this it is not a password database. */
export const MAX_KDBX_BYTES = 256 * 1024 * 1024;
/** KeePassXC's own ceiling for Argon2 memory is 4 GiB; 1 GiB is already 16× its default. */
const MAX_ARGON2_MEMORY_KIB = 1024 * 1024;
const MAX_ARGON2_ITERATIONS = 1000;
const MAX_ARGON2_PARALLELISM = 64;
/** About a minute of AES-KDF on a fast machine; KeePassXC's "1 s" default is ~10 million. */
const MAX_AES_KDF_ROUNDS = 1_000_000_000;


function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

// kdbxweb leaves Argon2 to its caller. The bounds are checked here because this is the one
// place that sees the parameters before the work starts.
kdbxweb.CryptoEngine.setArgon2Impl(async (password, salt, memory, iterations, length, parallelism, type, version) => {
  if (memory > MAX_ARGON2_MEMORY_KIB || iterations > MAX_ARGON2_ITERATIONS || parallelism > MAX_ARGON2_PARALLELISM) {
    invalid(`This KeePass database asks for Argon2 settings beyond what Crewvault will run (${Math.round(memory / 1024)} MiB, ${iterations} iterations, ${parallelism} lanes).`);
  }
  const hash = await argon2.hash(Buffer.from(password), {
    raw: true,
    salt: Buffer.from(salt),
    memoryCost: memory,
    timeCost: iterations,
    parallelism,
    hashLength: length,
    type: type === kdbxweb.CryptoEngine.Argon2TypeArgon2id ? argon2.argon2id : argon2.argon2d,
    version,
  });
  return new Uint8Array(hash).buffer;
});

/**
 * AES-KDF rounds, read from the outer header before kdbxweb runs them, since it runs any
 * number it is given (a chain of rounds/10,000 promises: a hostile file asking for 2^52 fills
 * memory, wrong password or not). KDBX 3.1: header field 6, which must be exactly 8 bytes
 * (kdbxweb reads the first 8 of any size). KDBX 4: the "R" entry of the KDF parameters
 * (field 11, a variant dictionary), which must be a UInt64. Anything else there is refused.
 */
function checkAesRounds(data: Uint8Array): void {
  const major = (data[10] ?? 0) | ((data[11] ?? 0) << 8);
  const sizeBytes = major >= 4 ? 4 : 2;
  let at = 12;
  while (at + 1 + sizeBytes <= data.length) {
    const id = data[at] ?? 0;
    const size = sizeBytes === 4 ? u32(data, at + 1) : (data[at + 1] ?? 0) | ((data[at + 2] ?? 0) << 8);
    const value = at + 1 + sizeBytes;
    if (id === 0) return;
    if (major < 4 && id === 6) {
      if (size !== 8) invalid('This KeePass database\'s AES-KDF rounds field is malformed.');
      refuseRounds(u32(data, value) + u32(data, value + 4) * 2 ** 32);
    }
    if (major >= 4 && id === 11) checkKdfDictionary(data.subarray(value, value + size));
    at = value + size;
  }
}

function refuseRounds(rounds: number): void {
  if (rounds > MAX_AES_KDF_ROUNDS) invalid('This KeePass database asks for more AES-KDF rounds than Crewvault will run.');
}

/** KDBX 4's KDF parameters: u16 version, then (type u8, key length i32, key, value length i32, value)… until type 0. */
function checkKdfDictionary(dict: Uint8Array): void {
  let at = 2;
  while (at < dict.length) {
    const type = dict[at] ?? 0;
    if (type === 0) return;
    const keyLength = u32(dict, at + 1);
    const key = String.fromCharCode(...dict.subarray(at + 5, at + 5 + Math.min(keyLength, 16)));
    const valueAt = at + 5 + keyLength;
    const valueLength = u32(dict, valueAt);
    if (valueAt + 4 + valueLength > dict.length) invalid('This KeePass database\'s KDF parameters are malformed.');
    if (key === 'R' && keyLength === 1) {
      if (type !== 0x05 || valueLength !== 8) invalid('This KeePass database\'s AES-KDF rounds are malformed.');
      refuseRounds(u32(dict, valueAt + 4) + u32(dict, valueAt + 8) * 2 ** 32);
    }
    at = valueAt + 4 + valueLength;
  }
}

function fieldText(entry: kdbxweb.KdbxEntry, name: string): string | undefined {
  const value = entry.fields.get(name);
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.getText();
}

function entryFields(entry: kdbxweb.KdbxEntry, groups: readonly string[]): KeePassEntryFields {
  return {
    groups,
    title: fieldText(entry, 'Title') ?? '',
    username: fieldText(entry, 'UserName') ?? '',
    password: fieldText(entry, 'Password') ?? '',
    url: fieldText(entry, 'URL') ?? '',
    notes: fieldText(entry, 'Notes') ?? '',
    field: (name) => fieldText(entry, name),
  };
}

/** Walks the tree as KeePassXC lists it: a group's entries, then its subgroups in order. */
function collect(db: kdbxweb.Kdbx): ImportResult {
  const collector = new KeePassCollector();
  const recycleBin = db.meta.recycleBinEnabled ? db.meta.recycleBinUuid : undefined;
  const walk = (group: kdbxweb.KdbxGroup, path: readonly string[], inBin: boolean): void => {
    for (const entry of group.entries) collector.add(entryFields(entry, path), inBin);
    for (const child of group.groups) {
      walk(child, [...path, child.name ?? ''], inBin || (recycleBin !== undefined && child.uuid.equals(recycleBin)));
    }
  };
  walk(db.getDefaultGroup(), [], false);
  return collector.result('kdbx');
}

function explain(error: unknown, major: number): CrewvaultError {
  if (error instanceof CrewvaultError) return error;
  if (error instanceof kdbxweb.KdbxError) {
    switch (error.code) {
      case kdbxweb.Consts.ErrorCodes.InvalidKey:
        // KDBX 4 authenticates its header and blocks, so there a failed key check is the key.
        // KDBX 3.1 has no MAC: a file cut or damaged after its header fails the same check.
        return new CrewvaultError(
          'WRONG_PASSWORD',
          major >= 4
            ? 'Wrong password for this KeePass database (or it also needs a key file, which Crewvault does not read).'
            : 'Wrong password for this KeePass database, or the file is damaged (a KDBX 3.1 file cannot tell the two apart).',
        );
      case kdbxweb.Consts.ErrorCodes.BadSignature:
        return new CrewvaultError('INVALID_INPUT', 'Not a KeePass .kdbx database.');
      case kdbxweb.Consts.ErrorCodes.InvalidVersion:
        return new CrewvaultError('INVALID_INPUT', 'This KeePass database format version is not one Crewvault reads (KDBX 3.1 and 4 are).');
      case kdbxweb.Consts.ErrorCodes.Unsupported:
        return new CrewvaultError('INVALID_INPUT', `This KeePass database uses something Crewvault cannot read (${error.message.replace(/^Error [A-Za-z]+: /, '')}).`);
      default:
        return new CrewvaultError('INVALID_INPUT', 'The KeePass database is damaged or cut short.');
    }
  }
  // kdbxweb reads past the end of a cut file with a DataView: a RangeError, not a KdbxError.
  return new CrewvaultError('INVALID_INPUT', 'The KeePass database is damaged or cut short.');
}

async function read(data: Uint8Array, password: string | undefined): Promise<ImportResult> {
  if (data.length > MAX_KDBX_BYTES) invalid(`The file is too large for a KeePass database (at most ${MAX_KDBX_BYTES / 1024 / 1024} MB).`);
  if (data.length < 12 || u32(data, 0) !== SIGNATURE_1) invalid('Not a KeePass .kdbx database.');
  if (u32(data, 4) === SIGNATURE_KDB) invalid('This is a KeePass 1 (.kdb) database: open it in KeePassXC and save it as .kdbx first.');
  if (u32(data, 4) !== SIGNATURE_KDBX) invalid('Not a KeePass .kdbx database.');
  if (password === undefined) throw new CrewvaultError('USAGE', 'A KeePass database is encrypted: give its password.');
  checkAesRounds(data);
  const credentials = new kdbxweb.KdbxCredentials(kdbxweb.ProtectedValue.fromString(password));
  // kdbxweb takes an ArrayBuffer of exactly the file: copy out of a possibly shared buffer.
  // (new Uint8Array(…) copies; a Node Buffer's slice() would not, and its .buffer is a pool.)
  const buffer = new Uint8Array(data).buffer;
  let db: kdbxweb.Kdbx;
  try {
    db = await kdbxweb.Kdbx.load(buffer, credentials);
  } catch (error) {
    throw explain(error, (data[10] ?? 0) | ((data[11] ?? 0) << 8));
  }
  return collect(db);
}

export const kdbxImporter: Importer = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 3.1 and 4, password only)',
  detect: isKeePassDatabase,
  needsPassword: () => true,
  read: (data, options) => read(data, options.password),
};
