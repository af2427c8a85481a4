/**
 * The rate limit and audit of server-computed codes, taken a batch at a time: every request
 * waits until its count and its audit event are committed, and the requests that arrived while
 * the batch before was reading go together in the next (a group commit). One transaction, one
 * throttle statement and one audit statement per batch, not per request: the audit is a signed
 * chain under one lock (one signature a batch, server/audit.ts), and thousands of codes a second
 * would otherwise queue on it one by one.
 * Two batches of a process overlap (one holds its vaults' rows and waits for the audit's lock while
 * the one before, holding it, counts, audits and commits),
 * as two processes' batches always could: the later one counts and appends to the audit after the
 * earlier has ended, and every batch writes its count rows only under the audit's lock (in one
 * order of keys), so no two batches wait on each other's rows.
 *
 * Limits, per account: `perEntryStep` codes of one entry in one time step (a screen asks once a
 * step; a few more for a second window or a retry), and `perMinute` codes in all in a minute. Every
 * ask counts against the account behind it: an automation token's against its maker's, beside their
 * sessions' and their other tokens' (review D1: a budget per token was multiplied by making more),
 * while the audit still names the token that asked. A refused request is counted too (it was
 * asked) but not audited: the audit names the codes given.
 * Before any of that, in memory: at most MAX_WAITING_PER_ACCOUNT of an account's requests (of a session's, for one the batch reads itself) wait in
 * this process at once (queued or in a batch); one more is refused at once and never queued.
 *
 * Who may have the code is decided in the same transaction, per request (`judge`), from what
 * lookUpCodesLockingAudit reads there after holding the vaults' rows (holdVaults): a revoke, rotation or role
 * change a sync push commits is either seen by the batch or waits until the batch has committed, so
 * no code leaves after the revoke that cut its asker off committed. So is whether the asker still
 * stands (review D5): its automation token or session is read again, and held, with the vaults'
 * rows (holdVaultsAndAskers), so a token revoked or expired, or a session ended, after the request
 * was checked gets the refusal a fresh request would. A session's second step is judged again too,
 * by the rule authenticate applies (sessions.ts secondStepStanding), on its device rows held and the
 * MFA policy held shared with them and read in the statement after (store/mfa-policy.ts: a change under way is
 * waited for and judged by, one that comes later waits until the batch has committed): one whose second step no
 * longer stands is refused as an ended one. A session the codes route hands
 * over as presented (its access token's hash and device: server/app.ts SESSION_JUDGED_IN_HANDLER) is read here
 * for the first time and judged as authenticate and requireSecondStep judge a request (presentedStanding): the
 * batch is its request's authentication, one statement a code fewer than reading it for the request too.
 * Must never: give a code before its audit event is committed, decide access outside the
 * transaction that counts and audits the code, or hold one batcher for two servers.
 */
import { CrewvaultError } from '../../shared/errors';
import { appendAuditBatchAfter, type AuditEvent } from '../audit';
import { tokenStanding } from '../auth/automation-tokens';
import { secondStepRefusal } from '../auth/second-step';
import { presentedStanding, sessionStillStands, touchDue } from '../auth/sessions';
import { REFRESH_TTL_MS, type ServerContext } from '../context';
import { addThrottleCountsReadingAuditTail, holdVaultsAndAskers, lookUpCodesLockingAudit, type AskersHeld, type CodeHeld, type ThrottleCount } from '../store/codes';
import { touchSessions, type HeldSession } from '../store/sessions';

export interface CodeLimits {
  readonly perEntryStep: number;
  readonly perMinute: number;
}

export const DEFAULT_CODE_LIMITS: CodeLimits = { perEntryStep: 5, perMinute: 300 };

/**
 * The most requests of one account waiting in this process at once, queued or in a batch under way
 * (hostile review of 7 December: the budget was counted only by the batch, in the database, so a
 * client firing requests at once had them all held in memory first). One more is refused at once,
 * TOO_MANY_ATTEMPTS as a budget's refusal, and never queued. The default budget lets 300 codes a
 * minute through; a desktop asks one code a step for each entry it shows: a thousand at once is
 * over three minutes' budget, never an honest client's.
 */
export const MAX_WAITING_PER_ACCOUNT = 1_000;
/** The most requests one batch takes (its statements' arrays stay small). */
const MAX_BATCH = 1_000;
/** Batches under way at once: one reading while the one before counts, audits and commits. */
const MAX_OVERLAP = 2;
const MINUTE_MS = 60_000;

