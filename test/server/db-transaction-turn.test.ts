/**
 * On PostgreSQL, a transaction gets a connection while the pool's others are taken by single
 * statements (server/store/db.ts keeps some for transactions): reads that wait (here on an advisory
 * lock another connection holds, as a push's signature check reads crowd the pool under the writes
 * load) no longer hold up the transaction that writes the next batch. The reads past their share
 * wait in order and are all answered once the lock goes. Real PostgreSQL; nothing slept on.
 * Must never: leave the lock held or a connection open after it.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../server/store/db';
import { useTestDatabases } from './databases';

const databases = useTestDatabases();
const LOCK = 0x7475726e;

describe('a transaction among waiting reads on PostgreSQL', () => {
  const opened: Database[] = [];
  const holders: pg.Client[] = [];
  afterAll(async () => {
    await Promise.all(holders.map((c) => c.end().catch(() => undefined)));
    await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
  });

  it('runs while as many reads as the pool holds wait on a lock, and every read is answered after', async () => {
    const url = await databases.postgresUrl();
    // Three connections: two for single statements, one kept for transactions.
    const db = openPostgres(url, { maxConnections: 3 });
    opened.push(db);
    const holder = new pg.Client({ connectionString: url });
    holders.push(holder);
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
    // Three reads that wait for the lock: more than the pool has connections for statements (a fourth would be the pool's last).
    const reads = [1, 2, 3].map((n) => db.query('SELECT pg_advisory_xact_lock_shared($1), $2::int AS n', [LOCK, n]).then((rows) => rows[0]?.n));
    let answered = 0;
    for (const read of reads) void read.then(() => (answered += 1));
    // Wait until the first two are blocked in PostgreSQL on the lock (they show as waiting on it).
    for (;;) {
      const waiting = await holder.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if ((waiting.rows[0] as { n: number }).n >= 2) break;
    }
    const inTransaction = await db.transaction(async (tx) => (await tx.query('SELECT 42 AS answer'))[0]?.answer);
    expect(inTransaction).toBe(42);
    expect(answered).toBe(0);
    await holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
    expect(await Promise.all(reads)).toEqual([1, 2, 3]);
  });
});
