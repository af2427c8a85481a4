/**
 * Whether a desktop's cursor belongs to the history this server holds (review 13b hole 1;
 * docs/SYNC.md "Faults", a server restored from a backup). PostgreSQL cannot tell a restore, so
 * each push transaction leaves a random mark at the sequence it ends on (store/history-marks.ts);
 * a pull hands the mark of the transaction its `upTo` falls in, and a desktop names the mark it
 * holds for its cursor at its next pull. A cursor past the head, or a mark missing or different,
 * is answered HISTORY_CHANGED: the desktop then takes the vault in again from 0 and sends what the
 * server lacks (electron/team/sync.ts), rather than being told "caught up" over a gap.
 * Must never: answer a pull from past the head as caught up, or hand a mark of another vault.
 */
import { CrewvaultError } from '../../shared/errors';
import type { Queryable } from '../store/db';
import { historyMarkAt, type HistoryMark } from '../store/history-marks';

/** The one refusal for a cursor this server's history does not hold: its code is what a desktop acts on. */
export function historyChanged(detail: string): CrewvaultError {
  return new CrewvaultError('HISTORY_CHANGED', `The team server's history of this vault is not the one this desktop pulled from (${detail}): restored from a backup, or the vault replaced. Sync again to take it in anew.`);
}

/** HISTORY_CHANGED when `since` is past the vault's head: what a server restored to before a desktop's cursor answers. */
export function requireWithinHead(since: number, head: number): void {
  if (since > head) throw historyChanged(`its cursor ${since} is past the server's sequence ${head}`);
}

/**
 * Before a pull is answered: the cursor within the head, and the mark the desktop holds for it (when
 * it names one) still the one at that sequence here. Throws HISTORY_CHANGED.
 */
export async function requireSameHistory(db: Queryable, vaultId: string, head: number, since: number, held: HistoryMark | undefined): Promise<void> {
  requireWithinHead(since, head);
  if (held === undefined || since === 0) return;
  const here = await historyMarkAt(db, vaultId, since);
  if (here === undefined || here.seq !== held.seq || here.value !== held.value) throw historyChanged(`the mark it holds at sequence ${held.seq} is not there`);
}

/** The mark a reply ending at `upTo` hands (asked for: an older desktop's reply schema takes no such field). */
export async function markFor(db: Queryable, vaultId: string, upTo: number, asked: boolean): Promise<{ mark?: HistoryMark }> {
  if (!asked || upTo === 0) return {};
  const mark = await historyMarkAt(db, vaultId, upTo);
  return mark === undefined ? {} : { mark };
}
