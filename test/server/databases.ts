/**
 * Every server test runs on both databases the server supports: a real PostgreSQL (a private
 * cluster, test/support/postgres.ts) and PGlite (in memory). `useTestDatabases()` registers
 * the cluster's start and stop around the file and closes what each test opened.
 *
 *   const databases = useTestDatabases();
 *   describe.each(DATABASE_KINDS)('on %s', (kind) => { … await databases.open(kind) … });
 */
import { afterAll, beforeAll } from 'vitest';
import { openPglite, openPostgres, type Database } from '../../server/store/db';
import { startTestPostgres, type TestPostgres } from '../support/postgres';

export const DATABASE_KINDS = ['postgres', 'pglite'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export interface TestDatabases {
  /** A new, empty database of that kind; closed after the file. */
  open(kind: DatabaseKind): Promise<Database>;
  /** A URL of a new, empty PostgreSQL database (for a server started as a process). */
  postgresUrl(): Promise<string>;
  /** The cluster's bin folder (pg_dump), when the tests started one. */
  binDir(): string | undefined;
}

export function useTestDatabases(): TestDatabases {
  let cluster: TestPostgres | undefined;
  const opened: Database[] = [];
  beforeAll(async () => {
    cluster = await startTestPostgres();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close().catch(() => undefined)));
    await cluster?.stop();
  }, 60_000);
  const postgresUrl = async (): Promise<string> => {
    if (cluster === undefined) throw new Error('the test PostgreSQL has not started');
    return cluster.createDatabase();
  };
  return {
    async open(kind) {
      const db = kind === 'postgres' ? openPostgres(await postgresUrl(), { maxConnections: 5 }) : await openPglite(undefined);
      opened.push(db);
      return db;
    },
    postgresUrl,
    binDir: () => cluster?.binDir,
  };
}
