/**
 * What the entry list shows: the table from `entries.list` and the positions a search or a
 * customer picked (all of them when none). A row's summary object is made the first time the
 * row is shown and then kept, so a row that stays in view keeps its object (and its memo).
 */
import { entryAt, tableSize } from '../shared/entry-table';
import type { EntrySummary, EntryTable } from '../shared/model';

const objects = new WeakMap<EntryTable, Map<number, EntrySummary>>();

export class ListedEntries {
  readonly table: EntryTable;
  private readonly positions: Int32Array | null;
  private readonly made: Map<number, EntrySummary>;

  constructor(table: EntryTable, positions: Int32Array | null) {
    this.table = table;
    this.positions = positions;
    let made = objects.get(table);
    if (!made) {
      made = new Map();
      objects.set(table, made);
    }
    this.made = made;
  }

  get length(): number {
    return this.positions ? this.positions.length : tableSize(this.table);
  }

  /** The entry at place `k` of what is shown. */
  at(k: number): EntrySummary | undefined {
    if (k < 0 || k >= this.length) return undefined;
    const i = this.positions ? this.positions[k] : k;
    if (i === undefined) return undefined;
    let entry = this.made.get(i);
    if (!entry) {
      entry = entryAt(this.table, i);
      if (entry) this.made.set(i, entry);
    }
    return entry;
  }

  /** The place of entry `id` in what is shown, or -1. */
  placeOf(id: number | null): number {
    if (id === null) return -1;
    const ids = this.table.id;
    if (!this.positions) return ids.indexOf(id);
    for (let k = 0; k < this.positions.length; k++) if (ids[this.positions[k] ?? -1] === id) return k;
    return -1;
  }

  /** Entry `id` if the table holds it, shown or not. */
  find(id: number | null): EntrySummary | undefined {
    if (id === null) return undefined;
    const i = this.table.id.indexOf(id);
    return i < 0 ? undefined : new ListedEntries(this.table, null).at(i);
  }
}
