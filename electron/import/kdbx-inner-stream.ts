/**
 * The stream cipher of a KeePass database's protected values (passwords and any field marked
 * Protected="True"): one keystream over the whole document, XORed into each protected value
 * in document order. KDBX 3.1 uses Salsa20 (key SHA-256(stream key), fixed nonce), KDBX 4
 * ChaCha20 (key and nonce from SHA-512(stream key)). KeePassXC: src/format/KeePass2RandomStream.cpp.
 *
 * node:crypto has ChaCha20 but no Salsa20 (OpenSSL dropped it), so Salsa20 is written out
 * here from its specification (https://cr.yp.to/snuffle/spec.pdf); the tests check it
 * against another implementation. Must never log a value it opens.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { INNER_STREAM_CHACHA20, INNER_STREAM_SALSA20 } from './kdbx-header';

export interface InnerStream {
  /** The next `data.length` keystream bytes XORed into `data` (a new array). */
  xor(data: Uint8Array): Uint8Array;
}

const SALSA20_NONCE = Uint8Array.of(0xe8, 0x30, 0x09, 0x4b, 0x97, 0x20, 0x5d, 0x2a);
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const; // "expand 32-byte k"

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** Salsa20/20 with a 256-bit key and a 64-bit nonce, its block counter from 0. */
export class Salsa20 implements InnerStream {
  private readonly input = new Uint32Array(16);
  private readonly x = new Uint32Array(16);
  private readonly block = new Uint8Array(64);
  private used = 64;

  constructor(key: Uint8Array, nonce: Uint8Array) {
    if (key.length !== 32 || nonce.length !== 8) throw new CrewvaultError('INTERNAL', 'Salsa20 needs a 32-byte key and an 8-byte nonce.');
    const word = (bytes: Uint8Array, at: number): number => ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;
    const s = this.input;
    [s[0], s[5], s[10], s[15]] = SIGMA;
    for (let i = 0; i < 4; i++) {
      s[1 + i] = word(key, 4 * i);
      s[11 + i] = word(key, 16 + 4 * i);
    }
    s[6] = word(nonce, 0);
    s[7] = word(nonce, 4);
    s[8] = 0;
    s[9] = 0;
  }

  private nextBlock(): void {
    const x = this.x;
    x.set(this.input);
    const qr = (a: number, b: number, c: number, d: number): void => {
      x[b] = (x[b] ?? 0) ^ rotl(((x[a] ?? 0) + (x[d] ?? 0)) | 0, 7);
      x[c] = (x[c] ?? 0) ^ rotl(((x[b] ?? 0) + (x[a] ?? 0)) | 0, 9);
      x[d] = (x[d] ?? 0) ^ rotl(((x[c] ?? 0) + (x[b] ?? 0)) | 0, 13);
      x[a] = (x[a] ?? 0) ^ rotl(((x[d] ?? 0) + (x[c] ?? 0)) | 0, 18);
    };
    for (let round = 0; round < 20; round += 2) {
      qr(0, 4, 8, 12); qr(5, 9, 13, 1); qr(10, 14, 2, 6); qr(15, 3, 7, 11); // columns
      qr(0, 1, 2, 3); qr(5, 6, 7, 4); qr(10, 11, 8, 9); qr(15, 12, 13, 14); // rows
    }
    for (let i = 0; i < 16; i++) {
      const v = ((x[i] ?? 0) + (this.input[i] ?? 0)) >>> 0;
      this.block[4 * i] = v & 0xff;
      this.block[4 * i + 1] = (v >>> 8) & 0xff;
      this.block[4 * i + 2] = (v >>> 16) & 0xff;
      this.block[4 * i + 3] = v >>> 24;
    }
    // The 64-bit block counter, words 8 (low) and 9 (high).
    this.input[8] = ((this.input[8] ?? 0) + 1) >>> 0;
    if (this.input[8] === 0) this.input[9] = ((this.input[9] ?? 0) + 1) >>> 0;
    this.used = 0;
  }

  xor(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (this.used === 64) this.nextBlock();
      out[i] = (data[i] ?? 0) ^ (this.block[this.used++] ?? 0);
    }
    return out;
  }
}

function chacha20(key: Uint8Array): InnerStream {
  const hash = createHash('sha512').update(key).digest();
  // node's "chacha20" IV is the 32-bit block counter (from 0) then the 96-bit nonce (RFC 7539).
  const cipher = createCipheriv('chacha20', hash.subarray(0, 32), Buffer.concat([Buffer.alloc(4), hash.subarray(32, 44)]));
  hash.fill(0);
  return { xor: (data) => new Uint8Array(cipher.update(data)) };
}

export function innerStream(id: number, key: Uint8Array): InnerStream {
  switch (id) {
    case INNER_STREAM_SALSA20: {
      const hash = createHash('sha256').update(key).digest();
      const stream = new Salsa20(hash, SALSA20_NONCE);
      hash.fill(0);
      return stream;
    }
    case INNER_STREAM_CHACHA20:
      return chacha20(key);
    default:
      throw new CrewvaultError('INVALID_INPUT', 'This KeePass database uses something Crewvault cannot read (an unknown protected-value stream).');
  }
}
