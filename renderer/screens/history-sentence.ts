/**
 * What the Team server screen and the Audit screen say of a new desktop's audit history still
 * arriving (team.status `history`, electron/team/history-runner.ts): "History: n of m events",
 * the Audit screen's notice, and a failure in one line with when it is tried again. Apart from
 * the screens so it is read (and tested) without their styles. Must never: name what an event holds.
 */
import type { TeamHistoryStatus } from '../../shared/api/team-contract';

function counted(history: TeamHistoryStatus): string | undefined {
  if (history.taken === null || history.total === null) return undefined;
  return `${history.taken.toLocaleString('en')} of ${history.total.toLocaleString('en')}`;
}

/** The sync status's line: "History: n of m events" (or still arriving, before the server has counted). */
export function describeHistory(history: TeamHistoryStatus): string {
  const count = counted(history);
  return count === undefined ? 'History: still arriving' : `History: ${count} events`;
}

/** A failure taking it in, once, with the next try; undefined while none. */
export function describeHistoryError(history: TeamHistoryStatus, now: number): string | undefined {
  const { error } = history;
  if (error === null) return undefined;
  const next = history.retryAt === null ? '' : ` Tried again in ${Math.max(1, Math.ceil((history.retryAt - now) / 1000))} s.`;
  return `Taking in the audit history failed${error.tries > 1 ? ` (${error.tries} tries since ${new Date(error.since).toLocaleTimeString()})` : ''}: ${error.message}${next}`;
}

/** The Audit screen's notice while the history is owed. */
export function historyNotice(history: TeamHistoryStatus): string {
  const count = counted(history);
  return `History still arriving${count === undefined ? '' : ` (${count})`} — the log below is incomplete.`;
}
