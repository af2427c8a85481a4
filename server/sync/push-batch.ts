/**
 * Sync pushes to one vault taken a batch at a time (a group commit, as server/codes/batch.ts
 * does for codes): the pushes that arrive while one transaction of the vault commits go together
 * in the next, in arrival order — one hold of the vault's row, one move of its sequence and one
 * NOTIFY for all of them, one COMMIT. Pushes to one vault took turns on its row anyway; this
 * spares each its own BEGIN, row lock, sequence write and COMMIT.
 *
 * Each push is judged on its own, exactly as if the pushes ran one after another in that order
 * (records.ts storePush, against what the earlier pushes of the batch wrote): a revoke in one is
 * seen by the next. A push refused (FORBIDDEN, CONFLICT…) or meeting conflicts changes nothing and
 * fails no neighbour: a push that could write before it is refused runs inside a savepoint, rolled
 * back when it is; the others write nothing before their verdict (storePush's promise). Should the
 * batch's transaction fail for anything but a lost database, its pushes run again one a transaction,
 * so only the push at fault fails. Every reply says only its own push's outcome. What each push
 * reads of the objects it names (their kind, revision and group) and of its pusher (as a person of
 * the vault) is read once for the batch and kept as each push leaves it: each push sees exactly what
 * it would have read at its turn, with two statements fewer each.
 * While one transaction of a vault writes, the next is started as soon as a push waits: it gets its
 * pooled connection, BEGIN and the vault's row request in meanwhile (asking for the row only once the
 * one before holds it, so it queues behind it) and takes the pushes waiting when it gets the row, so
 * none of that lies between two batches any more. A batch that fails as a whole and runs again one
 * push a transaction may then be stored after the batch that was waiting behind it.
 * Must never: answer a push before the transaction that stored it committed, let one push's
 * refusal undo or change another's, or hold one batcher for two servers.
 */
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import type { Caller } from '../auth/automation-tokens';
import type { ServerContext } from '../context';
import { DatabaseUnavailable, type Transaction } from '../store/db';
import { GroupReads, personOfAccount } from '../store/membership';
import { RecordsInLine } from '../store/records-in-line';
import { lockVault, revisionsOf, setVaultSeq } from '../store/sync';
import type { InVault } from './membership';
import { lightCheckOf } from './verify';
import { heldAfter, storePush, type HeldRecord, type HeldVault, type KnownToPush, type PushBatch } from './records';
import { storedNotice } from './stream';

/** One push as its route hands it over (checked for shape and reach already: records.ts push). */
export interface PushRequest {
  readonly auth: Caller;
  readonly batch: PushBatch;
  readonly source: string;
  /** The sequence the pusher's pulls reached, when its desktop says (schema 29): records.ts storePush judges a rotation by it. */
  readonly pulled?: number;
}

export type PushReply = ServerRouteOutput<'syncPush'>;
/** A push's own outcome: its reply, or why it was not stored (its refusal, or a failure the error handler reports as it would any). */
export type PushOutcome = PushReply | Error;

/** The most pushes, and about the most records, one transaction takes (at least one push). */
const MAX_PUSHES = 64;
const MAX_RECORDS = 5_000;
/**
 * Transactions, across all vaults, started in line behind one of their vault's: each holds a pooled
 * connection while it waits, so with many vaults pushing at once only a few wait in line and the
 * others' next batches start when their vault's transaction ends, as before.
 */
const MAX_IN_LINE = 2;

interface Pending extends PushRequest {
  readonly done: (outcome: PushOutcome) => void;
}

/** A refusal as its push's own outcome; anything else is not a verdict on the push and goes up. */
function refusal(error: unknown): CrewvaultError | undefined {
  return error instanceof CrewvaultError && !(error instanceof DatabaseUnavailable) ? error : undefined;
}

/**
 * Stores `requests` (all to `vaultId`) in one transaction, in order, each judged on its own;
 * returns one outcome per request, in the same order, once committed. Throws only when the
 * transaction as a whole failed (the caller decides what each push is told).
 */
