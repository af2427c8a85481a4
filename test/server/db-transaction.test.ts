/**
 * A transaction's statements asked at once (Promise.all, as verify.ts's recheck in the vault's
 * lock does) run one after another on its one connection, in the order asked, with their own
 * answers, a failed one stopping none after it; and pg is never handed a statement while one is
 * running (pg 8 warns that pg 9 will refuse it). On PostgreSQL and PGlite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('statements asked at once in a transaction on %s', (kind) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning.message);
  };
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('answer each in turn, in the order asked, and a failure stops none after it', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE seen (n integer PRIMARY KEY)');
    const results = await db.transaction(async (tx) => Promise.all([
      tx.query('INSERT INTO seen (n) VALUES ($1) RETURNING n', [1]),
      tx.query('SELECT count(*)::int AS c FROM seen'),
      tx.query('INSERT INTO seen (n) VALUES ($1) RETURNING n', [2]),
      tx.query('SELECT count(*)::int AS c FROM seen'),
      tx.query('SELECT n FROM seen ORDER BY n'),
    ]));
    expect(results.map((rows) => rows.map((row) => row.n ?? row.c))).toEqual([[1], [1], [2], [2], [1, 2]]);
    // A statement that fails is its own caller's error, and the ones queued after it still get an
    // answer (here an error too: the transaction is aborted, as PostgreSQL does) rather than hanging.
    let statuses: string[] = [];
    await db.transaction(async (tx) => {
      const settled = await Promise.allSettled([
        tx.query('SELECT n FROM seen WHERE n = $1', [1]),
        tx.query('SELECT n FROM no_such_table WHERE n = $1', [1]),
        tx.query('SELECT n FROM seen WHERE n = $1', [2]),
      ]);
      statuses = settled.map((result) => result.status);
    }).catch(() => undefined); // PGlite refuses to commit an aborted transaction; PostgreSQL rolls it back
    expect(statuses).toEqual(['fulfilled', 'rejected', 'rejected']);
    await new Promise((resolve) => setImmediate(resolve)); // a process warning is emitted on the next tick
    expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
  });
});
