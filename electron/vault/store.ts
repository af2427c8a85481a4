/**
 * The store boundary (issue #13): what every vault service talks to instead of a database.
 * A `VaultStore` runs one unit of work as one transaction over the typed handles of db.ts —
 * `read` with a ReadDb, `write` with a WriteDb — and answers with a promise. Every write also
 * answers with its change set (store-changes.ts: the objects, links and audit events it wrote,
 * by global id), which is what the team server is sent.
 *
 * `SqliteVaultStore` is the desktop's: better-sqlite3 on the vault file, synchronous inside
 * (the work runs at once, in the calling thread; a worker thread is not needed for the UI's
 * budgets). A remote store (a server, or a worker owning the connection) stands in the same
 * place: it takes the same work and the same handles, and the services do not change.
 *
 * The one rule: **work never awaits.** A `work` callback is synchronous from start to end, so a
 * transaction never spans an await and nothing else interleaves inside it; a check and the act
 * it guards belong in one callback. Work must not call the store again (it has the handle).
 * SQL lives only in the store-*.ts files, called from inside work with its handle.
 * Must never hand a WriteDb out of a write, nor let a read write.
 */
import type Database from 'better-sqlite3';
import { checkpoint, createVaultFile, openVaultFile, snapshotInto, takeSealedReplaced, translateSqliteError, withWrite, type ReadDb, type WriteDb } from './db';
import { changesBetween, currentSequence, type ChangeSet } from './store-changes';
import { CrewvaultError } from '../../shared/errors';

/** A committed write: what the work returned, and what the write changed. */
export interface StoreWrite<T> {
  readonly value: T;
  readonly changes: ChangeSet;
}

export interface VaultStore {
  /** Runs `work` in one read transaction (one consistent view of the vault). */
  read<T>(work: (r: ReadDb) => T): Promise<T>;
  /** Runs `work` in one write transaction, all or nothing; answers once it has committed. */
  write<T>(work: (w: WriteDb) => T): Promise<StoreWrite<T>>;
  /** A consistent copy of the whole vault into `file` (an empty file that exists). */
  snapshotInto(file: string): Promise<void>;
  /** Folds the journal into the vault file and empties it (a store without one: nothing to do). */
  checkpoint(): Promise<void>;
  /** Folds the journal in and closes; later calls answer LOCKED. Closing twice is a no-op. */
  close(): Promise<void>;
  /** False once closed. */
  readonly isOpen: boolean;
}

function closedError(): CrewvaultError {
  return new CrewvaultError('LOCKED', 'The vault is closed: open it again.');
}

/** A failure as a rejected promise (SQLite's own codes mapped to the vault's). */
function failed(error: unknown): Promise<never> {
  const translated = translateSqliteError(error);
  return Promise.reject(translated instanceof Error ? translated : new Error(String(translated)));
}

const NO_CHANGES = { objects: [], links: [], events: [] } as const;

/**
 * The one rule, held at run time: work that hands back a promise (an async callback) has only
 * begun — what it does after its first await would run after the commit, outside the
 * transaction, where a check no longer guards its act. Thrown inside the transaction, so
 * what the work wrote so far is rolled back. Type-checking cannot see it (T may be a promise).
 */
function mustBeSettled<T>(value: T): T {
  if (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function') {
    // Its rejection, if any, is not this call's answer: the refusal below is.
    (value as unknown as PromiseLike<unknown>).then(undefined, () => undefined);
    throw new CrewvaultError('INTERNAL', 'A vault transaction was given work that awaits: nothing was written.');
  }
  return value;
}

export class SqliteVaultStore implements VaultStore {
  private readonly db: ReadDb;
  /** One read transaction function, made once (BEGIN DEFERRED … COMMIT around the work). */
  private readonly inRead: Database.Transaction<(work: (r: ReadDb) => unknown) => unknown>;

  constructor(db: ReadDb) {
    this.db = db;
    this.inRead = db.transaction((work: (r: ReadDb) => unknown) => work(db));
  }

  /** Opens an existing vault file (migrating it forward): db.ts openVaultFile. */
  static open(file: string): SqliteVaultStore {
    return new SqliteVaultStore(openVaultFile(file));
  }

  /** Creates a new vault file and its schema: db.ts createVaultFile. */
  static create(file: string, createFolder = true): SqliteVaultStore {
    return new SqliteVaultStore(createVaultFile(file, createFolder));
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  read<T>(work: (r: ReadDb) => T): Promise<T> {
    try {
      if (!this.db.open) throw closedError();
      // Already inside a transaction (never from a service: work does not call the store).
      if (this.db.inTransaction) return Promise.resolve(mustBeSettled(work(this.db)));
      return Promise.resolve(this.inRead.deferred((r: ReadDb) => mustBeSettled(work(r))) as T);
    } catch (error) {
      return failed(error);
    }
  }

  write<T>(work: (w: WriteDb) => T): Promise<StoreWrite<T>> {
    try {
      if (!this.db.open) throw closedError();
      takeSealedReplaced(this.db);
      const done = withWrite(this.db, (w) => {
        const fromSeq = currentSequence(w);
        const value = mustBeSettled(work(w));
        const toSeq = currentSequence(w);
        // A write that wrote nothing shared (a local counter, a failed code's count) costs no more reads.
        return { value, changes: toSeq === fromSeq ? { fromSeq, toSeq, ...NO_CHANGES } : changesBetween(w, fromSeq, toSeq) };
      });
      // A tombstone, an edit or a re-seal emptied or replaced sealed bytes: the old ones leave the
      // main file and the WAL now, once for the whole write (db.ts noteSealedReplaced). The write
      // has committed; a checkpoint another process keeps from finishing is finished by a later one.
      if (takeSealedReplaced(this.db)) {
        try {
          checkpoint(this.db);
        } catch {
          // Committed already: the answer stays the write's.
        }
      }
      return Promise.resolve(done);
    } catch (error) {
      takeSealedReplaced(this.db);
      return failed(error);
    }
  }

  snapshotInto(file: string): Promise<void> {
    try {
      if (!this.db.open) throw closedError();
      snapshotInto(this.db, file);
      return Promise.resolve();
    } catch (error) {
      return failed(error);
    }
  }

  checkpoint(): Promise<void> {
    try {
      if (!this.db.open) throw closedError();
      checkpoint(this.db);
      return Promise.resolve();
    } catch (error) {
      return failed(error);
    }
  }

  close(): Promise<void> {
    if (this.db.open) {
      checkpoint(this.db);
      this.db.close();
    }
    return Promise.resolve();
  }
}
