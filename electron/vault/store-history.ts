/**
 * Where a new desktop's taking in of the vault's audit history stands (docs/SYNC.md "Speed",
 * first sync): after the snapshot's state part the desktop is usable and the events part is
 * taken in afterwards, a page at a time; `history_cursor` in `meta` (this file's own, never
 * another desktop's) holds the snapshot's end and the last sequence taken, so an interrupted
 * history goes on from there. Absent: no history is owed. Must never be moved past events not
 * written in the same transaction (the caller sets it with the page it took).
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb, WriteDb } from './db';
import { getMeta, setMeta } from './store-meta';

const KEY = 'history_cursor';

export interface HistoryCursor {
  /** The snapshot's end: history is every event at or below it. */
  readonly upTo: number;
  /** The last sequence of the events part taken in (0: none yet). */
  readonly after: number;
}

export function historyCursor(db: ReadDb): HistoryCursor | undefined {
  const text = getMeta(db, KEY);
  if (text === undefined) return undefined;
  const match = /^(\d+):(\d+)$/.exec(text);
  // A cursor that does not read is never taken as "complete".
  if (!match) throw new CrewvaultError('VAULT_CORRUPT', 'This vault\'s record of the audit history still to take in does not read: nothing was done.');
  return { upTo: Number(match[1]), after: Number(match[2]) };
}

export function setHistoryCursor(db: WriteDb, cursor: HistoryCursor | null): void {
  if (cursor === null) db.prepare('DELETE FROM meta WHERE key = ?').run(KEY);
  else setMeta(db, KEY, `${cursor.upTo}:${cursor.after}`);
}
