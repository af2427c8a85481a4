/**
 * Whole-vault backups: one consistent snapshot of the SQLite file, sealed under a backup
 * password (Argon2id → AES-256-GCM), and its verify and restore. Inside is the vault exactly as
 * it was — entries still sealed under their group keys, each user's keys under their own
 * password — with one more seal over all of it, so the backup file alone shows nothing, not
 * even what a vault file shows in clear (user names, row counts, the audit log's plain columns).
 *
 * File format, version 1 (every number big-endian):
 *   "CREWVAULT-BACKUP" (16 bytes) ‖ header length N (uint32, 2..4096) ‖ header (N bytes of JSON)
 *   ‖ AES-256-GCM ciphertext of the SQLite image ‖ GCM tag (16 bytes)
 *   header = { format: "crewvault-backup", version: 1, cipher: "aes-256-gcm",
 *              kdf: { algorithm: "argon2id", memory, iterations, parallelism, salt },
 *              nonce: base64 of 12 bytes, createdAt: ms since the epoch }
 *   key = Argon2id(backup password, header.kdf); associated data = every byte before the
 *   ciphertext, so a changed header fails the tag like a changed body.
 *
 * Must never leave a plaintext image behind (temporary copies live in a private 0700 folder and
 * are overwritten before they are deleted), never leave a half-written backup or vault under
 * the name asked for, and never hand Argon2 settings from a file beyond the vault's own limits.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CrewvaultError } from '../../shared/errors';
import { notWrittenReason } from '../export/new-file';
import { deriveKek, newKdfParams, type KdfParams } from './crypto';
import { openVaultFile, snapshotInto, translateSqliteError, VAULT_FORMAT, type ReadDb } from './db';
import { LATEST_SCHEMA_VERSION } from './migrations';
import { parseKdf, type KdfOptions } from './records';
import type { VaultSession } from './service';
import { verifyAuditChain } from './store-audit';
import { getMeta } from './store-meta';
import { Vault } from './vault';

const MAGIC = Buffer.from('CREWVAULT-BACKUP', 'ascii');
const FORMAT = 'crewvault-backup';
export const BACKUP_VERSION = 1;
const CIPHER = 'aes-256-gcm';
const LENGTH_BYTES = 4;
const MAX_HEADER_BYTES = 4096;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** A backup bigger than this is refused unread: a vault of a million entries is far below it. */
export const MAX_BACKUP_BYTES = 4 * 1024 ** 3;
const MIN_BACKUP_PASSWORD = 8;
const CHUNK_BYTES = 1024 * 1024;
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const HEADER_KEYS = ['cipher', 'createdAt', 'format', 'kdf', 'nonce', 'version'];

interface BackupHeader {
  readonly format: typeof FORMAT;
  readonly version: typeof BACKUP_VERSION;
  readonly cipher: typeof CIPHER;
  readonly kdf: KdfParams;
  /** base64 */
  readonly nonce: string;
  readonly createdAt: number;
}

/** What a backup holds, read from its image after every check passed. */
export interface BackupContents {
  /** When the backup was made (ms), from its header. */
  readonly createdAt: number;
  readonly vaultId: string;
  readonly schema: number;
  readonly users: number;
  readonly groups: number;
  readonly entries: number;
  readonly auditRows: number;
}

function notABackup(detail: string): CrewvaultError {
  return new CrewvaultError('VAULT_CORRUPT', `Not a readable Crewvault backup: ${detail}.`);
}