export async function storePushes(ctx: ServerContext, vaultId: string, requests: readonly PushRequest[]): Promise<PushOutcome[]> {
  return storeTaken(ctx, vaultId, () => requests, undefined);
}

/**
 * Where a transaction stands among its vault's: it takes the vault's row only after the one before
 * it holds the row (`before`; so it queues behind it, never ahead), and says when it holds the row
 * itself (`holding`).
 */
interface Turn {
  readonly before: Promise<void>;
  readonly holding: () => void;
}

/**
 * storePushes whose pushes are taken (`take`) once the vault's row is held: a transaction started
 * while the one before still works has its connection, BEGIN and row request made by then, and
 * takes every push that arrived meanwhile.
 */
async function storeTaken(ctx: ServerContext, vaultId: string, take: () => readonly PushRequest[], turn: Turn | undefined): Promise<PushOutcome[]> {
  return ctx.db.transaction(async (opened) => {
    // The batch's writes wait and go together, at its end or before any statement that could see them (store/records-in-line.ts).
    const tx = new RecordsInLine(opened);
    if (turn !== undefined) await turn.before;
    const first = await lockVault(tx, vaultId);
    // A vault not started yet holds no row: the one after waits until this transaction has ended.
    if (first !== undefined) turn?.holding();
    const requests = take();
    let vault: HeldVault | undefined = first;
    // Read once for the whole batch, then kept as each push leaves it (what storePush would read at its turn):
    // every object the batch names, and each pushing account as a person (until people records change who is who).
    const ids = [...new Set(requests.flatMap((r) => r.batch.records.map((record) => record.id)))];
    const held = new Map<string, HeldRecord>(first === undefined ? [] : await revisionsOf(tx, vaultId, ids));
    const persons = new Map<string, InVault>();
    // Accounts whose earlier push in this transaction wrote nothing before its verdict: bound already (storePush binds a creator once).
    const bound = new Set<string>();
    // Groups and memberships as read (until a push with people records changes them).
    const groups = new GroupReads(vaultId);
    // What each push's signatures were checked by before the lock, read together now (verify.ts holdVerified then reads none
    // at its turn), and taken as standing only until a push that could move it (keys, device heads, people, a binding) runs.
    if (first !== undefined) await tx.checkSnapshots(vaultId, requests.flatMap((r) => lightCheckOf(r.batch, r.auth.user.id) ?? []));
    const outcomes: PushOutcome[] = [];
    for (const request of requests) {
      const account = request.auth.user.id;
      const hasPeople = request.batch.records.some((r) => r.kind === 'user' || r.kind === 'group' || r.kind === 'member');
      if (vault !== undefined && !hasPeople && account === vault.createdBy && !bound.has(account)) {
        // The creator bound already (as storePush's actingPerson would read it first, and then write nothing): no savepoint needed.
        const person = await personOfAccount(tx, vaultId, account);
        if (person !== undefined && !person.disabled) {
          persons.set(account, person);
          bound.add(account);
        }
      }
      // Only what may write before its verdict needs a savepoint: starting the vault, people records, or a creator binding itself.
      const guarded = vault === undefined || hasPeople || (account === vault.createdBy && !bound.has(account));
      if (guarded || lightCheckOf(request.batch, account) === undefined) tx.forgetSnapshots();
      // Groups are kept only while the vault's row was held from the start: a vault this batch starts could be
      // let go by a refused first push (its savepoint undone) and changed by another server meanwhile.
      const known: KnownToPush = { held, ...(guarded ? {} : { person: persons.get(account) }), ...(hasPeople || first === undefined ? {} : { groups }) };
      outcomes.push(await storeOne(tx, ctx, request, vault, guarded, known, (after) => {
        vault = after.vault;
        for (const record of after.stored) held.set(record.id, heldAfter(record));
        if (hasPeople) {
          // Who is who may have changed: judge each again.
          bound.clear();
          persons.clear();
          groups.clear();
        } else if (after.person.vaultUser !== null) {
          bound.add(account);
          // A creator binding itself in this push is judged as such once; the next push reads it bound.
          if (after.person.justBound !== true) persons.set(account, after.person);
        }
        // A creator not bound yet whose push named no author stays unbound: its next push is judged (and may bind it) as if alone.
      }));
    }
    const last: HeldVault | undefined = vault;
    // One move of the sequence and one notice for the whole batch, delivered on commit to every server process's streams.
    if (last !== undefined && last.seq > (first?.seq ?? 0)) await setVaultSeq(tx, vaultId, last.seq, storedNotice(vaultId, last.seq));
    // What still waits is written (batches of a push that stored no record).
    await tx.written();
    return outcomes;
  });
}

