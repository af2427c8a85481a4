/**
 * One small interface over the two databases the server runs on: a real PostgreSQL through
 * `pg` (a pool), and PGlite (PostgreSQL built to WebAssembly, in a data folder) when no
 * database is given. The same SQL runs on both; stores (SQL only there) see `Queryable`.
 *
 * Rows come back as plain objects whose column types differ between the two drivers (pg gives
 * int8 as a string, PGlite as a number): stores read columns through `text`/`int` below and
 * never trust a driver's type. Must never: log a statement's parameters (they carry records
 * and token hashes), or hold state outside the instance it returns.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { CrewvaultError } from '../../shared/errors';
import { rawQueryMessage, readRawRows, requireSelect, type RawRow } from './raw-rows';

export type Row = Readonly<Record<string, unknown>>;

export interface Queryable {
  /** One statement with $1… parameters. */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Transaction extends Queryable {
  /** Several statements without parameters (a migration's script). */
  exec(script: string): Promise<void>;
}

/** A transaction of the database itself (not a store's wrapper of one): it also reads rows as bytes. */
export interface DatabaseTransaction extends Transaction {
  /**
   * One statement whose rows come as each value's text-format bytes, in column order (null for
   * NULL), never decoded to strings: what a reply hands on as stored (a snapshot's bodies).
   * PGlite: straight from its protocol output (raw-rows.ts); pg decodes every value itself, so
   * there it is the same read encoded back. A single SELECT (or WITH … SELECT) only: a COPY from
   * the client would wait for data PGlite's synchronous exchange can never send.
   */
  queryBytes(sql: string, params: readonly unknown[]): Promise<RawRow[]>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: DatabaseTransaction) => Promise<T>): Promise<T>;
  /**
   * Hears `NOTIFY channel` from any process on this database (delivered when the notifying
   * transaction commits); resolves once listening, to a function that stops. PostgreSQL: one
   * connection of its own, kept apart from the pool; when it is lost (PostgreSQL restarted, a
   * network cut) it is made again until it holds, and `restored` is called once it listens
   * again: whatever was notified meanwhile was not heard, and the caller catches up.
   */
  listen(channel: string, handler: (payload: string) => void, restored?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** How soon a lost LISTEN connection is made again, and the longest wait between tries after that. */
const LISTEN_RETRY_FIRST_MS = 100;
const LISTEN_RETRY_MAX_MS = 5_000;

/** The most statement texts one database handle prepares (each connection keeps its own copy of each). */
const MAX_PREPARED = 500;

/**
 * A statement with parameters as a named prepared statement: PostgreSQL parses and plans it once
 * a connection instead of at every request (the session read every request makes joins seven
 * tables). Named by a digest of its text, so one name is always one text; stores' statements are
 * fixed texts (their values travel as parameters), and past MAX_PREPARED texts the rest run unnamed.
 */
function preparedStatements(): (sql: string, params: readonly unknown[]) => pg.QueryConfig {
  const names = new Map<string, string>();
  return (sql, params) => {
    let name = names.get(sql);
    if (name === undefined && params.length > 0 && names.size < MAX_PREPARED) {
      name = `cv_${createHash('sha256').update(sql, 'utf8').digest('base64url').slice(0, 24)}`;
      names.set(sql, name);
    }
    return name === undefined ? { text: sql, values: [...params] } : { name, text: sql, values: [...params] };
  };
}

/**
 * At most `size` at once; the rest wait their turn in order (a counting semaphore).
 */
function turns(size: number): { take(): Promise<void>; give(): void } {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    take() {
      if (free > 0) {
        free -= 1;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    give() {
      const next = waiting.shift();
      if (next === undefined) free += 1;
      else next();
    },
  };
}

/**
 * Connections of the pool a single statement never takes, so a transaction does not wait for one
 * behind a crowd of reads: every push's signature check reads before the vault's lock
 * (server/sync/verify.ts; one statement since store/signers.ts verifyReads, seven at once before
 * it), every request authenticates with one, and with 16 pushes in flight the transaction that writes the
 * next batch (the serial part every push waits on) waited in the pool's queue behind them (timed in
 * the server under the writes load: p90 70 ms, p99 114 ms to get a connection). Reads queue here
 * instead, and the pool's own queue (first come, first served) holds only transactions and the few
 * reads let through. The pool's size is unchanged.
 */
function keptForTransactions(max: number): number {
  return Math.min(3, Math.floor(max / 3));
}

/**
 * Every connection plans a prepared statement once (generic plans), not at each run: left to
 * choose, PostgreSQL kept planning the statements that take arrays of keys (a custom plan knows the
 * array's length and always looked cheaper), and planning was most of their cost. The session read
 * every request makes, 7 tables: 0.34-0.45 ms planning against 0.05-0.11 ms running, at every call
 * (pg_stat_statements under `npm run bench:sync`'s codes load: 5,870 plans for 5,866 calls, 12 with
 * this). Stores' statements are key lookups whose values travel as parameters; the pages whose plan
 * could depend on them are checked as generic plans (test/server/snapshot-plans.test.ts). A
 * connection string's own `options` replaces this one.
 */
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

/** pg's parsers left out: every value as the text PostgreSQL sent (queryBytes). */
const TEXT_AS_SENT = { getTypeParser: () => (value: string): string => value };

/** A value read under TEXT_AS_SENT as its UTF-8 bytes: the string pg read, or null for NULL. */
function sentBytes(value: unknown): Buffer | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw new CrewvaultError('INTERNAL', `queryBytes: pg gave a ${typeof value} where its text was asked for`);
  return Buffer.from(value, 'utf8');
}

/** A real PostgreSQL (15 or newer), e.g. `postgres://crewvault@db.internal/crewvault`. */
export function openPostgres(connectionString: string, options: { readonly maxConnections?: number } = {}): Database {
  const max = options.maxConnections ?? 10;
  const pool = new pg.Pool({ connectionString, max, options: GENERIC_PLANS });
  const reads = turns(max - keptForTransactions(max));
  const statement = preparedStatements();
  // An idle client's error (the server restarted) must not crash the process: the pool drops it.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    async query(sql, params = []) {
      await reads.take();
      try {
        return (await pool.query(statement(sql, params))).rows as Row[];
      } catch (error) {
        throw unavailable(error);
      } finally {
        reads.give();
      }
    },
    async transaction(work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailable(error);
      }
      // Checked out, a client has no error listener of the pool's: PostgreSQL going away between
      // two statements of this transaction would otherwise be an uncaught 'error' that ends the process.
      const lost = (): void => undefined;
      client.on('error', lost);
      let broken: Error | undefined;
      // The statements of this transaction, in the order asked: one connection runs one at a time, and a caller may
      // still ask several at once (none does now: verify.ts's Promise.all became one statement, store/signers.ts
      // verifyReads), so they queue here rather than in pg's own queue, which pg 8 deprecates and pg 9 removes. A
      // failed statement does not stop the ones queued after it. COMMIT and ROLLBACK wait for the queue: a statement
      // asked in time runs before the transaction ends, as on PGlite, never after it on a client back in the pool.
      let previous: Promise<unknown> = Promise.resolve();
      // No statement is asked from here on (the work has returned or failed) ...
      let ended = false;
      // ... and none still queued runs (the transaction is being rolled back).
      let failing = false;
      const refused = (): CrewvaultError => new CrewvaultError('INTERNAL', 'a statement was asked of a transaction that has ended');
      const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
        if (ended) return Promise.reject(refused());
        const next = previous.then(() => {
          if (failing) throw refused();
          return run();
        });
        previous = next.catch(() => undefined);
        return next;
      };
      try {
        await client.query('BEGIN');
        const tx: DatabaseTransaction = {
          async query(sql, params = []) {
            return (await inTurn(() => client.query(statement(sql, params)))).rows as Row[];
          },
          async queryBytes(sql, params) {
            requireSelect(sql);
            const result = await inTurn(() => client.query<unknown[]>({ ...statement(sql, params), rowMode: 'array', types: TEXT_AS_SENT }));
            return result.rows.map((row) => row.map(sentBytes));
          },
          async exec(script) {
            await inTurn(() => client.query(script));
          },
        };
        const result = await work(tx);
        ended = true;
        await previous;
        // A statement that failed unseen (its promise not awaited) leaves the transaction aborted, and PostgreSQL
        // answers COMMIT with ROLLBACK rather than an error: that is a failure here, as PGlite makes it one.
        const done = await client.query('COMMIT');
        if (done.command !== 'COMMIT') throw new CrewvaultError('INTERNAL', 'the transaction was rolled back: a statement of it failed');
        return result;
      } catch (error) {
        ended = true;
        failing = true;
        await previous;
        await client.query('ROLLBACK').catch(() => undefined);
        // A connection that failed is not given back to the pool: it is closed.
        if (databaseLost(error)) broken = error instanceof Error ? error : new Error('connection lost');
        throw unavailable(error);
      } finally {
        client.removeListener('error', lost);
        client.release(broken);
      }
    },
    async listen(channel, handler, restored) {
      if (!/^[a-z_]+$/.test(channel)) throw new CrewvaultError('INTERNAL', 'a channel name is lower-case letters');
      let stopped = false;
      let current: pg.Client | undefined;
      let retry: NodeJS.Timeout | undefined;
      /** One listening connection; when it ends while still wanted, another is made. */
      const connect = async (): Promise<void> => {
        const client = new pg.Client({ connectionString });
        // Its loss is handled at 'end' (a restart sends an error first): never a crash.
        client.on('error', () => undefined);
        client.on('notification', (message) => {
          if (message.channel === channel && message.payload !== undefined) handler(message.payload);
        });
        client.on('end', () => {
          if (current !== client || stopped) return;
          current = undefined;
          again(LISTEN_RETRY_FIRST_MS);
        });
        try {
          await client.connect();
          await client.query(`LISTEN ${channel}`);
        } catch (error) {
          await client.end().catch(() => undefined);
          throw error;
        }
        if (stopped) {
          await client.end().catch(() => undefined);
          return;
        }
        current = client;
      };
      // Until PostgreSQL answers again: soon at first, then less often (it may be down for a while).
      const again = (delayMs: number): void => {
        retry = setTimeout(() => {
          retry = undefined;
          connect().then(() => {
            if (!stopped) restored?.();
          }, () => {
            if (!stopped) again(Math.min(delayMs * 2, LISTEN_RETRY_MAX_MS));
          });
        }, delayMs);
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        await current?.end().catch(() => undefined);
        current = undefined;
      };
    },
    async close() {
      await pool.end();
    },
  };
}

