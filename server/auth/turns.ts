/**
 * Sign-in work decided one at a time per account or per address (throttle.ts admitSignIn,
 * second-step.ts checkSecondStep) queues here, in this process, before it takes a database
 * connection. Each holds its row or advisory lock in a pooled transaction; without this queue a
 * burst on one name or address held one connection per request while it waited on that lock,
 * and the pool is what every other request needs (a review measured a probe transaction waiting
 * 126 ms behind 200 starts from one address, 390 ms behind 1,000). Now a burst waits in memory,
 * and at most one of its transactions per process waits on the database. A key with
 * MAX_WAITING_PER_KEY already queued is refused at once: no honest client sends that many at
 * once, and the queue stays bounded.
 * Must never: run two works of one key at once in this process, keep a key after its work has
 * settled, or take keys in an order other than the caller's (callers give one fixed order).
 */
import type { CrewvaultError } from '../../shared/errors';
import type { ServerContext } from '../context';

export const MAX_WAITING_PER_KEY = 64;

interface Line {
  /** Settles when the last work queued on this key has let it go. */
  tail: Promise<void>;
  /** Works queued on this key, the one running included. */
  queued: number;
}

export class KeyedTurns {
  private readonly lines = new Map<string, Line>();

  /** Works queued on `key` now (the running one included): for tests. */
  queued(key: string): number {
    return this.lines.get(key)?.queued ?? 0;
  }

  /** Keys with a line now (none left once every work has settled): for tests. */
  get size(): number {
    return this.lines.size;
  }

  /** Runs `work` holding every key, taken in the order given; `refusal` when a key's line is full (nothing queued then). */
  async run<T>(keys: readonly string[], refusal: () => CrewvaultError, work: () => Promise<T>): Promise<T> {
    const distinct = [...new Set(keys)]; // a key named twice would wait on itself
    if (distinct.some((key) => this.queued(key) >= MAX_WAITING_PER_KEY)) throw refusal();
    // Every line joined in this one synchronous step: whoever asks first is ahead in all of them (no two works wait on each other).
    const turns = distinct.map((key) => this.join(key));
    try {
      for (const turn of turns) await turn.ready;
      return await work();
    } finally {
      for (const turn of turns.reverse()) turn.leave();
    }
  }

  /** A place in `key`'s line: ready once everything before it has left; leave lets the next one go. */
  private join(key: string): { readonly ready: Promise<void>; readonly leave: () => void } {
    const line = this.lines.get(key) ?? { tail: Promise.resolve(), queued: 0 };
    this.lines.set(key, line);
    line.queued += 1;
    let leave: () => void = () => undefined;
    const left = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const ready = line.tail;
    line.tail = ready.then(() => left);
    return {
      ready,
      leave: () => {
        line.queued -= 1;
        if (line.queued === 0 && this.lines.get(key) === line) this.lines.delete(key);
        leave();
      },
    };
  }
}

/** One set of lines per server (its context): two apps in one process share nothing. */
const lines = new WeakMap<ServerContext, KeyedTurns>();

export function signInTurns(ctx: ServerContext): KeyedTurns {
  let turns = lines.get(ctx);
  if (turns === undefined) {
    turns = new KeyedTurns();
    lines.set(ctx, turns);
  }
  return turns;
}