/** What a push not refused left: the vault after it, the pusher as a person, the records it stored. */
interface PushLeft {
  readonly vault: HeldVault;
  readonly person: InVault;
  readonly stored: readonly ReplicaRecord[];
}

/** One push of a batch: its outcome; `left` is told what it left, when it was not refused. */
async function storeOne(tx: Transaction, ctx: ServerContext, request: PushRequest, vault: HeldVault | undefined, guarded: boolean, known: KnownToPush, left: (after: PushLeft) => void): Promise<PushOutcome> {
  if (guarded) await tx.query('SAVEPOINT push');
  try {
    const { reply, ...after } = await storePush(tx, ctx, request.auth, request.batch, request.source, vault, known, request.pulled);
    if (guarded) await tx.query('RELEASE SAVEPOINT push');
    left(after);
    return reply;
  } catch (error) {
    const refused = refusal(error);
    if (refused === undefined) throw error;
    // Whatever it wrote before it was refused goes; what the pushes before it wrote stays.
    if (guarded) {
      await tx.query('ROLLBACK TO SAVEPOINT push');
      await tx.query('RELEASE SAVEPOINT push');
    }
    return refused;
  }
}

/**
 * A vault's pushes: those waiting, and where its transactions stand. At most two transactions of a
 * vault at once: one writing (it holds the vault's row), and the next, started as soon as a push
 * waits, which gets its connection, BEGIN and row request in while the one before commits (the
 * round trips and a wait for a pooled connection are no longer between two batches) and takes its
 * pushes only once it holds the row, so it takes every push that arrived until then.
 */
interface VaultQueue {
  queue: Pending[];
  /** A transaction has started and not yet taken its pushes (it takes whatever waits then). */
  pending: boolean;
  /** Transactions between their start and their end. */
  running: number;
  /** Settles once the transaction started last holds the vault's row (or has ended). */
  lastHold: Promise<void>;
}

export class PushBatcher {
  private readonly ctx: ServerContext;
  /** Each vault's waiting pushes; a vault is here while its batches are being written. */
  private readonly vaults = new Map<string, VaultQueue>();
  /** Transactions started in line that have not yet taken their pushes (at most MAX_IN_LINE). */
  private inLine = 0;

  constructor(ctx: ServerContext) {
    this.ctx = ctx;
  }

  /** How many pushes to `vault` wait for the next batch (undefined: none is being written). */
  waiting(vault: string): number | undefined {
    return this.vaults.get(vault)?.queue.length;
  }

  /** Resolves with the push's reply once the transaction that stored it committed; rejects with its own refusal. */
  take(request: PushRequest): Promise<PushReply> {
    return new Promise((resolve, reject) => {
      const done = (outcome: PushOutcome): void => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
      const vault = request.batch.vault;
      let state = this.vaults.get(vault);
      if (state === undefined) {
        state = { queue: [], pending: false, running: 0, lastHold: Promise.resolve() };
        this.vaults.set(vault, state);
      }
      state.queue.push({ ...request, done });
      this.startIfDue(vault, state);
    });
  }

