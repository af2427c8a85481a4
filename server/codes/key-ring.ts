/**
 * The server's code keys (server-code-key.json in its data folder, 0600): the X25519 key desktops
 * seal OTP keys to now (`current`), and the ones it replaced that still open seals made under them
 * (`retiring`) until every server-codes group is sealed again and `crewvault server code-key
 * delete-old` drops them. Each key is named by its fingerprint (shared/sync/server-codes.ts), which
 * the database stores beside each seal (schema 19) so the server knows which seals still need which key.
 *
 * The file is read again when it changed (another process, or `crewvault server code-key rotate`,
 * replaced it: a new inode), so every server process on one data folder takes a rotation up at its
 * next code without a restart. It is rewritten whole, to a new file renamed over the old one, 0600.
 *
 * Must never: log or return a private key, read a key file others may read, or write one they could.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CrewvaultError } from '../../shared/errors';
import { codeKeyFingerprint } from '../../shared/sync/server-codes';

export const SERVER_CODE_KEY_FILE = 'server-code-key.json';

export interface CodeKey {
  /** The fingerprint: how the database, the console and the desktop name this key. */
  readonly id: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** SHA-256 of the SPKI DER, as groups of four hex digits (the one rule: shared/sync/server-codes.ts). */
export function fingerprintOf(publicKey: KeyObject): string {
  return codeKeyFingerprint(publicKey.export({ type: 'spki', format: 'der' }), (bytes) => createHash('sha256').update(bytes).digest());
}

function codeKeyOf(privateKey: KeyObject): CodeKey {
  const publicKey = createPublicKey(privateKey);
  return { id: fingerprintOf(publicKey), privateKey, publicKey };
}

export function newCodeKey(): CodeKey {
  return codeKeyOf(generateKeyPairSync('x25519').privateKey);
}

const pkcs8 = z.string().regex(/^[A-Za-z0-9_-]+$/);
/** Version 1 (before rotation): one key. Version 2: the current key, then the retiring ones. */
const codeKeyFileSchema = z.union([
  z.strictObject({ version: z.literal(1), codeKey: pkcs8 }),
  z.strictObject({ version: z.literal(2), current: pkcs8, retiring: z.array(pkcs8).max(16) }),
]);

interface Held {
  readonly current: CodeKey;
  readonly retiring: readonly CodeKey[];
}

export class CodeKeyRing {
  private held: Held;
  /** The file's identity when read (inode, size, change time): another one there is read again. */
  private stamp: string | undefined;
  /** The file's stamp was looked at in this synchronous turn (cleared by a microtask after it). */
  private lookedThisTurn = false;

  private constructor(private readonly file: string | undefined, held: Held, stamp: string | undefined) {
    this.held = held;
    this.stamp = stamp;
  }

  /** A key held in memory only (a test's server): never rotated. */
  static inMemory(current: CodeKey = newCodeKey()): CodeKeyRing {
    return new CodeKeyRing(undefined, { current, retiring: [] }, undefined);
  }

  /** The data folder's keys, made there (exclusively, 0600) when it has none. */
  static loadOrCreate(dataDir: string): CodeKeyRing {
    const file = path.join(dataDir, SERVER_CODE_KEY_FILE);
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
        const { held, stamp } = readRing(file);
        return new CodeKeyRing(file, held, stamp);
      }
      throw error;
    }
    const current = newCodeKey();
    try {
      writeSync(fd, ringText({ current, retiring: [] }));
    } finally {
      closeSync(fd);
    }
    return new CodeKeyRing(file, { current, retiring: [] }, stampOf(file));
  }

  /** The key desktops seal to now. */
  get current(): CodeKey {
    return this.fresh().current;
  }

  get retiring(): readonly CodeKey[] {
    return this.fresh().retiring;
  }

  /** The key of this id (current or retiring); undefined once it was deleted. */
  byId(id: string): CodeKey | undefined {
    const held = this.fresh();
    return [held.current, ...held.retiring].find((k) => k.id === id);
  }

  /**
   * The ring as the file holds it: its stamp looked at once a turn of the event loop (a codes batch
   * judges all its requests in one synchronous loop: one stat a batch, not one a code, which was ~2% of
   * the server's CPU under the codes load). Whatever runs after this turn looks at the file again, so a
   * rotation or a deletion is seen by the next batch, as before by the next request.
   */
  private fresh(): Held {
    if (this.file === undefined || this.lookedThisTurn) return this.held;
    this.lookedThisTurn = true;
    queueMicrotask(() => {
      this.lookedThisTurn = false;
    });
    const stamp = stampOf(this.file);
    if (stamp !== this.stamp) {
      const read = readRing(this.file);
      this.held = read.held;
      this.stamp = read.stamp;
    }
    return this.held;
  }

  /**
   * Replaces the file with `held` (a new file, 0600, renamed over the old: a reader sees the old
   * ring or the new, never half). The caller holds the rotation lock (rotation.ts).
   */
  replace(held: Held): void {
    if (this.file === undefined) throw new CrewvaultError('INVALID_INPUT', 'This server holds its code key in memory only: there is no key file to rotate.');
    const temporary = `${this.file}.${process.pid}.new`;
    rmSync(temporary, { force: true });
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, ringText(held));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
    this.held = held;
    this.stamp = stampOf(this.file);
  }

  /** Reads the file again now (the rotation lock was just taken: another process may have rotated). */
  reload(): Held {
    if (this.file !== undefined) {
      const read = readRing(this.file);
      this.held = read.held;
      this.stamp = read.stamp;
    }
    return this.held;
  }
}

function ringText(held: Held): string {
  const der = (k: CodeKey): string => k.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64url');
  return `${JSON.stringify({ version: 2, current: der(held.current), retiring: held.retiring.map(der) }, null, 2)}\n`;
}

function stampOf(file: string): string {
  const s = statSync(file, { bigint: true });
  return `${s.ino}:${s.size}:${s.ctimeNs}`;
}

function x25519(der: string, file: string): CodeKey {
  const key = createPrivateKey({ key: Buffer.from(der, 'base64url'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'x25519') throw new CrewvaultError('VAULT_CORRUPT', `${file} holds a code key that is not X25519`);
  return codeKeyOf(key);
}

/** Read through one descriptor: refused when others may read it (before a byte is parsed), or when it is not a code key file. */
function readRing(file: string): { held: Held; stamp: string } {
  const fd = openSync(file, 'r');
  try {
    const stat = fstatSync(fd, { bigint: true });
    if ((Number(stat.mode) & 0o077) !== 0) {
      throw new CrewvaultError('FORBIDDEN', `${file} may be read by others: check who copied it, then "chmod 600" it`);
    }
    let parsed: z.infer<typeof codeKeyFileSchema>;
    try {
      const result = codeKeyFileSchema.safeParse(JSON.parse(readFileSync(fd, 'utf8')));
      if (!result.success) throw new CrewvaultError('VAULT_CORRUPT', `${file} is not a Crewvault code key file`);
      parsed = result.data;
    } catch (error) {
      if (error instanceof SyntaxError) throw new CrewvaultError('VAULT_CORRUPT', `${file} is not a Crewvault code key file`);
      throw error;
    }
    const held = parsed.version === 1
      ? { current: x25519(parsed.codeKey, file), retiring: [] }
      : { current: x25519(parsed.current, file), retiring: parsed.retiring.map((k) => x25519(k, file)) };
    return { held, stamp: `${stat.ino}:${stat.size}:${stat.ctimeNs}` };
  } finally {
    closeSync(fd);
  }
}
