/**
 * What the vault-writer child and the tests that drive it agree on: the job it is given and
 * the entry it writes at each step, so the parent can check every reported title for itself.
 * Imported by both sides; it must stay free of side effects (the child bundles it).
 */
import type { EntryInput } from '../../shared/model';

export interface WriterJob {
  readonly file: string;
  readonly user: string;
  readonly password: string;
  /** Titles are `${prefix}-${i}`; unique per child. */
  readonly prefix: string;
  /** How many entries to add before closing; the crash test kills the child long before. */
  readonly count: number;
  /** Wait for a "go" line on stdin after signing in, so several children start together. */
  readonly gate: boolean;
  /** Every `batchEvery`-th step adds three entries in one createEntries transaction (0: never). */
  readonly batchEvery: number;
  /** Instead of adding entries: edit this entry once, from this revision (the conflict race). */
  readonly edit?: { readonly entryId: number; readonly baseRevision: number };
}

/** Lines the child prints, one per event, each only after the event has happened. */
export const WRITER_LINES = { opened: 'opened', ready: 'ready', committed: 'committed ', done: 'done', error: 'error ' } as const;

/** Exit status of a child that stopped on a CrewvaultError (after printing "error <CODE> ..."). */
export const WRITER_ERROR_STATUS = 3;

export const SHARED_CUSTOMER = 'Shared Co';

/** The entry written at step `i`: customers alternate between one shared by every child (so
 * two writers race to create it) and one of the child's own. */
export function writerEntry(prefix: string, i: number): EntryInput & { readonly username: string } {
  return {
    customer: i % 2 === 0 ? SHARED_CUSTOMER : `${prefix} Ltd`,
    title: `${prefix}-${i}`,
    username: `user-${prefix}-${i}`,
    password: `pw-${prefix}-${i}-${'x'.repeat(i % 7)}`,
    notes: 'n'.repeat((i % 5) * 120),
    otp: i % 3 === 0 ? { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } : null,
  };
}
