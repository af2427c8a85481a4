/**
 * kdbxweb leaves Argon2 to its caller; this registers the `argon2` package with it, for the
 * .kdbx export (electron/export/kdbx.ts), which writes with kdbxweb. The importer reads .kdbx
 * without kdbxweb (kdbx.ts) and calls `argon2` itself. The bounds are the reader's, so no
 * kdbxweb caller can be made to run an Argon2 a database could not ask the reader for.
 * Must never log the password or the hash.
 */
import argon2 from 'argon2';
import * as kdbxweb from 'kdbxweb';
import { refuseArgon2 } from './kdbx-header';

kdbxweb.CryptoEngine.setArgon2Impl(async (password, salt, memory, iterations, length, parallelism, type, version) => {
  refuseArgon2(memory, iterations, parallelism);
  const hash = await argon2.hash(Buffer.from(password), {
    raw: true,
    salt: Buffer.from(salt),
    memoryCost: memory,
    timeCost: iterations,
    parallelism,
    hashLength: length,
    type: type === kdbxweb.CryptoEngine.Argon2TypeArgon2id ? argon2.argon2id : argon2.argon2d,
    version,
  });
  return new Uint8Array(hash).buffer;
});