function wrongPassword(): CrewvaultError {
  // AES-GCM gives one answer for both: the tag does not match.
  return new CrewvaultError('WRONG_PASSWORD', 'Wrong backup password, or the backup file was altered or damaged (the two cannot be told apart).');
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Only an owner holds every group's key, so only an owner's backup is the whole vault's. */
export function requireBackupAllowed(session: VaultSession): void {
  if (session.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only an owner may back up the vault.');
}

export function validateBackupPassword(password: string): void {
  if ([...password].length < MIN_BACKUP_PASSWORD) {
    throw new CrewvaultError('INVALID_INPUT', `A backup password needs at least ${MIN_BACKUP_PASSWORD} characters; nothing was written.`);
  }
}

/**
 * Refuses a path where a new file cannot go: something is there already, or its folder is
 * missing. `exists` is the code for the first (a backup and a vault name it differently).
 * For a vault, a leftover `-wal` or `-shm` beside the name counts too: SQLite would take it
 * as this file's journal and replay someone else's pages into it.
 */
export function checkNewFile(file: string, exists: 'ALREADY_EXISTS' | 'VAULT_EXISTS'): void {
  const companions = exists === 'VAULT_EXISTS' ? ['', '-wal', '-shm', '-journal'] : [''];
  for (const suffix of companions) {
    try {
      statSync(`${file}${suffix}`);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT') continue;
      if (code === 'ENOTDIR') throw new CrewvaultError('INVALID_INPUT', `Cannot write ${file}: a part of that path is a file, not a folder.`);
      throw new CrewvaultError('INVALID_INPUT', `No permission to look at ${file}${suffix}.`);
    }
    throw new CrewvaultError(exists, `A file already exists at ${file}${suffix}; choose another path (nothing is overwritten).`);
  }
  let folder: ReturnType<typeof statSync> | undefined;
  try {
    folder = statSync(path.dirname(file));
  } catch {
    folder = undefined;
  }
  if (!folder?.isDirectory()) throw new CrewvaultError('INVALID_INPUT', `No folder ${path.dirname(file)}: create it first, or choose a folder that exists.`);
}

// ---- the file's header --------------------------------------------------------------------

function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(json.length);
  return Buffer.concat([MAGIC, length, json]);
}

/** The header's fields, each checked; the KDF against the limits a vault's own users have. */
function parseHeader(json: Buffer): BackupHeader {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw notABackup('its header is damaged');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw notABackup('its header is damaged');
  const fields = value as Record<string, unknown>;
  if (fields.format !== FORMAT) throw notABackup('its header names another format');
  if (typeof fields.version === 'number' && Number.isSafeInteger(fields.version) && fields.version > BACKUP_VERSION) {
    throw new CrewvaultError('VAULT_NEWER', `This backup was made by a newer Crewvault (backup format ${fields.version}; this one reads ${BACKUP_VERSION}). Update Crewvault to open it.`);
  }
  const { version, cipher, kdf, nonce, createdAt } = fields;
  if (version !== BACKUP_VERSION || cipher !== CIPHER || Object.keys(fields).sort().join() !== HEADER_KEYS.join()) throw notABackup('its header is damaged');
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9+/]{16}$/.test(nonce)) throw notABackup('its header is damaged');
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) throw notABackup('its header is damaged');
  let params: KdfParams;
  try {
    params = parseKdf(JSON.stringify(kdf));
  } catch {
    throw notABackup('its key settings are damaged or beyond what Crewvault allows');
  }
  return { format: FORMAT, version: BACKUP_VERSION, cipher: CIPHER, kdf: params, nonce, createdAt };
}

interface OpenedBackup {
  readonly fd: number;
  readonly size: number;
  readonly header: BackupHeader;
  /** Every byte before the ciphertext: the associated data. */
  readonly prefix: Buffer;
}

