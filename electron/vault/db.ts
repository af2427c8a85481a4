/**
 * The vault file: one SQLite database through better-sqlite3, opened with the settings a
 * vault needs (WAL, synchronous=FULL, foreign keys, secure_delete, a busy timeout) and handed
 * out as typed handles: a ReadDb for reads, a WriteDb only inside a write transaction, so a
 * function that writes cannot be called outside one (Signal Desktop's habit).
 * Must never open a file that is not a Crewvault vault as if it were one.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { CrewvaultError } from '../../shared/errors';
import { migrate } from './migrations';
import { checkSchemaObjects } from './schema-objects';

declare const readBrand: unique symbol;
declare const writeBrand: unique symbol;
/** A handle that may read. */
export type ReadDb = Database.Database & { readonly [readBrand]: true };
/** A handle inside a write transaction: it may read and write. */
export type WriteDb = ReadDb & { readonly [writeBrand]: true };

export const VAULT_FORMAT = 'crewvault';
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

function corrupt(detail: string): CrewvaultError {
  return new CrewvaultError('VAULT_CORRUPT', `Not a readable Crewvault vault: ${detail}.`);
}

function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // A deleted secret's bytes are overwritten, not left in free pages.
  db.pragma('secure_delete = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // 16 MiB of page cache (default 2 MiB): a bulk import's inserts into indexes on random keys
  // (lookups, names) went 12-14x slower for 10x the entries once they outgrew it. It is only
  // filled as pages are read, so a one-code CLI run stays as small as before.
  db.pragma('cache_size = -16384');
}

/** Distinct statements kept per connection; beyond it the cache starts again (the only
 * unbounded SQL is an IN list per number of groups, so this is never reached in practice). */
const STATEMENT_CACHE_LIMIT = 500;

/**
 * Makes `db.prepare` reuse one compiled statement per SQL text. The stores prepare their SQL
 * on every call; compiling it again each time was over a third of the time to add entries in
 * bulk, and each statement held memory until collected. Statements here are never put into
 * pluck/raw/expand modes, which would leak from one caller to the next.
 */
function cacheStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  const cached = (sql: string): Database.Statement => {
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
      statement = prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  db.prepare = cached as typeof db.prepare;
}

/** Maps SQLite's own failures to the vault's stable codes; passes everything else on. */
export function translateSqliteError(error: unknown): unknown {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
      return new CrewvaultError('BUSY', 'The vault is busy: another Crewvault process is writing to it. Try again.');
    }
    if (error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT')) return corrupt('the file is damaged');
  }
  return error;
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * What is at a vault path, looked at before anything opens it: a folder or a device would
 * otherwise fail deep in fs or SQLite as INTERNAL (EISDIR), and opening a FIFO to read its
 * header would wait for a writer for ever.
 */
function pathKind(file: string): 'missing' | 'file' | 'folder' | 'other' | 'forbidden' {
  try {
    const stats = statSync(file);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : 'other';
  } catch (error) {
    const code = errnoOf(error);
    // ENOTDIR: a part of the path is a file, so nothing can be there.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    if (code === 'EACCES' || code === 'EPERM') return 'forbidden';
    throw error;
  }
}

function notAFile(file: string, kind: 'folder' | 'other'): string {
  return kind === 'folder' ? `${file} is a folder, not a vault file.` : `${file} is not a regular file (a device, pipe or socket), so not a vault file.`;
}

/** Creates a new, empty vault file (mode 0600) and its schema. Refuses an existing file. */
/**
 * `createFolder`: make the file's folder (and its parents, mode 0700) when missing — for the
 * CLI and the per-user default path. A door that takes a typed path (the browser host's
 * "Open vault file…") passes false: it writes only into a folder that already exists.
 */
