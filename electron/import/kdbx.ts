/**
 * KeePass databases (.kdbx: KDBX 3.1 with AES-KDF, KDBX 4 with AES-KDF, Argon2d or Argon2id),
 * opened with the password only and read as a stream: header (kdbx-header.ts), keys
 * (kdbx-keys.ts), checked and decrypted blocks through a bounded gunzip (kdbx-payload.ts),
 * then the inner XML tag by tag (kdbx-xml.ts), so memory holds the entries and never the
 * document (issue #12: kdbxweb's DOM took 3.4 GiB for 100,000 entries). Entries are
 * converted with the same rules as KeePassXC's CSV export (shared/import/keepassxc-csv.ts).
 *
 * It lives in the main process because it needs Node (node:crypto, node:zlib, the `argon2`
 * package). Must never log or put in an error a field's value, the password or a derived
 * key; KDF parameters a real database would not use are refused before any work, and the
 * payload may unpack only so far, so a hostile file cannot tie the process up.
 */
import { CrewvaultError } from '../../shared/errors';
import type { Importer, ImportResult } from '../../shared/import/types';
import { damaged, readKdbxHeader } from './kdbx-header';
import { deriveKdbxKeys, sha256 } from './kdbx-keys';
import { KDBX_LIMITS, readPayload, type KdbxLimits } from './kdbx-payload';
import { KeePassXmlReader, OutOfOrder } from './kdbx-xml';
import { isKeePassDatabase, SIGNATURE_1, SIGNATURE_KDB, SIGNATURE_KDBX, u32 } from './kdbx-signature';

/** Large databases with attachments reach tens of MB; beyond this it is not a password database. */
export const MAX_KDBX_BYTES = 256 * 1024 * 1024;

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

/**
 * Reads every entry of a .kdbx. `limits` are KDBX_LIMITS but in tests, which lower them to
 * show a bound holds without unpacking a gigabyte.
 */
export async function readKdbx(data: Uint8Array, password: string | undefined, limits: KdbxLimits = KDBX_LIMITS): Promise<ImportResult> {
  if (data.length > MAX_KDBX_BYTES) invalid(`The file is too large for a KeePass database (at most ${MAX_KDBX_BYTES / 1024 / 1024} MB).`);
  if (data.length < 12 || u32(data, 0) !== SIGNATURE_1) invalid('Not a KeePass .kdbx database.');
  if (u32(data, 4) === SIGNATURE_KDB) invalid('This is a KeePass 1 (.kdb) database: open it in KeePassXC and save it as .kdbx first.');
  if (u32(data, 4) !== SIGNATURE_KDBX) invalid('Not a KeePass .kdbx database.');
  if (password === undefined) throw new CrewvaultError('USAGE', 'A KeePass database is encrypted: give its password.');
  const header = readKdbxHeader(data);
  try {
    const keys = await deriveKdbxKeys(header, password);
    const headerHash = header.major < 4 ? sha256(data.subarray(0, header.end)) : undefined;
    const read = async (mode: 'stream' | 'tree'): Promise<ImportResult> => {
      const reader = await readPayload(data, header, keys, limits, (stream) => new KeePassXmlReader({ stream, mode, maxTextChars: limits.maxTextChars, ...(headerHash ? { headerHash } : {}) }));
      return reader.finish();
    };
    try {
      return await read('stream');
    } catch (error) {
      // Written out of KeePass's order (no known writer does): read again, keeping every entry.
      if (error instanceof OutOfOrder) return await read('tree');
      throw error;
    } finally {
      keys.cipherKey.fill(0);
      keys.hmacBase?.fill(0);
    }
  } catch (error) {
    // zlib, saxes and a DataView past the end throw their own errors: to the person, all damage.
    if (error instanceof CrewvaultError) throw error;
    return damaged();
  }
}

export const kdbxImporter: Importer = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 3.1 and 4, password only)',
  detect: isKeePassDatabase,
  needsPassword: () => true,
  read: (data, options) => readKdbx(data, options.password),
};