/** Opens a backup file and reads its header, refusing what is too big or not one, before any Argon2. */
function openBackupFile(file: string): OpenedBackup {
  let stats;
  try {
    stats = statSync(file);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CrewvaultError('NOT_FOUND', `No backup file at ${file}.`);
    throw new CrewvaultError('INVALID_INPUT', `No permission to read ${file}.`);
  }
  // A pipe or device would block the read, or never end.
  if (!stats.isFile()) throw new CrewvaultError('INVALID_INPUT', `${file} is not a regular file, so not a backup.`);
  if (stats.size > MAX_BACKUP_BYTES) throw notABackup('the file is over 4 GiB');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new CrewvaultError('INVALID_INPUT', `No permission to read ${file}.`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_BACKUP_BYTES) throw notABackup('the file is over 4 GiB');
    const start = Buffer.alloc(MAGIC.length + LENGTH_BYTES);
    if (readSync(fd, start, 0, start.length, 0) !== start.length || !start.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw notABackup('the file is not a Crewvault backup');
    }
    const headerBytes = start.readUInt32BE(MAGIC.length);
    if (headerBytes < 2 || headerBytes > MAX_HEADER_BYTES || size < start.length + headerBytes + SQLITE_HEADER.length + TAG_BYTES) {
      throw notABackup('the file is cut short or its header is damaged');
    }
    const json = Buffer.alloc(headerBytes);
    readSync(fd, json, 0, headerBytes, start.length);
    return { fd, size, header: parseHeader(json), prefix: Buffer.concat([start, json]) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

// ---- streams through AES-GCM --------------------------------------------------------------

function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/** Seals the file at `source` into `fd` (after what is already written there). */
function sealInto(fd: number, source: string, key: Buffer, header: BackupHeader, prefix: Buffer): void {
  const cipher = createCipheriv(CIPHER, key, Buffer.from(header.nonce, 'base64'));
  cipher.setAAD(prefix);
  const chunk = Buffer.alloc(CHUNK_BYTES);
  const input = openSync(source, 'r');
  try {
    for (let n = readSync(input, chunk); n > 0; n = readSync(input, chunk)) writeAll(fd, cipher.update(chunk.subarray(0, n)));
    writeAll(fd, cipher.final());
    writeAll(fd, cipher.getAuthTag());
  } finally {
    closeSync(input);
    chunk.fill(0);
  }
}

/**
 * Opens the backup into the file at `target`. The plaintext written before the tag is checked
 * is unauthenticated: the caller's private folder is wiped whatever happens, and nothing reads
 * the image unless this returns.
 */
function openInto(backup: OpenedBackup, key: Buffer, target: string): void {
  const decipher = createDecipheriv(CIPHER, key, Buffer.from(backup.header.nonce, 'base64'));
  decipher.setAAD(backup.prefix);
  const tag = Buffer.alloc(TAG_BYTES);
  readSync(backup.fd, tag, 0, TAG_BYTES, backup.size - TAG_BYTES);
  decipher.setAuthTag(tag);
  const end = backup.size - TAG_BYTES;
  const chunk = Buffer.alloc(CHUNK_BYTES);
  const output = openSync(target, 'wx', 0o600);
  try {
    for (let at = backup.prefix.length; at < end; ) {
      const n = readSync(backup.fd, chunk, 0, Math.min(CHUNK_BYTES, end - at), at);
      if (n === 0) throw notABackup('the file is cut short');
      at += n;
      writeAll(output, decipher.update(chunk.subarray(0, n)));
    }
    try {
      writeAll(output, decipher.final());
    } catch {
      throw wrongPassword();
    }
  } finally {
    closeSync(output);
    chunk.fill(0);
  }
}

// ---- private temporary files --------------------------------------------------------------

/** Overwrites a file with zeros, then deletes it (best effort: a copy-on-write or flash disk
 * may keep the old blocks, which is why the folder is private from the start). */
function wipeFile(file: string): void {
  try {
    const fd = openSync(file, 'r+');
    try {
      const size = fstatSync(fd).size;
      const zeros = Buffer.alloc(Math.min(CHUNK_BYTES, Math.max(size, 1)));
      for (let at = 0; at < size; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Gone already, or not ours to open: the folder's removal below still runs.
  }
  rmSync(file, { force: true });
}

/** Runs `work` with a new folder only this user can enter (mkdtemp makes it 0700), then wipes it. */
async function withPrivateFolder<T>(work: (folder: string) => Promise<T> | T): Promise<T> {
  const folder = mkdtempSync(path.join(tmpdir(), 'crewvault-backup-'));
  try {
    return await work(folder);
  } finally {
    for (const name of readdirSync(folder)) wipeFile(path.join(folder, name));
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Creates `file` (mode 0600, never over an existing one), lets `fill` write it, and syncs it
 * to disk; on any failure removes what was made, so nothing half-written stays under the name. */
function writeNewFile(file: string, exists: 'ALREADY_EXISTS' | 'VAULT_EXISTS', fill: (fd: number) => void): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') throw new CrewvaultError(exists, `A file already exists at ${file}; choose another path (nothing is overwritten).`);
    throw new CrewvaultError('INVALID_INPUT', `Cannot create ${file}: ${errnoOf(error) === 'EACCES' ? 'no permission' : 'the path is not writable'}.`);
  }
  try {
    fill(fd);
    fsyncSync(fd);
    closeSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw error;
  }
  syncFolder(path.dirname(file));
}

/** Makes the new name itself durable (a file fsynced in a folder that is not may vanish on a power cut). */
function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some systems cannot fsync a folder; the file itself is synced.
  }
}

// ---- the image's checks -------------------------------------------------------------------

/**
 * Checks a plain SQLite image as a vault: its header, SQLite's own integrity check, the vault's
 * format mark and schema, and the audit log's hash chain; then counts what it holds. Opened
 * read-only, so the image is not changed by looking.
 */
function inspectImage(file: string, createdAt: number): BackupContents {
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) throw notABackup('the sealed image is not a SQLite database');
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw notABackup('the sealed vault image fails SQLite\'s integrity check');
    const vault = db as ReadDb;
    if (getMeta(vault, 'format') !== VAULT_FORMAT) throw notABackup('the sealed database is not a Crewvault vault');
    const schema = Number(db.pragma('user_version', { simple: true }));
    if (schema > LATEST_SCHEMA_VERSION) {
      throw new CrewvaultError('VAULT_NEWER', `This backup holds a vault from a newer Crewvault (schema ${schema}; this one knows up to ${LATEST_SCHEMA_VERSION}). Update Crewvault to open it.`);
    }
    if (schema < 1) throw notABackup('the sealed vault has no schema');
    const chain = verifyAuditChain(vault);
    if (!chain.ok) throw new CrewvaultError('VAULT_TAMPERED', `The backup's audit log is broken at row ${chain.brokenAt}: ${chain.reason}.`);
    const count = (table: string): number => db?.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
    return {
      createdAt,
      vaultId: getMeta(vault, 'vault_id') ?? '',
      schema,
      users: count('users'),
      groups: count('access_groups'),
      entries: count('entries'),
      auditRows: chain.rows,
    };
  } catch (error) {
    if (error instanceof CrewvaultError) throw error;
    if (error instanceof Error && /no such table/.test(error.message)) throw notABackup('the sealed database is not a Crewvault vault');
    const translated = translateSqliteError(error);
    if (translated instanceof CrewvaultError) throw notABackup('the sealed vault image is damaged');
    throw translated;
  } finally {
    db?.close();
  }
}