/**
 * Who asks, read again in the batch's transaction: an automation token (by id), or a session (by
 * id, with the expiry of the access token the request came with), each with the account it acts as
 * (whose budget it counts against, whichever token or session asks, and the audit's actor); or a session
 * as the request presented it and nothing read it yet (the codes route: the batch is its only read, and
 * judges it as authenticate would; the account is the session's person).
 */
export type Asker =
  | { readonly kind: 'token'; readonly id: string; readonly account: string }
  | { readonly kind: 'session'; readonly id: string; readonly accessExpiresAt: number; readonly account: string }
  | { readonly kind: 'presented'; readonly accessHash: string; readonly deviceId: string };

/**
 * Whose requests MAX_WAITING_PER_ACCOUNT counts: the account's, or, for a session the batch reads itself
 * (presented, its person not known before), that session's: one session then holds at most as many waiting as
 * an account would, and its person's other desktops are not refused for it.
 */
function waitingKeyOf(asker: Asker): string {
  return asker.kind === 'presented' ? `session ${asker.accessHash}` : `account ${asker.account}`;
}

export interface CodeRequest {
  readonly asker: Asker;
  readonly vault: string;
  readonly entry: string;
  readonly source: string;
  /**
   * Decides, in the batch's transaction, from what the server holds for this account and entry
   * (undefined: no live entry, or one of a group they do not hold): the grant, or the refusal.
   */
  readonly judge: (held: CodeHeld | undefined, now: number) => CodeGrant<unknown> | CrewvaultError;
}

/** A request the batch let through: the step its code is counted in, and what the judge handed on. */
export interface CodeGrant<T> {
  readonly step: number;
  /** When the step ends (ms): a refusal says how long until the next. */
  readonly stepEndsAt: number;
  readonly value: T;
}

interface Pending extends CodeRequest {
  readonly done: (outcome: Outcome) => void;
}

type Outcome = { readonly grant: CodeGrant<unknown>; readonly now: number } | CrewvaultError;

/** An ask its asker and its judge let through, and the account it counts against. */
interface Judged {
  readonly account: string;
  readonly grant: CodeGrant<unknown>;
}

/** A promise opened by hand, once. */
class Gate {
  readonly promise: Promise<void>;
  open: () => void = () => undefined;
  constructor() {
    this.promise = new Promise((resolve) => {
      this.open = resolve;
    });
  }
}

/**
 * Where a batch is, for the one after it: `locked` once it holds the audit's lock (or will never
 * take it), `ended` once its transaction has committed or rolled back.
 */
class Gates {
  readonly locked = new Gate();
  readonly ended = new Gate();
  read = false;

  static open(): Gates {
    const gates = new Gates();
    gates.read = true;
    gates.locked.open();
    gates.ended.open();
    return gates;
  }
}

/** A batch that ended without the lock (it failed before) lets the one after it ask once the one before holds it. */
function passLock(before: Gates, gates: Gates): void {
  void before.locked.promise.then(() => gates.locked.open());
}

/** The account an ask acts as, as the batch holds its asker (undefined: a presented session no session holds now). */
function accountOf(asker: Asker, askers: AskersHeld): string | undefined {
  return asker.kind === 'presented' ? askers.sessionsByHash.get(asker.accessHash)?.userId : asker.account;
}

/**
 * The refusal of an ask whose asker does not stand, as the batch holds it (`standings`: where the held
 * sessions' second steps stand): the answers a fresh request gets (authenticateToken, authenticate and
 * requireSecondStep). A token or session of another account than the ask's is a bug, said as one.
 */
function askerRefusal(asker: Asker, askers: AskersHeld, standings: ReadonlyMap<string, HeldSession>, now: number): CrewvaultError | undefined {
  if (asker.kind === 'token') {
    const token = tokenStanding(askers.tokens.get(asker.id), 'codes', now);
    if (token instanceof CrewvaultError) return token;
    return token.createdBy === asker.account ? undefined : new CrewvaultError('INTERNAL', 'a code was asked with a token of another account');
  }
  if (asker.kind === 'presented') {
    const held = askers.sessionsByHash.get(asker.accessHash);
    const secondStep = presentedStanding(held === undefined ? undefined : standings.get(held.id), asker.deviceId, now);
    return secondStep instanceof CrewvaultError ? secondStep : secondStepRefusal(secondStep);
  }
  const session = standings.get(asker.id);
  const refusal = sessionStillStands(session, asker.accessExpiresAt, now);
  if (refusal !== undefined) return refusal;
  return session?.session.userId === asker.account ? undefined : new CrewvaultError('INTERNAL', 'a code was asked with a session of another account');
}

