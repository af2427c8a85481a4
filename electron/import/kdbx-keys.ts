/**
 * A KeePass database's keys from its password (password only: no key file, no challenge-
 * response): the composite key, the KDF (AES-KDF or Argon2d/id, bounds already checked by
 * kdbx-header.ts), then the cipher key and, for KDBX 4, the HMAC key of each block.
 * KeePassXC: src/keys/CompositeKey.cpp, src/crypto/kdf/AesKdf.cpp, src/format/Kdbx4Reader.cpp.
 *
 * Must never log, return in an error or keep a key longer than the read that needs it.
 */
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import argon2 from 'argon2';
import type { KdbxHeader, KdbxKdf } from './kdbx-header';

export interface KdbxKeys {
  /** AES-256 or ChaCha20 key of the payload. */
  readonly cipherKey: Buffer;
  /** KDBX 4: SHA-512(master seed ‖ transformed key ‖ 0x01), the base of every block's HMAC key. */
  readonly hmacBase?: Buffer;
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** AES-KDF rounds per cipher call: 1 MiB of zeros, so the event loop is given back between calls. */
const AES_KDF_ROUNDS_PER_CALL = 65_536;

/**
 * AES-KDF: each 16-byte half of the key encrypted `rounds` times with AES-256-ECB under the
 * seed, then SHA-256. E^n(block) is the last block of CBC-encrypting n zero blocks with the
 * block as IV (c1 = E(0 ⊕ block), c2 = E(0 ⊕ c1), …): OpenSSL's fast path, a slice at a time.
 */
async function aesKdf(key: Uint8Array, seed: Uint8Array, rounds: number): Promise<Buffer> {
  const zeros = Buffer.alloc(16 * Math.min(rounds, AES_KDF_ROUNDS_PER_CALL));
  const out = Buffer.alloc(32);
  for (const half of [0, 16]) {
    let block = Buffer.from(key.subarray(half, half + 16));
    for (let left = rounds; left > 0;) {
      const n = Math.min(left, AES_KDF_ROUNDS_PER_CALL);
      const cipher = createCipheriv('aes-256-cbc', seed, block).setAutoPadding(false);
      const encrypted = cipher.update(zeros.subarray(0, 16 * n));
      block = encrypted.subarray(encrypted.length - 16);
      left -= n;
      if (left > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    block.copy(out, half);
  }
  return sha256(out);
}

async function transformKey(composite: Buffer, kdf: KdbxKdf): Promise<Buffer> {
  if (kdf.kind === 'aes') return aesKdf(composite, kdf.seed, kdf.rounds);
  return argon2.hash(composite, {
    raw: true,
    salt: Buffer.from(kdf.salt),
    memoryCost: kdf.memoryKiB,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    hashLength: 32,
    type: kdf.variant === 'argon2id' ? argon2.argon2id : argon2.argon2d,
    version: kdf.version,
  });
}

export async function deriveKdbxKeys(header: KdbxHeader, password: string): Promise<KdbxKeys> {
  // A password-only composite key: SHA-256 over the list of key hashes, here just one.
  const composite = sha256(sha256(Buffer.from(password, 'utf8')));
  const transformed = await transformKey(composite, header.kdf);
  composite.fill(0);
  const cipherKey = sha256(header.masterSeed, transformed);
  if (header.major < 4) {
    transformed.fill(0);
    return { cipherKey };
  }
  const hmacBase = createHash('sha512').update(header.masterSeed).update(transformed).update(Uint8Array.of(1)).digest();
  transformed.fill(0);
  return { cipherKey, hmacBase };
}

/** KDBX 4: the HMAC-SHA-256 key of block `index` (2^64 − 1 for the header): SHA-512(index u64 LE ‖ base). */
function blockKey(hmacBase: Buffer, index: bigint): Buffer {
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(index);
  return createHash('sha512').update(le).update(hmacBase).digest();
}

export const HEADER_BLOCK_INDEX = 0xffff_ffff_ffff_ffffn;

/** HMAC-SHA-256 of a block as KDBX 4 writes it: over index u64 LE ‖ size u32 LE ‖ data (the header: its bytes alone). */
export function blockHmac(hmacBase: Buffer, index: bigint, data: Uint8Array, withPrefix: boolean): Buffer {
  const mac = createHmac('sha256', blockKey(hmacBase, index));
  if (withPrefix) {
    const prefix = Buffer.alloc(12);
    prefix.writeBigUInt64LE(index);
    prefix.writeUInt32LE(data.length, 8);
    mac.update(prefix);
  }
  return mac.update(data).digest();
}