/** PGlite in `dataDir` (created if missing), or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  return {
    kind: 'pglite',
    async query(sql, params = []) {
      return (await db.query<Row>(sql, [...params])).rows;
    },
    async transaction(work) {
      return db.transaction((tx) => work({
        async query(sql, params = []) {
          return (await tx.query<Row>(sql, [...params])).rows;
        },
        // Inside the transaction (PGlite has one connection, this transaction holds it): the statement's messages
        // written and its reply read here, under PGlite's query lock as its own statements run. The reply's chunks
        // are taken as they come (views of PGlite's memory, so copied), never through its own parser, which
        // execProtocolRaw still runs on every message (decoding each value) and keeps the results of.
        // Only while this transaction is open: between statements of a transaction block PostgreSQL sends no
        // notification (it holds them until the block ends), so the reply holds only what readRawRows knows. Outside
        // one a NOTIFY's NotificationResponse could come in it, which the reader refuses and LISTEN would then miss.
        async queryBytes(sql, params) {
          requireSelect(sql);
          return db.runExclusive(async () => {
            if (tx.closed || !db.isInTransaction()) throw new CrewvaultError('INTERNAL', 'a statement was asked of a transaction that has ended');
            const chunks: Buffer[] = [];
            await db.execProtocolRawStream(rawQueryMessage(sql, params), { syncToFs: false, onRawData: (chunk) => chunks.push(Buffer.from(chunk)) });
            return readRawRows(Buffer.concat(chunks));
          });
        },
        async exec(script) {
          await tx.exec(script);
        },
      }));
    },
    async listen(channel, handler) {
      return db.listen(channel, handler);
    },
    async close() {
      await db.close();
    },
  };
}

/**
 * Runs `read` as one consistent view of the database: every statement of it sees the same
 * committed state, so what a reply hands out (records) is judged by what it read with them (who
 * may see them). PostgreSQL: one REPEATABLE READ, READ ONLY transaction (its snapshot is taken at
 * the first statement after this one, and held to the end; a write committed meanwhile is not
 * seen). PGlite: its one connection runs one transaction at a time, so no write runs before this
 * one ends; the same statement is said there too. Without it, a revoke committed between two
 * statements of a pull handed the revoked member that group's records (review of key rotation, R2).
 */
