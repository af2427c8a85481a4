/**
 * Non-secret random bytes — seal nonces and global ids — taken from a pool filled by
 * node:crypto's randomBytes 16 KiB at a time: a bulk write made six small randomBytes calls per
 * entry, each a trip into OpenSSL, and they were a tenth of its time. Every byte is handed out
 * once (copied out, the pool moving on). Must never serve key material: keys come from
 * randomBytes directly (crypto.ts randomKey).
 */
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 16 * 1024;
let pool = Buffer.alloc(0);
let at = 0;

export function randomNonSecret(length: number): Buffer {
  if (length > POOL_BYTES) return randomBytes(length);
  if (at + length > pool.length) {
    pool = randomBytes(POOL_BYTES);
    at = 0;
  }
  const out = Buffer.from(pool.subarray(at, at + length));
  at += length;
  return out;
}
