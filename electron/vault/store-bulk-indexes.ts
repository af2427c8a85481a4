/**
 * The entries table's secondary indexes set aside while a first sync fills an empty replica
 * (docs/SYNC.md "Speed" step 9): 100,000 entries inserted on random keys rewrite a leaf of each
 * such index all across its tree every page, so they are dropped in the snapshot's first write
 * and built once, from the very SQL they were dropped with, in its last (or, after an
 * interruption, in the next write of a replica apply). None of them is unique: a query finds
 * the same rows without them, only slower, so a file left between the two is never wrong.
 * `meta bulk_entry_indexes` holds their SQL meanwhile (this file's own).
 * Must never: drop a unique index or the uid and sequence indexes (what a write checks and
 * reads), drop an index without keeping its SQL in the same transaction, or leave that record
 * without the indexes having been made again in the transaction that removes it.
 */
import { CrewvaultError } from '../../shared/errors';
import type { ReadDb, WriteDb } from './db';
import { getMeta, setMeta } from './store-meta';

const KEY = 'bulk_entry_indexes';
/** The entries indexes on keys a first sync inserts in no order (keyed lookups, customers, live entries by group and customer). */
const SET_ASIDE: readonly string[] = ['entries_by_lookup', 'entries_by_customer', 'entries_live_by_group'];

interface IndexSql {
  readonly name: string;
  readonly sql: string;
}

/** One CREATE INDEX of that name on entries, nothing else: what is run again is only ever that. */
function indexSqlOf(name: string): RegExp {
  return new RegExp(`^CREATE INDEX ${name} ON entries\\([A-Za-z_, ]+\\)( WHERE [A-Za-z_ ]+)?$`);
}

function recorded(db: ReadDb): IndexSql[] | undefined {
  const text = getMeta(db, KEY);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const valid = Array.isArray(parsed) && parsed.every((i: unknown) => typeof i === 'object' && i !== null
    && typeof (i as IndexSql).name === 'string' && SET_ASIDE.includes((i as IndexSql).name) && typeof (i as IndexSql).sql === 'string' && indexSqlOf((i as IndexSql).name).test((i as IndexSql).sql));
  // Never taken as "nothing owed": the indexes it names would be missing for good.
  if (!valid) throw new CrewvaultError('VAULT_CORRUPT', 'This vault\'s record of the entry indexes a first sync set aside does not read: nothing was done.');
  return parsed as IndexSql[];
}

/** Whether a first sync's entry indexes are set aside now (made again by restoreEntryIndexes). */
export function entryIndexesSetAside(db: ReadDb): boolean {
  return recorded(db) !== undefined;
}

/** Drops the entries' non-unique secondary indexes, keeping their SQL in `meta` in the same transaction. Nothing when already set aside. */
export function setAsideEntryIndexes(db: WriteDb): void {
  if (recorded(db) !== undefined) return;
  const indexes = db.prepare<[], { name: string; sql: string | null }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'").all()
    .flatMap((i) => (i.sql !== null && SET_ASIDE.includes(i.name) ? [{ name: i.name, sql: i.sql }] : []));
  setMeta(db, KEY, JSON.stringify(indexes));
  for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);
}

/** Makes the set-aside indexes again from their own SQL and forgets them; nothing when none are. */
export function restoreEntryIndexes(db: WriteDb): void {
  const indexes = recorded(db);
  if (indexes === undefined) return;
  const present = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'").all().map((i) => i.name));
  for (const { name, sql } of indexes) if (!present.has(name)) db.exec(sql);
  db.prepare('DELETE FROM meta WHERE key = ?').run(KEY);
}
