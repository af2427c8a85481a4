/**
 * A KeePass database's payload, from the bytes after the outer header to the inner XML, as a
 * stream: each block checked (KDBX 4: HMAC-SHA-256 per block, after the header's SHA-256 and
 * HMAC; KDBX 3.1: the stream start bytes, then SHA-256 per hashed block), decrypted
 * (AES-256-CBC or ChaCha20, node:crypto), inflated (gzip, node:zlib) with a ceiling, the
 * KDBX 4 inner header taken off, and the XML handed on as text, a piece at a time. Nothing
 * unchecked reaches the XML reader, and the whole XML is never held.
 * KeePassXC: src/format/Kdbx4Reader.cpp, src/streams/HmacBlockStream.cpp, HashedBlockStream.cpp.
 *
 * Must never log or put in an error a key or a decrypted byte.
 */
import { createDecipheriv, timingSafeEqual, type Decipheriv } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CrewvaultError } from '../../shared/errors';
import { damaged, type KdbxHeader } from './kdbx-header';
import { innerStream, type InnerStream } from './kdbx-inner-stream';
import { blockHmac, HEADER_BLOCK_INDEX, sha256, type KdbxKeys } from './kdbx-keys';
import { u32 } from './kdbx-signature';

export interface KdbxLimits {
  /** Bytes the payload may unpack to (inner header and XML): past it, a decompression bomb. */
  readonly maxInflatedBytes: number;
  /** Characters of one text, comment or attribute in the XML. */
  readonly maxTextChars: number;
}

/**
 * 100,000 entries are ~150 MB of XML (the bench's); 1 GiB is several times any real database
 * and still a bound a hostile file (64 MiB of gzip can claim 64 GB) cannot push past.
 */
export const KDBX_LIMITS: KdbxLimits = { maxInflatedBytes: 1024 * 1024 * 1024, maxTextChars: 64 * 1024 * 1024 };

export function wrongPassword(major: number): CrewvaultError {
  // KDBX 4 authenticates its header and blocks, so there a failed key check is the key.
  // KDBX 3.1 has no MAC: a file cut or damaged after its header fails the same check.
  return new CrewvaultError(
    'WRONG_PASSWORD',
    major >= 4
      ? 'Wrong password for this KeePass database (or it also needs a key file, which Crewvault does not read).'
      : 'Wrong password for this KeePass database, or the file is damaged (a KDBX 3.1 file cannot tell the two apart).',
  );
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Bytes arriving in pieces, taken out by count without copying more than needed. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** The next `n` bytes (n ≤ length). */
  take(n: number): Buffer {
    const first = this.parts[0];
    let out: Buffer;
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const part = this.parts[0];
        if (part === undefined) break;
        const used = Math.min(part.length, n - filled);
        part.copy(out, filled, 0, used);
        filled += used;
        if (used === part.length) this.parts.shift();
        else this.parts[0] = part.subarray(used);
      }
    }
    this.length -= n;
    return out;
  }

  /** The next `n` bytes (n ≤ length), left in the queue. */
  peek(n: number): Buffer {
    const first = this.parts[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (const part of this.parts) {
      if (filled >= n) break;
      filled += part.copy(out, filled, 0, Math.min(part.length, n - filled));
    }
    return out;
  }

  /** Everything left. */
  rest(): Buffer {
    return this.take(this.length);
  }
}

function decipherOf(header: KdbxHeader, keys: KdbxKeys): Decipheriv {
  // node's "chacha20" IV is the 32-bit block counter (from 0) then the 96-bit nonce (RFC 7539).
  return header.cipher === 'chacha20'
    ? createDecipheriv('chacha20', keys.cipherKey, Buffer.concat([Buffer.alloc(4), header.encryptionIv]))
    : createDecipheriv('aes-256-cbc', keys.cipherKey, header.encryptionIv);
}

/** KDBX 4: header SHA-256 and HMAC, then blocks of (HMAC u8[32], size u32, data) until size 0. */
function* kdbx4Chunks(data: Uint8Array, header: KdbxHeader, keys: KdbxKeys): Generator<Buffer> {
  const hmacBase = keys.hmacBase;
  if (hmacBase === undefined) throw new CrewvaultError('INTERNAL', 'KDBX 4 keys without an HMAC key.');
  const headerBytes = data.subarray(0, header.end);
  let at = header.end;
  if (at + 64 > data.length) damaged();
  if (!same(sha256(headerBytes), data.subarray(at, at + 32))) damaged();
  if (!same(blockHmac(hmacBase, HEADER_BLOCK_INDEX, headerBytes, false), data.subarray(at + 32, at + 64))) throw wrongPassword(header.major);
  at += 64;
  const decipher = decipherOf(header, keys);
  for (let index = 0n; ; index++) {
    if (at + 36 > data.length) damaged();
    const size = u32(data, at + 32);
    if (at + 36 + size > data.length) damaged();
    const block = data.subarray(at + 36, at + 36 + size);
    if (!same(blockHmac(hmacBase, index, block, true), data.subarray(at, at + 32))) damaged();
    at += 36 + size;
    if (size === 0) break;
    yield decipher.update(block);
  }
  let last: Buffer;
  try {
    last = decipher.final();
  } catch {
    return damaged();
  }
  yield last;
}

/** The slice of ciphertext deciphered at a time (KDBX 3.1 has no blocks of its own outside). */
const SLICE_BYTES = 1024 * 1024;

/**
 * KDBX 3.1: the whole payload is one ciphertext; its plaintext starts with the header's 32
 * stream start bytes (the password check), then hashed blocks of (index u32, SHA-256 u8[32],
 * size u32, data) until size 0 with a zero hash.
 */
