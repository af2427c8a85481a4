// The sign-in lines (server/auth/turns.ts): works of one key one at a time, in the order asked;
// keys of several works taken without deadlock; a full line refused at once; nothing kept after.
// Works are held open by promises the test settles (no timers, no sleeps).
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { KeyedTurns, MAX_WAITING_PER_KEY } from '../../server/auth/turns';

const refusal = (): CrewvaultError => new CrewvaultError('TOO_MANY_ATTEMPTS', 'full');

/** A promise and its resolve, for holding a work open. */
function gate(): { readonly promise: Promise<void>; readonly open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets every queued promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe('keyed turns', () => {
  it('runs the works of one key one at a time, in the order asked, and others beside them', async () => {
    const turns = new KeyedTurns();
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const run = (name: string, keys: string[]): Promise<void> => turns.run(keys, refusal, async () => {
      started.push(name);
      const g = gate();
      gates.set(name, g);
      await g.promise;
    });
    const all = [run('a1', ['A']), run('a2', ['A']), run('b1', ['B']), run('a3', ['A'])];
    await settle();
    expect(started).toEqual(['a1', 'b1']);
    expect(turns.queued('A')).toBe(3);
    gates.get('a1')?.open();
    await settle();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    gates.get('a2')?.open();
    gates.get('b1')?.open();
    await settle();
    expect(started).toEqual(['a1', 'b1', 'a2', 'a3']);
    gates.get('a3')?.open();
    await Promise.all(all);
    expect([turns.queued('A'), turns.queued('B'), turns.size]).toEqual([0, 0, 0]);
  });

  it('takes two keys for a work without deadlock, in either order, however the works overlap (500 works on 3 accounts and 2 addresses)', async () => {
    const turns = new KeyedTurns();
    const holding = new Map<string, number>();
    let overlaps = 0;
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const works = Array.from({ length: 500 }, () => {
      const pair = [`account ${next(3)}`, `address ${next(2)}`];
      const keys = next(2) === 0 ? pair : [...pair].reverse();
      return turns.run(keys, refusal, async () => {
        for (const key of keys) {
          if ((holding.get(key) ?? 0) > 0) overlaps += 1;
          holding.set(key, (holding.get(key) ?? 0) + 1);
        }
        for (let i = 0; i < next(4); i += 1) await Promise.resolve();
        for (const key of keys) holding.set(key, (holding.get(key) ?? 0) - 1);
      }).catch((error: unknown) => (error instanceof CrewvaultError ? error.code : 'other'));
    });
    const outcomes = await Promise.all(works);
    expect(overlaps).toBe(0);
    // The lines filled past their limit and those works were refused, the rest all ran.
    expect(new Set(outcomes)).toEqual(new Set([undefined, 'TOO_MANY_ATTEMPTS']));
    expect(['account 0', 'account 1', 'account 2', 'address 0', 'address 1'].map((k) => turns.queued(k))).toEqual([0, 0, 0, 0, 0]);
    expect(turns.size).toBe(0);
  });

  it('refuses at once, queueing nothing, when a line already holds the most it may', async () => {
    const turns = new KeyedTurns();
    const hold = gate();
    const queued = Array.from({ length: MAX_WAITING_PER_KEY }, () => turns.run(['A'], refusal, () => hold.promise));
    await expect(turns.run(['B', 'A'], refusal, () => Promise.resolve())).rejects.toThrow('full');
    expect([turns.queued('A'), turns.queued('B')]).toEqual([MAX_WAITING_PER_KEY, 0]);
    hold.open();
    await Promise.all(queued);
    await turns.run(['B', 'A'], refusal, () => Promise.resolve());
    expect(turns.queued('A')).toBe(0);
  });

  it('lets a key go when its work throws', async () => {
    const turns = new KeyedTurns();
    await expect(turns.run(['A', 'X'], refusal, () => Promise.reject(new Error('broke')))).rejects.toThrow('broke');
    expect([turns.queued('A'), turns.queued('X')]).toEqual([0, 0]);
    await expect(turns.run(['X'], refusal, () => Promise.resolve(5))).resolves.toBe(5);
    expect(turns.size).toBe(0);
  });

  it('takes a key named twice once', async () => {
    const turns = new KeyedTurns();
    await expect(turns.run(['K', 'K'], refusal, () => Promise.resolve('done'))).resolves.toBe('done');
    expect(turns.size).toBe(0);
  });
});
