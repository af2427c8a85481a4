/**
 * Random ids and bearer tokens, and the one way a token is stored: SHA-256 of it. A token
 * carries 256 random bits, so a plain hash is enough (nothing to guess); a password never
 * comes near this module. Must never: log a token, or store one unhashed.
 */
import { createHash, randomBytes } from 'node:crypto';

/** 128 random bits as 32 hex characters: row ids, attempt ids, user ids. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

/** A bearer token: a prefix saying what it is (`cva` access, `cvr` refresh, `cvi` invite, `cvd` device, `cvt` automation) and 256 random bits. */
export function newToken(prefix: 'cva' | 'cvr' | 'cvi' | 'cvd' | 'cvt'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