export async function readConsistently<T>(db: Database, read: (tx: DatabaseTransaction) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return read(tx);
  });
}

/**
 * PostgreSQL out of reach for a moment (restarting, a network cut, a connection it ended): the
 * request may be tried again. Whether a transaction whose COMMIT met this was stored is not
 * known here, so nothing is said about it: desktops retry, and a push that was stored comes
 * back to them in a pull as their own (docs/SYNC.md).
 */
export class DatabaseUnavailable extends CrewvaultError {
  constructor(readonly lost: unknown) {
    // No retryAfterSeconds: the desktops' contract (shared/api/server-contract.ts) takes a code and a message only.
    super('BUSY', 'The server cannot reach its database just now: try again soon.');
  }
}

/** A refused, broken or ended connection, as pg reports it (network codes, SQLSTATE class 08, 57P01–57P03). */
function databaseLost(error: unknown): boolean {
  const code = sqlState(error);
  if (code !== undefined) return /^E[A-Z]+$/.test(code) || code.startsWith('08') || /^57P0[123]$/.test(code);
  return error instanceof Error && /^Connection terminated|^Client has encountered a connection error/.test(error.message);
}

function unavailable(error: unknown): unknown {
  return error instanceof CrewvaultError || !databaseLost(error) ? error : new DatabaseUnavailable(error);
}

