/**
 * The cryptography encrypted exports need (shared/import/types.ts ImportCrypto), from
 * node:crypto, handed to the pure importers of shared/import. Only decryption and key
 * derivation; nothing here writes or keeps a key.
 */
import { createDecipheriv, createHash, createHmac, hkdfSync, pbkdf2, scrypt } from 'node:crypto';
import argon2 from 'argon2';
import type { ImportCrypto } from '../../shared/import/types';

/** scrypt's memory is 128·N·r bytes; allow what real exports use (Aegis: N=2^15, r=8 → 32 MiB) with room. */
const SCRYPT_MAX_MEMORY = 512 * 1024 * 1024;

export const nodeImportCrypto: ImportCrypto = {
  scrypt: (password, salt, n, r, p, length) => new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N: n, r, p, maxmem: SCRYPT_MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))));
  }),
  pbkdf2: (password, salt, iterations, length, hash) => new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, hash, (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))));
  }),
  aesGcmDecrypt(key, nonce, ciphertext, tag, aad) {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  },
  aesCbcDecrypt(key, iv, ciphertext) {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  },
  hmacSha256: (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest()),
  hkdfSha256: (key, salt, info, length) => new Uint8Array(hkdfSync('sha256', key, salt, info, length)),
  sha256: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  // The vault's own Argon2 (the argon2 package), raw: the hash bytes, not an encoded string.
  argon2id: async (password, salt, iterations, memoryKiB, parallelism, length) => new Uint8Array(await argon2.hash(Buffer.from(password), {
    type: argon2.argon2id,
    raw: true,
    version: 0x13,
    hashLength: length,
    timeCost: iterations,
    memoryCost: memoryKiB,
    parallelism,
    salt: Buffer.from(salt),
  })),
};
