/**
 * `ImportCrypto` over node:crypto, for the importer tests. The main process gets its own
 * implementation in electron/; this one exists so the tests run real scrypt, PBKDF2 and AES
 * (no mocks standing in for crypto) without reaching into electron/.
 * Every function throws on failure, as the contract asks: a failed GCM tag check is the
 * importer's cue for WRONG_PASSWORD.
 */
import { argon2, createDecipheriv, createHash, createHmac, hkdfSync, pbkdf2, scrypt } from 'node:crypto';
import type { ImportCrypto } from '../../shared/import/types';

function bytes(buffer: Buffer | ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer instanceof ArrayBuffer ? buffer : buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
}

export const nodeImportCrypto: ImportCrypto = {
  scrypt(password, salt, n, r, p, length) {
    // Node refuses scrypt above 32 MiB by default, and Aegis's N=2^15, r=8 needs exactly that
    // plus overhead: allow what these parameters need (the importer bounds them first).
    const maxmem = 128 * n * r * p + 128 * r * 2 + 1024 * 1024;
    return new Promise((resolve, reject) => {
      scrypt(password, salt, length, { N: n, r, p, maxmem }, (error, key) => (error ? reject(error) : resolve(bytes(key))));
    });
  },
  pbkdf2(password, salt, iterations, length, hash) {
    return new Promise((resolve, reject) => {
      pbkdf2(password, salt, iterations, length, hash, (error, key) => (error ? reject(error) : resolve(bytes(key))));
    });
  },
  aesGcmDecrypt(key, nonce, ciphertext, tag, aad) {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    if (aad) decipher.setAAD(aad);
    return bytes(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  },
  aesCbcDecrypt(key, iv, ciphertext) {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return bytes(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  },
  hmacSha256(key, data) {
    return bytes(createHmac('sha256', key).update(data).digest());
  },
  hkdfSha256(key, salt, info, length) {
    return bytes(hkdfSync('sha256', key, salt, info, length));
  },
  sha256(data) {
    return bytes(createHash('sha256').update(data).digest());
  },
  // Node's own Argon2 (node:crypto), not the argon2 package the app uses: two implementations.
  argon2id(password, salt, iterations, memoryKiB, parallelism, length) {
    return new Promise((resolve, reject) => {
      argon2('argon2id', { message: password, nonce: salt, passes: iterations, memory: memoryKiB, parallelism, tagLength: length }, (error, key) => (error ? reject(error) : resolve(bytes(key))));
    });
  },
};

