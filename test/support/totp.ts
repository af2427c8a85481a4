/**
 * RFC 4226/6238 codes written out over node:crypto, for tests to check the app against: never
 * the app's own OTP engine or otplib, so a bug they share cannot hide.
 */
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 → bytes; spaces, hyphens and padding ignored, anything else refused. */
export function base32Bytes(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/[\s=-]/g, '').toUpperCase()) {
    const digit = BASE32.indexOf(ch);
    if (digit < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP with HMAC-SHA1: the code for one counter value. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 TOTP (SHA1, 6 digits, 30 s) for a base32 secret, `steps` periods from `atMs`. */
export function totp(secret: string, atMs: number, steps = 0, period = 30): string {
  return hotp(base32Bytes(secret), Math.floor(atMs / 1000 / period) + steps);
}

