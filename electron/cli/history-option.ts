/**
 * `--history later` of `crewvault join` and `crewvault sync` (docs/SYNC.md "Speed", first
 * sync): by default a new vault's audit history is taken in before the command exits, its
 * progress on stderr; `later` leaves it owed, and the next sync goes on with it. Must never
 * print anything of an event (only counts).
 */
import { UsageError, type CliIo } from './io';

export const HISTORY_OPTION = { history: { type: 'string' } } as const;

export const HISTORY_USAGE = '  --history later  a new vault is usable once its state is in: leave its audit history for the next sync';

export function historyWhen(value: string | undefined): 'now' | 'later' {
  if (value === undefined || value === 'now') return 'now';
  if (value === 'later') return 'later';
  throw new UsageError('--history takes "now" or "later"');
}

/** The history's progress, one line a page on stderr. */
export function historyProgress(io: CliIo): (taken: number) => void {
  return (taken) => io.err(`crewvault: history: ${taken} events taken in\n`);
}
