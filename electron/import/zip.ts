/**
 * Reads one named file out of a ZIP archive (PKWARE APPNOTE 6.3: the end-of-central-directory
 * record, the central directory, the local header), stored or deflated, for the exports that
 * come zipped (1Password's .1pux). Bounded: the archive is in memory already (the import's
 * own cap), and what one file may unpack to is capped too, so a ZIP bomb stops at the bound.
 * ZIP64, encrypted and multi-disk archives are refused: no export Crewvault reads uses them.
 *
 * Must never put file contents in an error: they are the person's secrets.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { CrewvaultError } from '../../shared/errors';

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const STORED = 0;
const DEFLATED = 8;

/** A local file header's signature: what every ZIP starts with. */
export function isZip(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04;
}

function damaged(what: string, detail: string): CrewvaultError {
  return new CrewvaultError('INVALID_INPUT', `The ${what} is damaged or cut short (${detail}); nothing was imported.`);
}

/**
 * The bytes of the file `name` in the ZIP `data`; NOT_FOUND-like INVALID_INPUT when absent.
 * `what` names the archive in errors ("1Password export (.1pux)").
 */
export function readZipEntry(data: Uint8Array, name: string, what: string, maxBytes: number): Uint8Array {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // The end record is the last 22 bytes, unless a comment (up to 64 KiB) follows it.
  let eocd = -1;
  for (let at = bytes.length - EOCD_BYTES; at >= Math.max(0, bytes.length - EOCD_BYTES - MAX_COMMENT_BYTES); at--) {
    if (bytes.readUInt32LE(at) === EOCD_SIGNATURE) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw damaged(what, 'no ZIP directory at its end');
  const disk = bytes.readUInt16LE(eocd + 4);
  const entries = bytes.readUInt16LE(eocd + 10);
  const directorySize = bytes.readUInt32LE(eocd + 12);
  const directoryAt = bytes.readUInt32LE(eocd + 16);
  if (disk !== 0) throw damaged(what, 'a ZIP split over several files');
  if (entries === 0xffff || directoryAt === 0xffffffff) throw damaged(what, 'a ZIP64 archive, which no export uses');
  if (directoryAt + directorySize > eocd) throw damaged(what, 'its ZIP directory points outside the file');
  let at = directoryAt;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > eocd || bytes.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw damaged(what, 'its ZIP directory is broken');
    const flags = bytes.readUInt16LE(at + 8);
    const method = bytes.readUInt16LE(at + 10);
    const crc = bytes.readUInt32LE(at + 16);
    const packedSize = bytes.readUInt32LE(at + 20);
    const size = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const localAt = bytes.readUInt32LE(at + 42);
    const entryName = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if ((flags & 0x1) !== 0) throw damaged(what, `${name} is encrypted inside the ZIP`);
    if (method !== STORED && method !== DEFLATED) throw damaged(what, `${name} is packed with ZIP method ${method}`);
    if (size > maxBytes) throw new CrewvaultError('INVALID_INPUT', `The ${what} holds a ${name} larger than ${Math.floor(maxBytes / 1024 / 1024)} MiB; nothing was imported.`);
    if (localAt + 30 > bytes.length || bytes.readUInt32LE(localAt) !== LOCAL_SIGNATURE) throw damaged(what, `${name}'s ZIP header is broken`);
    const start = localAt + 30 + bytes.readUInt16LE(localAt + 26) + bytes.readUInt16LE(localAt + 28);
    if (start + packedSize > bytes.length) throw damaged(what, `${name} is cut short`);
    const packed = bytes.subarray(start, start + packedSize);
    let content: Buffer;
    try {
      content = method === STORED ? Buffer.from(packed) : inflateRawSync(packed, { maxOutputLength: Math.max(size, 1) });
    } catch {
      throw damaged(what, `${name} does not unpack`);
    }
    if (content.length !== size || crc32(content) !== crc) throw damaged(what, `${name} fails its checksum`);
    return content;
  }
  throw new CrewvaultError('INVALID_INPUT', `The ${what} has no ${name} inside; nothing was imported.`);
}