  /**
   * Starts the vault's next transaction when pushes wait and none has been started for them: at once
   * when none of the vault's is under way, in line behind the one under way while fewer than
   * MAX_IN_LINE wait so; otherwise when the vault's transaction ends (each end looks again).
   */
  private startIfDue(vault: string, state: VaultQueue): void {
    if (state.pending || state.queue.length === 0) return;
    if (state.running > 0 && this.inLine >= MAX_IN_LINE) return;
    void this.start(vault, state);
  }

  /**
   * One transaction of `vault`. With none under way it takes its pushes at once (they are the ones
   * waiting now); otherwise it queues behind the one started before it and takes its pushes once it
   * holds the vault's row, after that one committed.
   */
  private async start(vault: string, state: VaultQueue): Promise<void> {
    const idle = state.running === 0;
    state.pending = true;
    state.running += 1;
    if (!idle) this.inLine += 1;
    let opened: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const turn: Turn = { before: state.lastHold, holding: opened };
    state.lastHold = hold;
    let batch: Pending[] = [];
    let taken = false;
    const takeNow = (): Pending[] => {
      taken = true;
      state.pending = false;
      if (!idle) this.inLine -= 1;
      batch = nextBatch(state.queue);
      // More than one transaction takes: the next starts now and queues behind this one.
      this.startIfDue(vault, state);
      return batch;
    };
    if (idle) takeNow();
    try {
      let outcomes: PushOutcome[];
      try {
        outcomes = await storeTaken(this.ctx, vault, idle ? () => batch : takeNow, turn);
      } catch (error) {
        // Failed before it took its pushes (its connection, BEGIN or the row): they are told as a failed batch's are.
        if (!taken) takeNow();
        outcomes = await this.alone(vault, batch, error);
      }
      // storePushes answers each push in order; one missing is a bug, said as one, never a success.
      batch.forEach((p, i) => p.done(outcomes[i] ?? new CrewvaultError('INTERNAL', 'a push of a batch went unanswered')));
    } finally {
      opened();
      state.running -= 1;
      this.startIfDue(vault, state);
      if (state.running === 0 && state.queue.length === 0 && !state.pending && this.vaults.get(vault) === state) this.vaults.delete(vault);
    }
  }

  /**
   * The batch's transaction failed as a whole. A lost database: every push is told so (none was
   * stored, or whether it was is not known: desktops retry). Anything else (a statement one push
   * made fail): each push again in a transaction of its own, so only that push fails.
   */
  private async alone(vault: string, batch: readonly Pending[], error: unknown): Promise<PushOutcome[]> {
    if (error instanceof DatabaseUnavailable || batch.length === 1) return batch.map(() => asOutcome(error));
    const outcomes: PushOutcome[] = [];
    for (const p of batch) {
      try {
        const [outcome] = await storePushes(this.ctx, vault, [p]);
        outcomes.push(outcome ?? new CrewvaultError('INTERNAL', 'a push went unanswered'));
      } catch (failed) {
        outcomes.push(asOutcome(failed));
      }
    }
    return outcomes;
  }
}

/** The front of `queue`, taken off it: MAX_PUSHES pushes at most, and no more than about MAX_RECORDS records (at least one push). */
function nextBatch(queue: Pending[]): Pending[] {
  let records = 0;
  let n = 0;
  while (n < queue.length && n < MAX_PUSHES) {
    const size = queue[n]?.batch.records.length ?? 0;
    if (n > 0 && records + size > MAX_RECORDS) break;
    records += size;
    n++;
  }
  return queue.splice(0, n);
}

/** A failed transaction as a push's outcome, as it was thrown (the app's error handler says and logs it as it would any). */
function asOutcome(error: unknown): Error {
  return error instanceof Error ? error : new CrewvaultError('INTERNAL', 'The server could not store this push.');
}

/** One batcher per server (its context): two apps in one process share nothing. */
const batchers = new WeakMap<ServerContext, PushBatcher>();

export function pushBatcher(ctx: ServerContext): PushBatcher {
  let batcher = batchers.get(ctx);
  if (batcher === undefined) {
    batcher = new PushBatcher(ctx);
    batchers.set(ctx, batcher);
  }
  return batcher;
}
