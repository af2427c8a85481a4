/**
 * Shared: the directory key's versions (schema 8): which version is current (meta), each user's wrap
 * of it (directory_keys, with the version it holds), and the history chain — every older
 * version sealed under the one after it — so whoever holds the current key can open what any
 * older one sealed, and nobody needs an older holder to rotate. Rows as stored.
 */
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';
import { getMeta, setMeta } from './store-meta';

const VERSION_KEY = 'directory_version';

export interface DirectoryWrapRow {
  /** The wrap's format (keys.ts DIRECTORY_WRAP_ANCHORED), bound into its associated data. */
  readonly key_version: number;
  /** Which directory key version it holds. */
  readonly dir_version: number;
  readonly wrapped_key: Buffer;
}

/** The current directory key version (1 until the first rotation). */
export function getDirectoryVersion(db: ReadDb): number {
  const value = Number(getMeta(db, VERSION_KEY) ?? '1');
  return Number.isSafeInteger(value) && value >= 1 ? value : 1;
}

export function setDirectoryVersion(db: WriteDb, version: number): void {
  setMeta(db, VERSION_KEY, String(version));
}

export function getDirectoryWrap(db: ReadDb, userId: number): DirectoryWrapRow | undefined {
  return db.prepare<[number], DirectoryWrapRow>('SELECT key_version, dir_version, wrapped_key FROM directory_keys WHERE user_id = ?').get(userId);
}

export function putDirectoryWrap(db: WriteDb, userId: number, row: DirectoryWrapRow): void {
  // An upsert, not a replace: the row keeps its revision and moves it on (schema 10).
  noteSealedReplaced(db);
  db.prepare('INSERT INTO directory_keys (user_id, key_version, dir_version, wrapped_key) VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET key_version = excluded.key_version, dir_version = excluded.dir_version, wrapped_key = excluded.wrapped_key')
    .run(userId, row.key_version, row.dir_version, row.wrapped_key);
}

/** Version `version`'s key, sealed under version `version + 1`'s. */
export function getDirectoryHistory(db: ReadDb, version: number): Buffer | undefined {
  return db.prepare<[number], { sealed_key: Buffer }>('SELECT sealed_key FROM directory_history WHERE version = ?').get(version)?.sealed_key;
}

export function putDirectoryHistory(db: WriteDb, version: number, sealed: Buffer): void {
  db.prepare('INSERT INTO directory_history (version, sealed_key) VALUES (?, ?)').run(version, sealed);
}

/** Version `version`'s key sealed again under the same next version (schema 10's re-seal by global id). */
export function replaceDirectoryHistory(db: WriteDb, version: number, sealed: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE directory_history SET sealed_key = ? WHERE version = ?').run(sealed, version);
}
