/**
 * Ordering a request against another transaction on PostgreSQL, without sleeping on it: `hold`
 * runs in a transaction the test keeps open, the request is sent, and once it waits on a lock
 * that transaction holds (or has answered without waiting), `meanwhile` runs in the same
 * transaction and it commits. The request then goes on from what was committed. PostgreSQL
 * only: PGlite runs one transaction at a time, so the request could not start its own.
 */
import type { Database, Transaction } from '../../server/store/db';
import { text } from '../../server/store/db';

/** Polls `condition` (nothing is decided by a fixed sleep); gives up after 15 s. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function someoneWaitsOnALock(db: Database): Promise<boolean> {
  const rows = await db.query("SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
  return rows.some((row) => text(row, 'wait_event') !== '');
}

export async function sentWhileHeld<T>(db: Database, hold: (tx: Transaction) => Promise<void>, send: () => Promise<T>, meanwhile?: (tx: Transaction) => Promise<void>): Promise<T> {
  let answered = false;
  const { reply } = await db.transaction(async (tx) => {
    await hold(tx);
    const sent = send().finally(() => {
      answered = true;
    });
    await until(async () => answered || await someoneWaitsOnALock(db), 'the request waits on the held transaction or has answered');
    await meanwhile?.(tx);
    // Wrapped, so the transaction commits now instead of waiting on the request that waits on it.
    return { reply: sent };
  });
  return reply;
}