// ---- making a backup ----------------------------------------------------------------------

export interface WriteBackupOptions {
  /** Argon2id settings for the backup password (DESIGN.md's default when absent). */
  readonly kdf?: KdfOptions;
  readonly now?: () => number;
}

/**
 * Backs up the vault at `vaultFile`, which `session` (an owner's) has open, to the new file
 * `target`, sealed under `backupPassword`.
 * The audit row comes first, so the backup holds the record of its own making; the snapshot is
 * SQLite's `VACUUM INTO` from a connection of its own: one read transaction, so writes made
 * meanwhile by this or any process are wholly in it or wholly not, and free pages are left out.
 */
export async function writeBackup(
  session: VaultSession,
  vaultFile: string,
  target: string,
  backupPassword: string,
  options: WriteBackupOptions = {},
): Promise<BackupContents> {
  requireBackupAllowed(session);
  validateBackupPassword(backupPassword);
  checkNewFile(target, 'ALREADY_EXISTS');
  const now = (options.now ?? Date.now)();
  const header: BackupHeader = {
    format: FORMAT,
    version: BACKUP_VERSION,
    cipher: CIPHER,
    kdf: newKdfParams(options.kdf),
    nonce: randomBytes(NONCE_BYTES).toString('base64'),
    createdAt: now,
  };
  const prefix = encodeHeader(header);
  // Both Argon2 runs before the snapshot: the plain image exists for as short a time as can be.
  const key = await deriveKek(backupPassword, header.kdf);
  try {
    const db = openVaultFile(vaultFile);
    try {
      const to = `to ${path.resolve(target)}`;
      await session.recordBackup(to);
      try {
        return await withPrivateFolder((folder) => {
          const image = path.join(folder, 'vault.sqlite');
          // VACUUM INTO writes into an empty file that exists: made here, 0600 from its first byte.
          closeSync(openSync(image, 'wx', 0o600));
          snapshotInto(db, image);
          // A backup that would not verify is not written.
          const contents = inspectImage(image, now);
          writeNewFile(target, 'ALREADY_EXISTS', (fd) => {
            writeAll(fd, prefix);
            sealInto(fd, image, key, header, prefix);
          });
          return contents;
        });
      } catch (error) {
        // The row above went first so the backup holds it; when no backup came of it, the log
        // says so too, with why (a code, never a message), as an export's does.
        await session.recordBackup(`${to}: not written (${notWrittenReason(error)})`).catch(() => undefined);
        throw error;
      }
    } finally {
      db.close();
    }
  } finally {
    key.fill(0);
  }
}

