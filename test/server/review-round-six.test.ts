/**
 * Review round six (#15), what held on the server: the store's named prepared statements
 * (server/store/db.ts preparedStatements) after PostgreSQL cut every connection (a named
 * statement is prepared again on the new connection, never assumed there), and the cap of 500
 * statement texts (past it a text runs unnamed: a connection never holds more than 500). On a
 * real PostgreSQL only: PGlite prepares nothing by name. Must never: sleep (the cut is observed by
 * the next query, failing at most once) or read anything secret.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../server/store/db';
import { useTestDatabases } from './databases';

const databases = useTestDatabases();

const nameOf = (sql: string): string => `cv_${createHash('sha256').update(sql, 'utf8').digest('base64url').slice(0, 24)}`;

describe('named prepared statements on PostgreSQL', () => {
  it('are prepared again on a new connection after PostgreSQL cut the old one', async () => {
    const url = await databases.postgresUrl();
    const db = openPostgres(url, { maxConnections: 1 });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const sql = 'SELECT $1::int + 1 AS n';
      const asked = 'SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1';
      expect((await db.query(sql, [41]))[0]?.n).toBe(42);
      expect((await db.query(asked, [nameOf(sql)]))[0]?.n).toBe(1);
      const before = (await db.query('SELECT pg_backend_pid() AS pid, $1::int AS x', [0]))[0]?.pid;
      const cut = await admin.query('SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      expect(cut.rows.length).toBeGreaterThan(0);
      // The pool may still hand out the dead connection once (BUSY: the database is unreachable), never more.
      let failures = 0;
      let answer: unknown;
      for (let i = 0; i < 2 && answer === undefined; i++) {
        try {
          answer = (await db.query(sql, [1]))[0]?.n;
        } catch (error) {
          failures++;
          expect(error).toMatchObject({ code: 'BUSY' });
        }
      }
      expect(failures).toBeLessThanOrEqual(1);
      expect(answer).toBe(2);
      const after = (await db.query('SELECT pg_backend_pid() AS pid, $1::int AS x', [0]))[0]?.pid;
      expect(after).not.toBe(before);
      // Named on the new connection too (prepared there, not assumed).
      expect((await db.query(asked, [nameOf(sql)]))[0]?.n).toBe(1);
    } finally {
      await admin.end();
      await db.close();
    }
  });

  it('holds at most 500 texts a connection: the rest run unnamed, and every one answers right', async () => {
    const db = openPostgres(await databases.postgresUrl(), { maxConnections: 1 });
    try {
      for (let i = 0; i < 600; i++) {
        const [row] = await db.query(`SELECT $1::int + ${i} AS n`, [1]);
        expect(row?.n).toBe(i + 1);
      }
      const [row] = await db.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'cv\\_%'");
      expect(row?.n).toBeLessThanOrEqual(500);
      expect(row?.n).toBeGreaterThanOrEqual(499);
    } finally {
      await db.close();
    }
  });
});