function* kdbx3Chunks(data: Uint8Array, header: KdbxHeader, keys: KdbxKeys): Generator<Buffer> {
  const startBytes = header.streamStartBytes;
  if (startBytes === undefined) return damaged();
  const decipher = decipherOf(header, keys);
  const plain = new ByteQueue();
  let started = false;
  let index = 0;
  let done = false;
  const blocks = function* (): Generator<Buffer> {
    if (!started) {
      if (plain.length < 32) return;
      if (!same(plain.take(32), startBytes)) throw wrongPassword(header.major);
      started = true;
    }
    while (!done && plain.length >= 40) {
      const head = plain.peek(40);
      const size = u32(head, 36);
      if (u32(head, 0) !== index) damaged();
      if (size === 0) {
        if (head.subarray(4, 36).some((b) => b !== 0)) damaged();
        plain.take(40);
        done = true;
        return;
      }
      if (plain.length < 40 + size) return; // the block is not all here yet
      const hash = Buffer.from(plain.take(40).subarray(4, 36));
      const block = plain.take(size);
      if (!same(sha256(block), hash)) damaged();
      index++;
      yield block;
    }
  };
  for (let at = header.end; at < data.length; at += SLICE_BYTES) {
    plain.push(decipher.update(data.subarray(at, Math.min(at + SLICE_BYTES, data.length))));
    yield* blocks();
  }
  try {
    plain.push(decipher.final());
  } catch {
    // kdbxweb and KeePass see a bad final block as a failed key check: 3.1 cannot say more.
    throw wrongPassword(header.major);
  }
  yield* blocks();
  if (!started || !done) damaged();
}

/** The KDBX 4 inner header (id u8, size u32, data … until id 0): the inner stream, attachments skipped. */
class InnerHeader {
  private readonly queue = new ByteQueue();
  private skip = 0;
  private streamId: number | undefined;
  private streamKey: Uint8Array | undefined;
  stream: InnerStream | undefined;

  /** Takes bytes until the header ends; returns what follows it (the XML), else undefined. */
  push(bytes: Buffer): Buffer | undefined {
    if (this.skip > 0) {
      const skipped = Math.min(this.skip, bytes.length);
      this.skip -= skipped;
      bytes = bytes.subarray(skipped);
    }
    this.queue.push(bytes);
    while (this.queue.length >= 5) {
      const head = this.queue.peek(5);
      const id = head[0] ?? 0;
      const size = u32(head, 1);
      if (id === 3) {
        this.queue.take(5);
        // An attachment: not imported, and possibly large, so passed over without keeping it.
        const now = Math.min(size, this.queue.length);
        this.queue.take(now);
        this.skip = size - now;
        if (this.skip > 0) return undefined;
        continue;
      }
      if (size > 1024) damaged();
      if (this.queue.length < 5 + size) return undefined; // the field is not all here yet
      const value = Buffer.from(this.queue.take(5 + size).subarray(5));
      if (id === 1 && size === 4) this.streamId = u32(value, 0);
      else if (id === 2) this.streamKey = Buffer.from(value);
      else if (id === 0) {
        if (this.streamId === undefined || this.streamKey === undefined) damaged();
        this.stream = innerStream(this.streamId, this.streamKey);
        this.streamKey.fill(0);
        return this.queue.rest();
      }
    }
    return undefined;
  }
}

/** What takes the XML as text: the streaming reader (kdbx-xml.ts). */
export interface XmlSink {
  write(text: string): void;
}

// XML 1.0 allows no C0 control but tab, LF and CR; KeeWeb (kdbxweb) writes them unescaped and
// reads them by dropping them, so they are dropped here too (tab is kept: it is legal XML).
// eslint-disable-next-line no-control-regex -- the point is to match control characters
const XML_ILLEGAL_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

/**
 * Runs the payload through the checks, the decryption, a bounded gunzip and the inner header
 * into `sink` (made once the inner stream is known), returning the sink to finish.
 */
export async function readPayload<S extends XmlSink>(data: Uint8Array, header: KdbxHeader, keys: KdbxKeys, limits: KdbxLimits, makeSink: (stream: InnerStream) => S): Promise<S> {
  let sink: S | undefined;
  let inner: InnerHeader | undefined;
  if (header.major >= 4) {
    inner = new InnerHeader();
  } else {
    if (header.innerStream === undefined || header.innerStreamKey === undefined) damaged();
    sink = makeSink(innerStream(header.innerStream, header.innerStreamKey));
  }
  const decoder = new TextDecoder('utf-8');
  let inflated = 0;
  const take = (bytes: Buffer): void => {
    inflated += bytes.length;
    if (inflated > limits.maxInflatedBytes) {
      throw new CrewvaultError('INVALID_INPUT', `The KeePass database unpacks to more than ${Math.round(limits.maxInflatedBytes / 1024 / 1024)} MiB: refused as a decompression bomb; nothing was imported.`);
    }
    let xml: Buffer | undefined = bytes;
    if (sink === undefined) {
      xml = inner?.push(bytes);
      if (xml === undefined || inner?.stream === undefined) return;
      sink = makeSink(inner.stream);
    }
    const text = decoder.decode(xml, { stream: true });
    if (text) sink.write(text.replace(XML_ILLEGAL_CONTROLS, ''));
  };
  const chunks = Readable.from(header.major >= 4 ? kdbx4Chunks(data, header, keys) : kdbx3Chunks(data, header, keys));
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const bytes of source) take(bytes);
  };
  if (header.gzip) await pipeline(chunks, createGunzip({ chunkSize: 64 * 1024 }), consume);
  else await pipeline(chunks, consume);
  if (sink === undefined) return damaged();
  const tail = decoder.decode();
  if (tail) sink.write(tail.replace(XML_ILLEGAL_CONTROLS, ''));
  return sink;
}