// ---- verify and restore -------------------------------------------------------------------

/** Opens the backup at `file` into `image` (a path in a private folder); returns its header. */
async function openBackup(file: string, password: string, image: string): Promise<BackupHeader> {
  const backup = openBackupFile(file);
  try {
    const key = await deriveKek(password, backup.header.kdf);
    try {
      openInto(backup, key, image);
    } finally {
      key.fill(0);
    }
    return backup.header;
  } finally {
    closeSync(backup.fd);
  }
}

/** Opens and checks a backup without writing anything but a private temporary copy. */
export async function verifyBackup(file: string, password: string): Promise<BackupContents> {
  return withPrivateFolder(async (folder) => {
    const image = path.join(folder, 'vault.sqlite');
    const header = await openBackup(file, password, image);
    return inspectImage(image, header.createdAt);
  });
}

/**
 * Writes the vault inside the backup at `file` to `target`: a new file (0600) in a folder that
 * exists. Verified first as `verifyBackup` does, then opened as a vault (which migrates an older
 * schema forward). On any failure the new file and its journal are removed.
 */
export async function restoreBackup(file: string, password: string, target: string): Promise<BackupContents> {
  checkNewFile(target, 'VAULT_EXISTS');
  return withPrivateFolder(async (folder) => {
    const image = path.join(folder, 'vault.sqlite');
    const header = await openBackup(file, password, image);
    const contents = inspectImage(image, header.createdAt);
    writeNewFile(target, 'VAULT_EXISTS', (fd) => {
      const chunk = Buffer.alloc(CHUNK_BYTES);
      const input = openSync(image, 'r');
      try {
        for (let n = readSync(input, chunk); n > 0; n = readSync(input, chunk)) writeAll(fd, chunk.subarray(0, n));
      } finally {
        closeSync(input);
        chunk.fill(0);
      }
    });
    try {
      const vault = Vault.open(target);
      try {
        if ((await vault.id()) !== contents.vaultId || !(await vault.verifyAudit()).ok) throw notABackup('the restored vault does not read back as it was sealed');
      } finally {
        await vault.close();
      }
    } catch (error) {
      for (const suffix of ['', '-wal', '-shm', '-journal']) {
        try {
          unlinkSync(`${target}${suffix}`);
        } catch {
          // Not there.
        }
      }
      throw error;
    }
    return contents;
  });
}