/** A column read as text; anything else means the schema and the code disagree. */
export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new CrewvaultError('INTERNAL', `column ${column} is not text`);
  return value;
}

export function textOrNull(row: Row, column: string): string | null {
  return row[column] === null ? null : text(row, column);
}

/** An integer column (int4 or int8, which pg returns as a string), within Number's safe range. */
export function int(row: Row, column: string): number {
  const value = row[column];
  const number = typeof value === 'string' ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new CrewvaultError('INTERNAL', `column ${column} is not an integer`);
  return number;
}

/**
 * A failure to reach or enter the database, in one line that names no secret: the network's
 * error code, or PostgreSQL's own message for a refused login or a missing database (which
 * names the user or database, never a password). Undefined for any other error.
 */
export function unreachableDatabase(failure: unknown): CrewvaultError | undefined {
  const error = failure instanceof DatabaseUnavailable ? failure.lost : failure;
  const code = sqlState(error);
  if (code === undefined) return undefined;
  if (/^E[A-Z]+$/.test(code)) return new CrewvaultError('VAULT_MISSING', `cannot reach the server database (${code})`);
  // 28xxx: invalid authorization; 3D000: no such database.
  if (code.startsWith('28') || code === '3D000') {
    return new CrewvaultError('VAULT_MISSING', `cannot open the server database: ${error instanceof Error ? error.message : code}`);
  }
  return undefined;
}

/** PostgreSQL's SQLSTATE of a failed statement (both drivers set `code`), e.g. 23505. */
export function sqlState(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
