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
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { WIPE_WAIT_MS, checkpoint, createVaultFile, openVaultFile, snapshotInto, takeSealedReplaced, translateSqliteError, withWrite, type ReadDb, type WriteDb } from './db';
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

/** How often an owed wipe (a checkpoint a reader kept from finishing) is tried again when nothing else runs. */
export const WIPE_RETRY_MS = 30_000;

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
  /**
   * A checkpoint that should have wiped replaced seals did not finish (another connection's read
   * held the WAL), or the file was opened with a WAL left in it: tried again before every read
   * and write, at close, and by `wipeOwed` (the desktop's timer), until one finishes.
   */
  private owed: boolean;
  /** The retry of an owed wipe while nothing reads or writes (unref'd: it never keeps the process up). */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(db: ReadDb) {
    this.db = db;
    this.inRead = db.transaction((work: (r: ReadDb) => unknown) => work(db));
    const wal = `${db.name}-wal`;
    this.owed = db.name !== ':memory:' && existsSync(wal) && statSync(wal).size > 0;
    this.scheduleRetry();
  }

  /** Whether replaced seals still wait for a checkpoint that finishes. */
  get wipeOwed(): boolean {
    return this.owed;
  }

  /** Tries the owed checkpoint once (a short wait for readers); answers whether anything is still owed. */
  retryWipe(): boolean {
    if (this.owed && this.db.open && !this.db.inTransaction) this.wipe();
    return this.owed;
  }

  /** The checkpoint that wipes replaced seals, with a short wait; a failure leaves it owed. */
  private wipe(): void {
    try {
      this.owed = !checkpoint(this.db, WIPE_WAIT_MS);
    } catch {
      this.owed = true;
    }
    this.scheduleRetry();
  }

  /** While a wipe is owed, one retry WIPE_RETRY_MS from now (each unfinished retry schedules the next). */
  private scheduleRetry(): void {
    if (!this.owed || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryWipe();
    }, WIPE_RETRY_MS);
    this.retryTimer.unref();
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
      if (this.owed) this.wipe();
      return Promise.resolve(this.inRead.deferred((r: ReadDb) => mustBeSettled(work(r))) as T);
    } catch (error) {
      return failed(error);
    }
  }

  write<T>(work: (w: WriteDb) => T): Promise<StoreWrite<T>> {
    try {
      if (!this.db.open) throw closedError();
      takeSealedReplaced(this.db);
      if (this.owed) this.wipe();
      const done = withWrite(this.db, (w) => {
        const fromSeq = currentSequence(w);
        const value = mustBeSettled(work(w));
        const toSeq = currentSequence(w);
        // A write that wrote nothing shared (a local counter, a failed code's count) costs no more reads.
        return { value, changes: toSeq === fromSeq ? { fromSeq, toSeq, ...NO_CHANGES } : changesBetween(w, fromSeq, toSeq) };
      });
      // A tombstone, an edit or a re-seal emptied or replaced sealed bytes: the old ones leave the
      // main file and the WAL now, once for the whole write (db.ts noteSealedReplaced). The write
      // has committed (a failure stays out of its answer); a reader that keeps the checkpoint from
      // finishing within WIPE_WAIT_MS leaves it owed, tried again before the next read or write.
      if (takeSealedReplaced(this.db)) this.wipe();
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
      this.owed = !checkpoint(this.db);
      this.scheduleRetry();
      return Promise.resolve();
    } catch (error) {
      return failed(error);
    }
  }

  close(): Promise<void> {
    if (this.db.open) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      checkpoint(this.db);
      this.owed = false;
      this.db.close();
    }
    return Promise.resolve();
  }
}