/** The presented sessions of a batch that stand and are due a touch (as authenticate touches: their idle time starts again). */
function touchesDue(batch: readonly CodeRequest[], askers: AskersHeld, standings: ReadonlyMap<string, HeldSession>, now: number): string[] {
  const due = new Set<string>();
  for (const { asker } of batch) {
    if (asker.kind !== 'presented') continue;
    const held = askers.sessionsByHash.get(asker.accessHash);
    const standing = held === undefined ? undefined : standings.get(held.id);
    if (standing !== undefined && presentedStanding(standing, asker.deviceId, now) === 'done' && touchDue(standing.session, now)) due.add(standing.session.id);
  }
  return [...due];
}

/** Whole seconds, at least one (the reply's contract has no field for it: the message says it). */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export class CodeBatcher {
  private readonly ctx: ServerContext;
  private readonly limits: CodeLimits;
  private queue: Pending[] = [];
  /** Requests taken and not yet answered, by account (only those with one). */
  private readonly waiting = new Map<string, number>();
  /** Batches between their start and their end. */
  private underWay = 0;
  /** A batch has started and not yet read: the next waits (it would read nothing newer and split the group). */
  private starting = false;
  /** The gates of the batch started last (a settled pair before any). */
  private gates: Gates = Gates.open();
  constructor(ctx: ServerContext, limits: CodeLimits) {
    this.ctx = ctx;
    this.limits = limits;
  }

  /**
   * Resolves once the code may be given (judged, counted and audited), with the judge's grant and
   * the time the batch decided at; rejects with the judge's refusal, or TOO_MANY_ATTEMPTS past a limit
   * (at once, queued nowhere, when the account has MAX_WAITING_PER_ACCOUNT waiting already).
   */
  take<T>(request: Omit<CodeRequest, 'judge'> & { readonly judge: (held: CodeHeld | undefined, now: number) => CodeGrant<T> | CrewvaultError }): Promise<{ readonly grant: CodeGrant<T>; readonly now: number }> {
    const account = waitingKeyOf(request.asker);
    const waiting = this.waiting.get(account) ?? 0;
    if (waiting >= MAX_WAITING_PER_ACCOUNT) {
      return Promise.reject(new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many codes asked for at once (${MAX_WAITING_PER_ACCOUNT} are waiting): ask again once they are answered.`));
    }
    this.waiting.set(account, waiting + 1);
    return new Promise((resolve, reject) => {
      this.queue.push({
        ...request,
        // The grant comes back from this request's own judge: its value is the T that judge made.
        done: (outcome) => {
          this.answered(account);
          if (outcome instanceof CrewvaultError) reject(outcome);
          else resolve(outcome as { readonly grant: CodeGrant<T>; readonly now: number });
        },
      });
      this.pump();
    });
  }

  /** One of `account`'s requests has its answer: it waits no more. */
  private answered(account: string): void {
    const left = (this.waiting.get(account) ?? 0) - 1;
    if (left > 0) this.waiting.set(account, left);
    else this.waiting.delete(account);
  }

  /**
   * Starts batches while fewer than MAX_OVERLAP are under way. A batch starts once the one before it
   * has read what it decides from, in the statement that took the audit's lock (a round trip a statement,
   * on an event loop that also serves every request, is most of a batch's time): the two overlap, the
   * later one holding its vaults' rows and then waiting for the lock in turn (Gates).
   */
  private pump(): void {
    if (this.starting || this.queue.length === 0 || this.underWay >= MAX_OVERLAP) return;
    const batch = this.queue.slice(0, MAX_BATCH);
    this.queue = this.queue.slice(batch.length);
    const before = this.gates;
    const gates = new Gates();
    this.gates = gates;
    this.underWay += 1;
    this.starting = true;
    void this.run(batch, before, gates).finally(() => {
      this.underWay -= 1;
      this.pump();
    });
  }

  private async run(batch: readonly Pending[], before: Gates, gates: Gates): Promise<void> {
    let outcomes: Outcome[];
    try {
      const written = await this.write(batch, before, gates);
      outcomes = written.outcomes;
      // Sessions this batch authenticated, touched once it has committed (in it, the update would wait on another batch's
      // share of the row while holding the audit's lock). A touch that fails is not a reason to withhold codes given and
      // audited: it only leaves the session's last use where it was, and the next request touches it.
      await touchSessions(this.ctx.db, written.touch, written.now + REFRESH_TTL_MS).catch(() => undefined);
    } catch (error) {
      const failed = error instanceof CrewvaultError ? error : new CrewvaultError('BUSY', 'The server could not record this code: try again soon.');
      outcomes = batch.map(() => failed);
    } finally {
      // Whatever became of it, the next batch may go on (a gate opened twice stays open; a failed batch counted and audited nothing).
      this.readDone(gates);
      passLock(before, gates);
      gates.ended.open();
    }
    // write() answers each request of the batch in order; one missing is a bug, said as one, never a code.
    batch.forEach((pending, i) => pending.done(outcomes[i] ?? new CrewvaultError('INTERNAL', 'a code request of a batch went unanswered')));
  }

  /** This batch has read what it decides from: the next may start. */
  private readDone(gates: Gates): void {
    if (gates.read) return;
    gates.read = true;
    this.starting = false;
    this.pump();
  }

  private async write(batch: readonly Pending[], before: Gates, gates: Gates): Promise<{ readonly outcomes: Outcome[]; readonly touch: readonly string[]; readonly now: number }> {
    const keyOf = (p: Pending): { entry: string; all: string } => ({ entry: `entry ${p.vault}/${p.entry}`, all: 'all' });
    return this.ctx.db.transaction(async (tx) => {
      // Access first, under the vaults' rows: what a push commits from here on waits for this batch. The askers' tokens
      // and sessions are held in the same statement: a revocation or sign-out from here on waits for this batch too. A
      // session presented by its access token is read here for the first time: this is its request's authentication.
      // A presented ask's vault is held only if a session holds its access token: a caller who never signed in holds nothing.
      const askers = await holdVaultsAndAskers(
        tx, batch.flatMap((p) => (p.asker.kind === 'presented' ? [] : [p.vault])),
        batch.flatMap((p) => (p.asker.kind === 'token' ? [p.asker.id] : [])),
        batch.flatMap((p) => (p.asker.kind === 'session' ? [p.asker.id] : [])),
        batch.flatMap((p) => (p.asker.kind === 'presented' ? [{ vault: p.vault, accessHash: p.asker.accessHash }] : [])),
      );
      // Whose each ask is: a presented session's person (none: no session holds its token now, refused below).
      const accounts = batch.map((p) => accountOf(p.asker, askers));
      // Then access is read in the statement that takes the audit's lock, asked for once the batch before holds it:
      // PostgreSQL queues this one behind it and hands it over at that batch's COMMIT (no round trip of ours between
      // the two); asked before, it could be granted first and the two batches' order would not be arrival's. The
      // batch's counts and its place in the chain are written under that lock, so no other codes batch, of this
      // process or another, writes a count row meanwhile and none waits on another's; the statements after it see
      // every event committed before (the chain's tail). What it reads of access is as of its start, under the
      // vaults' rows (store/codes.ts lookUpCodesLockingAudit): one round trip a batch fewer than a lock of its own.
      await before.locked.promise;
      const asks = batch.flatMap((p, i) => {
        const account = accounts[i];
        return account === undefined ? [] : [{ i, vault: p.vault, entry: p.entry, account }];
      });
      if (asks.length === 0) {
        // No ask has a person (only access tokens no session holds): nothing to look up, count or audit, and a caller
        // who never signed in takes neither the audit's lock nor its round trip from those who did.
        gates.locked.open();
        this.readDone(gates);
        const now = this.ctx.now();
        const refused = new CrewvaultError('UNAUTHORIZED', 'a code was asked by no session');
        return { outcomes: batch.map((p) => askerRefusal(p.asker, askers, new Map(), now) ?? refused), touch: [], now };
      }
      const looked = await lookUpCodesLockingAudit(tx, asks, [...askers.sessions.keys()]);
      gates.locked.open();
      this.readDone(gates);
      const held = new Map(asks.map((ask, n) => [ask.i, looked.held[n]]));
      const now = this.ctx.now();
      const minute = Math.floor(now / MINUTE_MS);
      // An asker that no longer stands is refused before its access to the entry is looked at.
      const judged = batch.map((p, i): Judged | CrewvaultError => {
        const refusal = askerRefusal(p.asker, askers, looked.standings, now);
        if (refusal !== undefined) return refusal;
        const account = accounts[i];
        if (account === undefined) return new CrewvaultError('INTERNAL', 'a code was asked by an asker of no account');
        const grant = p.judge(held.get(i), now);
        return grant instanceof CrewvaultError ? grant : { account, grant };
      });
      const touch = touchesDue(batch, askers, looked.standings, now);
      const counts = new Map<string, ThrottleCount>();
      const add = (actor: string, key: string, window: number): void => {
        const id = `${actor}|${key}`;
        const was = counts.get(id);
        // A step is per entry's period: two requests of one entry in one batch share it, unless one period ended between them.
        counts.set(id, { actor, key, window: was === undefined ? window : Math.max(was.window, window), add: (was?.add ?? 0) + 1 });
      };
      // Refused asks are not counted: they computed nothing (the limit's own refusals are: they were asked).
      batch.forEach((p, i) => {
        const verdict = judged[i];
        if (verdict === undefined || verdict instanceof CrewvaultError) return;
        // The step's end in ms, not its number: numbers of different periods do not compare (an entry's key changed from
        // 30 to 60 s: the stored number, about twice the new ones, stayed the newest window, and the count never started again).
        add(verdict.account, keyOf(p).entry, verdict.grant.stepEndsAt);
        add(verdict.account, keyOf(p).all, minute);
      });
      // Nothing let through: nothing to count or audit (the lock, taken with the read, goes with the COMMIT: a batch
      // of refusals holds it one round trip, as it holds the vaults' rows).
      if (counts.size === 0) {
        return { outcomes: judged.map((verdict) => (verdict instanceof CrewvaultError ? verdict : new CrewvaultError('INTERNAL', 'a request of a batch was not judged'))), touch, now };
      }
      // Counted and audited after the batch before has ended (under the lock: a request's place among its key's counts
      // and in the chain follows arrival), the counts and the chain's tail in one statement.
      const sorted = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
      const eventOf = (p: Pending, account: string, grant: CodeGrant<unknown>): AuditEvent => ({
        kind: 'codes.computed', actorId: account, source: p.source,
        detail: { vault: p.vault, entry: p.entry, step: grant.step, ...(p.asker.kind === 'token' ? { token: p.asker.id } : {}) },
      });
      // The audit rows (and their batch's signature) are made after it, once every ask's place among its limits is known:
      // a signature goes to the database only in a statement that writes it (rows made on a guess and refused by a limit
      // would have left a signed batch in a statement's parameters, for anyone who sees them to append later).
      const { totals, tail } = await addThrottleCountsReadingAuditTail(tx, sorted);
      // Position of each request among its key's counts: the batch's come last, in arrival order.
      const seen = new Map<string, number>();
      const position = (actor: string, key: string): number => {
        const id = `${actor}|${key}`;
        const index = (seen.get(id) ?? 0) + 1;
        seen.set(id, index);
        return (totals.get(id) ?? 0) - (counts.get(id)?.add ?? 0) + index;
      };
      const events: AuditEvent[] = [];
      const outcomes = batch.map((p, i): Outcome => {
        const verdict = judged[i];
        if (verdict === undefined) return new CrewvaultError('INTERNAL', 'a request of a batch was not judged');
        if (verdict instanceof CrewvaultError) return verdict;
        const { account, grant } = verdict;
        const keys = keyOf(p);
        const inStep = position(account, keys.entry);
        const inMinute = position(account, keys.all);
        if (inStep > this.limits.perEntryStep) {
          return new CrewvaultError('TOO_MANY_ATTEMPTS', `This code was asked for too often in this time step: ask again in ${seconds(grant.stepEndsAt - now)} s.`);
        }
        if (inMinute > this.limits.perMinute) {
          return new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many codes this minute: ask again in ${seconds((minute + 1) * MINUTE_MS - now)} s.`);
        }
        events.push(eventOf(p, account, grant));
        return { grant, now };
      });
      await appendAuditBatchAfter(tx, this.ctx, tail, events);
      return { outcomes, touch, now };
    });
  }
}

/** One batcher per server (its context): two apps in one process share nothing. */
const batchers = new WeakMap<ServerContext, CodeBatcher>();

export function codeBatcher(ctx: ServerContext): CodeBatcher {
  let batcher = batchers.get(ctx);
  if (batcher === undefined) {
    batcher = new CodeBatcher(ctx, ctx.codeLimits ?? DEFAULT_CODE_LIMITS);
    batchers.set(ctx, batcher);
  }
  return batcher;
}
