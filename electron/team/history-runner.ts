/**
 * The desktop app's background taking of a new desktop's audit history (docs/SYNC.md "Speed"
 * step 8): once a first sync has left a history owed (the cursor in the vault file,
 * store-history.ts), it is taken in behind the person's back, a page at a time (first-sync.ts
 * takeHistory: each page one write transaction that moves the cursor), while the vault is used
 * and sync rounds run as usual (they leave the history to this: sync.ts `history: 'later'`). It
 * stops at lock and goes on at unlock, and at the next start from the cursor; a failure is kept
 * in the status (one line, the first time and how many tries since) and tried again after a
 * wait that doubles, up to RETRY_MAX_MS, on the injected timers. The status says "n of m": the
 * server counts the snapshot's events once a run (syncSnapshot `count`).
 * Must never: run two takings of one file at once, run on a locked session (a page stopped by
 * the lock is not an error), or leave a timer running after `pause()`.
 */
import type { TeamHistoryStatus } from '../../shared/api/team-contract';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import type { VaultSession } from '../vault/service';
import type { TeamClient } from './client';
import type { LiveTimers } from './desk';

/**
 * Events a page of the background history: a page is one write transaction, which the screen's
 * own reads and writes wait behind, so pages are kept small (a first sync's own are 5,000).
 */
export const HISTORY_PAGE_RECORDS = 500;
/** The first wait after a failure, doubled at each failure after it, up to the most. */
export const RETRY_FIRST_MS = 5_000;
export const RETRY_MAX_MS = 5 * 60_000;

interface Run {
  readonly session: VaultSession;
  /** Events in before this run's first page, and taken since (the server's count, then the pages). */
  before: number;
  taken: number | null;
  total: number | null;
  running: boolean;
  retry?: unknown;
  retryAt: number | null;
  failures: number;
  error: TeamHistoryStatus['error'];
}

export interface HistoryRunnerOptions {
  readonly timers: LiveTimers;
  readonly now: () => number;
  /** The signed-in server session `session`'s vault user syncs with (desk.ts: their kept session only). */
  readonly client: (session: VaultSession) => Promise<TeamClient>;
}

export class HistoryRunner {
  private run: Run | undefined;
  /** Moves on at every pause: a kick that read the cursor across a lock starts nothing. */
  private epoch = 0;

  constructor(private readonly options: HistoryRunnerOptions) {}

  /**
   * Takes `session`'s owed history in, in the background, unless it is being taken already or
   * is waiting to be tried again (`now`: try again at once, as after a sync round that reached
   * the server). Nothing when no history is owed.
   */
  async kick(session: VaultSession, now = false): Promise<void> {
    const run = this.run;
    if (run !== undefined && run.session === session) {
      if (run.running || !now) return;
      this.cancelRetry(run);
      void this.take(run);
      return;
    }
    this.pause();
    const epoch = this.epoch;
    if ((await session.replica.historyOwed()) === undefined) return;
    // Another kick began a run while the cursor was read, or a lock came.
    if (this.run !== undefined || this.epoch !== epoch) return;
    const next: Run = { session, before: 0, taken: null, total: null, running: false, retryAt: null, failures: 0, error: null };
    this.run = next;
    void this.take(next);
  }

  /** Where `session`'s history stands; null when none is owed. */
  async status(session: VaultSession): Promise<TeamHistoryStatus | null> {
    if ((await session.replica.historyOwed()) === undefined) return null;
    const run = this.run?.session === session ? this.run : undefined;
    return {
      taken: run?.taken ?? null, total: run?.total ?? null, running: run?.running ?? false,
      error: run?.error ?? null, retryAt: run?.retryAt ?? null,
    };
  }

  /** The vault locked or closed: the page being taken is the last, no retry waits. Kicked again at unlock. */
  pause(): void {
    this.epoch++;
    const run = this.run;
    this.run = undefined;
    if (run !== undefined) this.cancelRetry(run);
  }

  private cancelRetry(run: Run): void {
    if (run.retry !== undefined) this.options.timers.clearTimeout(run.retry);
    run.retry = undefined;
    run.retryAt = null;
  }

  private current(run: Run): boolean {
    return this.run === run;
  }

  private async take(run: Run): Promise<void> {
    run.running = true;
    try {
      const [{ takeHistory }, client] = await Promise.all([import('./first-sync'), this.options.client(run.session)]);
      if (!this.current(run)) return;
      const out = await takeHistory(client, run.session.replica, {
        pageRecords: HISTORY_PAGE_RECORDS,
        onCount: ({ total, taken }) => {
          run.total = total;
          run.before = taken;
          run.taken = taken;
        },
        onHistory: (taken) => {
          if (run.total !== null) run.taken = Math.min(run.total, run.before + taken);
        },
        stop: () => !this.current(run),
      });
      if (!this.current(run)) return;
      run.failures = 0;
      run.error = null;
      if (out === undefined || out.stopped !== true) this.run = undefined;
    } catch (caught) {
      // Stopped by the lock (the session's keys gone under the page): a pause, not a failure.
      if (!this.current(run)) return;
      const error = isCrewvaultError(caught) ? caught : new CrewvaultError('INTERNAL', 'Taking in the audit history failed unexpectedly.');
      run.failures += 1;
      // One line, kept while it keeps failing the same way: the first time it did, and the tries since.
      run.error = run.error !== null && run.error.code === error.code && run.error.message === error.message
        ? { ...run.error, tries: run.failures }
        : { code: error.code, message: error.message, since: this.options.now(), tries: run.failures };
      const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(20, run.failures - 1));
      run.retryAt = this.options.now() + wait;
      run.retry = this.options.timers.setTimeout(() => {
        run.retry = undefined;
        run.retryAt = null;
        if (this.current(run)) void this.take(run);
      }, wait);
    } finally {
      run.running = false;
    }
  }
}
