/**
 * How the server tests form one push batch on purpose (review-round-seven, sync-push-batch): a
 * transaction of the test's own holds the vault's row (PostgreSQL's row lock, or PGlite's one
 * connection), the pushes are handed to the batcher one by one, each once the batcher counts the
 * ones before it waiting, so they form the next batch in that order; then the row is let go.
 * Real locks, no sleeps. For tests only.
 */
import type { Database } from '../../server/store/db';
import type { PushBatcher } from '../../server/sync/push-batch';

/**
 * Holds `vault`'s row (SELECT … FOR UPDATE) in a transaction of its own; `first` is started (its
 * transaction then waits on that row), then each of `rest` once the batcher counts the ones before
 * waiting; then the row is let go. Returns each push's promise, in the order given.
 */
export async function asOneBatch<T>(db: Database, batcher: Pick<PushBatcher, 'waiting'>, vault: string, first: () => Promise<T>, rest: ReadonlyArray<() => Promise<T>>): Promise<Array<Promise<T>>> {
  let letGo: () => void = () => undefined;
  let locked: () => void = () => undefined;
  const isLocked = new Promise<void>((resolve) => { locked = resolve; });
  const holding = db.transaction(async (tx) => {
    await tx.query('SELECT seq FROM sync_vaults WHERE vault_id = $1 FOR UPDATE', [vault]);
    locked();
    await new Promise<void>((resolve) => { letGo = resolve; });
  });
  await isLocked;
  const replies = [first()];
  // The first is out of the queue (in its own transaction, waiting) once nothing waits.
  while (batcher.waiting(vault) !== 0) await new Promise<void>((resolve) => { setImmediate(resolve); });
  for (const [i, push] of rest.entries()) {
    replies.push(push());
    while (batcher.waiting(vault) !== i + 1) await new Promise<void>((resolve) => { setImmediate(resolve); });
  }
  letGo();
  await holding;
  return replies;
}