export function createVaultFile(file: string, createFolder = true): ReadDb {
  const kind = pathKind(file);
  if (kind === 'folder' || kind === 'other') throw new CrewvaultError('VAULT_EXISTS', `${notAFile(file, kind)} Give the path of a new file.`);
  if (kind === 'forbidden') throw new CrewvaultError('INVALID_INPUT', `No permission to look at ${file}.`);
  if (kind === 'file') throw new CrewvaultError('VAULT_EXISTS', `A file already exists at ${file}; choose another path.`);
  const cannotCreate = (error: unknown): unknown => {
    const code = errnoOf(error);
    if (code === 'ENOTDIR' || code === 'EEXIST') return new CrewvaultError('INVALID_INPUT', `Cannot create a vault at ${file}: a part of that path is a file, not a folder.`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new CrewvaultError('INVALID_INPUT', `No permission to create ${file}.`);
    return error;
  };
  if (!createFolder && pathKind(path.dirname(file)) !== 'folder') {
    throw new CrewvaultError('INVALID_INPUT', `No folder ${path.dirname(file)}: create it first, or choose a folder that exists.`);
  }
  try {
    if (createFolder) mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw cannotCreate(error);
  }
  try {
    // Create the file ourselves so it is 0600 from its first byte; SQLite gives its WAL and
    // shared-memory files the same mode as the database file.
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    // EEXIST here: something appeared at the path (or a dangling link is there).
    if (errnoOf(error) === 'EEXIST') throw new CrewvaultError('VAULT_EXISTS', `A file already exists at ${file}; choose another path.`);
    throw cannotCreate(error);
  }
  const db = new Database(file);
  configure(db);
  migrate(db);
  cacheStatements(db);
  return db as ReadDb;
}

/** Opens an existing vault, migrating it forward; refuses anything that is not one. */
export function openVaultFile(file: string): ReadDb {
  const kind = pathKind(file);
  if (kind === 'missing') throw new CrewvaultError('VAULT_MISSING', `No vault at ${file} (create one with "crewvault init").`);
  if (kind === 'folder' || kind === 'other') throw new CrewvaultError('VAULT_MISSING', notAFile(file, kind));
  if (kind === 'forbidden') throw new CrewvaultError('INVALID_INPUT', `No permission to read ${file}.`);
  const header = Buffer.alloc(SQLITE_HEADER.length);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'EACCES' || code === 'EPERM') throw new CrewvaultError('INVALID_INPUT', `No permission to read ${file}.`);
    throw error;
  }
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) throw corrupt('the file is not a SQLite database');
  let db: Database.Database | undefined;
  try {
    // Look before touching: a SQLite file that is not a vault must come out unchanged, and
    // configure() would switch it to WAL for good.
    const probe = new Database(file, { fileMustExist: true, readonly: true });
    try {
      const format = probe.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'format'").get();
      if (format?.value !== VAULT_FORMAT) throw corrupt('the database is not a Crewvault vault');
      // Before anything writes to it (migrations included): no trigger or view of anyone else's.
      checkSchemaObjects(probe);
    } finally {
      probe.close();
    }
    db = new Database(file, { fileMustExist: true });
    configure(db);
    migrate(db);
    checkSchemaObjects(db, true);
    cacheStatements(db);
    return db as ReadDb;
  } catch (error) {
    db?.close();
    if (error instanceof CrewvaultError) throw error;
    if (error instanceof Error && /no such table/.test(error.message)) throw corrupt('the database is not a Crewvault vault');
    throw translateSqliteError(error);
  }
}

/** Runs `work` in one IMMEDIATE transaction (the write lock taken up front, so two writers
 * queue on busy_timeout instead of failing mid-way); rolls back on any error. */
/** The schema version each connection last checked (schema-objects.ts). */
const checkedSchema = new WeakMap<object, number>();

/**
 * Checks the schema's triggers again when another process changed the schema since this
 * connection last looked: SQLite reloads a changed schema on an open connection without a
 * word, so a trigger added while a desktop keeps the vault open would run in its next write
 * (re-review). Called under the write lock, where nobody can change it before the work runs.
 */
function recheckSchema(db: Database.Database): void {
  // Through the statement cache: db.pragma compiles its statement again on every call, and this
  // runs before every write (~0.05 ms each on a loaded machine, a fifth of a code's audit row).
  const version = db.prepare<[], { schema_version: number }>('PRAGMA schema_version').get()?.schema_version ?? -1;
  if (checkedSchema.get(db) === version) return;
  checkSchemaObjects(db, true);
  checkedSchema.set(db, version);
}

export function withWrite<T>(db: ReadDb, work: (db: WriteDb) => T): T {
  try {
    return db.transaction(() => {
      recheckSchema(db);
      return work(db as WriteDb);
    }).immediate();
  } catch (error) {
    throw translateSqliteError(error);
  }
}

/** Write handles whose transaction replaced or emptied an entry's sealed bytes (see below). */
const sealedReplaced = new WeakSet<object>();

/**
 * Notes that this write replaced or emptied sealed bytes (a tombstone, an edit, an OTP removal,
 * a re-seal under a rotated key, a record taken in over one). secure_delete wipes the cells of
 * the page image the write puts in the WAL, but the main file keeps the old page — and the WAL
 * its older images — until a checkpoint, which SQLite makes only at 1,000 pages or at close:
 * the store checkpoints once after such a write commits (store.ts), however many rows it wiped.
 */
export function noteSealedReplaced(db: WriteDb): void {
  sealedReplaced.add(db);
}

/** Whether the write just run on `db` noted a replaced seal; clears the note. */
export function takeSealedReplaced(db: ReadDb): boolean {
  const noted = sealedReplaced.has(db);
  sealedReplaced.delete(db);
  return noted;
}

/** How long the checkpoint after a write waits for another connection's read: a write never stalls seconds on one. */
export const WIPE_WAIT_MS = 50;

/**
 * Folds the WAL into the file and empties it (old page images included), waiting at most
 * `waitMs` for another connection's read to end. Answers whether it finished: SQLite does not
 * throw when a reader keeps it from finishing, it answers busy, and the old images stay.
 */
export function checkpoint(db: ReadDb, waitMs: number = BUSY_TIMEOUT_MS): boolean {
  const shortened = waitMs !== BUSY_TIMEOUT_MS;
  if (shortened) db.pragma(`busy_timeout = ${waitMs}`);
  try {
    const rows = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return rows[0]?.busy === 0;
  } finally {
    if (shortened) db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

/** A consistent copy of the whole vault into `file` (an empty file that exists), as of one read. */
export function snapshotInto(db: ReadDb, file: string): void {
  try {
    db.prepare('VACUUM INTO ?').run(file);
  } catch (error) {
    throw translateSqliteError(error);
  }
}
