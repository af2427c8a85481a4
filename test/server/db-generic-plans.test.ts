/**
 * On PostgreSQL, the server's connections plan a prepared statement once and run that plan again
 * (server/store/db.ts GENERIC_PLANS): the session read every request makes, asked again and again
 * on one connection, is never planned for its values (PostgreSQL's own count of custom plans,
 * pg_prepared_statements, stays 0), on the pool's single statements as in a transaction. Left to
 * choose, PostgreSQL planned it at every call: the first five runs of any statement always are.
 * Must never: pass when a connection plans per call.
 */
import { describe, expect, it } from 'vitest';
import { int, type Queryable } from '../../server/store/db';
import { migrate } from '../../server/store/migrate';
import { findSessionStandings } from '../../server/store/sessions';
import { useTestDatabases } from './databases';

const databases = useTestDatabases();
const RUNS = 8;

/** PostgreSQL's counts for the session read prepared on the connection this asks on. */
async function sessionReadPlans(db: Queryable): Promise<{ readonly generic: number; readonly custom: number }> {
  const rows = await db.query(
    "SELECT generic_plans, custom_plans, current_setting('plan_cache_mode') AS mode FROM pg_prepared_statements WHERE statement LIKE '%s.access_hash = ANY%'",
  );
  expect(rows).toHaveLength(1);
  const [row] = rows;
  if (row === undefined) throw new Error('the session read was not prepared');
  expect(row.mode).toBe('force_generic_plan');
  return { generic: int(row, 'generic_plans'), custom: int(row, 'custom_plans') };
}

describe('prepared statements on PostgreSQL', () => {
  it('are planned once a connection, not for each call\'s values', async () => {
    const db = await databases.open('postgres');
    await migrate(db);
    const counts = await db.transaction(async (tx) => {
      // Two hashes, then one: arrays of different lengths are what a custom plan is made for.
      for (let i = 0; i < RUNS; i += 1) await findSessionStandings(tx, i % 2 === 0 ? ['a'.repeat(43), 'b'.repeat(43)] : ['c'.repeat(43)]);
      return sessionReadPlans(tx);
    });
    expect(counts).toEqual({ generic: RUNS, custom: 0 });
  });

  it('holds on the pool\'s single statements too', async () => {
    const db = await databases.open('postgres');
    await migrate(db);
    // The pool has several connections: each run may land on any; every one of them counts no custom plan.
    for (let i = 0; i < RUNS; i += 1) await findSessionStandings(db, ['d'.repeat(43)]);
    const seen = await db.query("SELECT current_setting('plan_cache_mode') AS mode");
    expect(seen[0]?.mode).toBe('force_generic_plan');
    const counts = await db.transaction(async (tx) => {
      await findSessionStandings(tx, ['e'.repeat(43)]);
      return sessionReadPlans(tx);
    });
    expect(counts.custom).toBe(0);
    expect(counts.generic).toBeGreaterThanOrEqual(1);
  });
});
