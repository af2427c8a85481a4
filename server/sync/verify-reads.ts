/**
 * The reads of pushes' signature checks before the lock (verify.ts verifyBeforeLock, one statement
 * a push: store/signers.ts verifyReads), taken for the pushes that arrive together: while one read
 * is out, the pushes that arrive wait and go together in the next (as session-reads.ts does for
 * sessions). Pushes of one vault, account and set of devices share one statement, which asks for
 * the union of their events and batches; each is handed what its own statement would have read
 * (only its own events and batches, its own copies of what verify.ts changes). Each push's read
 * is still made by a statement started after the push arrived, from one snapshot of the database,
 * and the check in the lock (holdVerified) still compares that snapshot with the one it holds.
 * One statement rather than one a push spares the server a pooled connection and a socket write
 * and PostgreSQL a statement (the signers' snapshot, keys and people) per push.
 * Must never: hand a push a read made before it arrived, or another vault's, account's or
 * device set's read.
 */
import type { Queryable } from '../store/db';
import { verifyReads, type VerifyReads } from '../store/signers';

/** The most pushes one statement reads for (its array parameters stay small). */
const MAX_READ = 64;

interface Waiting {
  readonly vaultId: string;
  readonly accountId: string;
  readonly devices: readonly string[];
  readonly eventIds: readonly string[];
  readonly batchIds: readonly string[];
  readonly resolve: (read: VerifyReads) => void;
  readonly reject: (error: unknown) => void;
}

/** Pushes read together: same vault, same account, same devices (the snapshot names the devices). */
function shareKey(w: Waiting): string {
  return JSON.stringify([w.vaultId, w.accountId, [...new Set(w.devices)].sort()]);
}

/** What `w`'s own statement would have read, from the read made for its group (copies: verify.ts changes roles and disabled). */
function ownPart(read: VerifyReads, w: Waiting): VerifyReads {
  const events = new Set(w.eventIds);
  const batches = new Set(w.batchIds);
  return {
    snapshot: read.snapshot,
    person: read.person,
    vault: read.vault,
    ownerBound: read.ownerBound,
    keys: [...read.keys],
    roles: new Map(read.roles),
    disabled: new Set(read.disabled),
    devices: new Map(read.devices),
    storedEvents: new Set([...read.storedEvents].filter((id) => events.has(id))),
    batches: new Map([...read.batches].filter(([id]) => batches.has(id))),
  };
}

export class VerifyReadsInLine {
  private readonly db: Queryable;
  private queue: Waiting[] = [];
  private reading = false;

  constructor(db: Queryable) {
    this.db = db;
  }

  /** verifyReads's answer for these arguments, read by a statement started after this call. */
  read(vaultId: string, accountId: string, devices: readonly string[], eventIds: readonly string[], batchIds: readonly string[]): Promise<VerifyReads> {
    return new Promise((resolve, reject) => {
      this.queue.push({ vaultId, accountId, devices, eventIds, batchIds, resolve, reject });
      if (!this.reading) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.reading = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue;
        this.queue = [];
        const groups = new Map<string, Waiting[]>();
        for (const w of taken) {
          const key = shareKey(w);
          const group = groups.get(key) ?? [];
          if (group.length >= MAX_READ) groups.set(`${key}#${taken.indexOf(w)}`, group.splice(0));
          group.push(w);
          groups.set(key, group);
        }
        await Promise.all([...groups.values()].map((group) => this.readFor(group)));
      }
    } finally {
      this.reading = false;
    }
  }

  private async readFor(group: readonly Waiting[]): Promise<void> {
    const [first] = group;
    if (first === undefined) return;
    try {
      const events = [...new Set(group.flatMap((w) => w.eventIds))];
      const batches = [...new Set(group.flatMap((w) => w.batchIds))];
      const read = await verifyReads(this.db, first.vaultId, first.accountId, first.devices, events, batches);
      for (const w of group) w.resolve(ownPart(read, w));
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  }
}

/** One line per database (a server's context holds one): two servers in one process share nothing. */
const lines = new WeakMap<Queryable, VerifyReadsInLine>();

export function verifyReadsInLine(db: Queryable): VerifyReadsInLine {
  let line = lines.get(db);
  if (line === undefined) {
    line = new VerifyReadsInLine(db);
    lines.set(db, line);
  }
  return line;
}
