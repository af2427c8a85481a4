/**
 * Building and reading the columnar entry list (EntryTable, shared/model.ts). Pure: the main
 * process fills a table in list order, the page reads back only the rows it shows. A table
 * carries what a summary carries and nothing more — never a password or an OTP secret.
 */
import type { EntrySummary, EntryTable } from './model';
import type { OtpKind } from './otp';

/** One entry as the builder takes it (a summary's fields, the customer by id and name). */
export interface EntryTableRow {
  readonly id: number;
  readonly customerId: number;
  readonly customer: string;
  readonly groupId: number;
  readonly title: string;
  readonly username: string;
  readonly url: string;
  readonly otp: OtpKind | null;
  readonly updatedAt: number;
}

/** Appends rows in list order, naming each customer once. */
export class EntryTableBuilder {
  private readonly customerAt = new Map<number, number>();
  private readonly table = {
    customerIds: [] as number[],
    customerNames: [] as string[],
    id: [] as number[],
    customer: [] as number[],
    groupId: [] as number[],
    title: [] as string[],
    username: [] as string[],
    url: [] as string[],
    otp: [] as (OtpKind | null)[],
    updatedAt: [] as number[],
  };

  add(row: EntryTableRow): void {
    const t = this.table;
    let customer = this.customerAt.get(row.customerId);
    if (customer === undefined) {
      customer = t.customerIds.length;
      this.customerAt.set(row.customerId, customer);
      t.customerIds.push(row.customerId);
      t.customerNames.push(row.customer);
    }
    t.id.push(row.id);
    t.customer.push(customer);
    t.groupId.push(row.groupId);
    t.title.push(row.title);
    t.username.push(row.username);
    t.url.push(row.url);
    t.otp.push(row.otp);
    t.updatedAt.push(row.updatedAt);
  }

  build(): EntryTable {
    return this.table;
  }
}

/** How many entries the table holds. */
export function tableSize(table: EntryTable): number {
  return table.id.length;
}

/** Entry `i` as a summary object, or undefined past the end. */
export function entryAt(table: EntryTable, i: number): EntrySummary | undefined {
  const id = table.id[i];
  const customer = table.customer[i];
  if (id === undefined || customer === undefined) return undefined;
  const otp = table.otp[i] ?? null;
  return {
    id,
    customerId: table.customerIds[customer] ?? 0,
    customer: table.customerNames[customer] ?? '',
    groupId: table.groupId[i] ?? 0,
    title: table.title[i] ?? '',
    username: table.username[i] ?? '',
    url: table.url[i] ?? '',
    otp: otp ? { kind: otp } : null,
    updatedAt: table.updatedAt[i] ?? 0,
  };
}

/** Every entry as a summary object, in list order. */
export function tableEntries(table: EntryTable): EntrySummary[] {
  const out: EntrySummary[] = [];
  for (let i = 0; i < tableSize(table); i++) {
    const entry = entryAt(table, i);
    if (entry) out.push(entry);
  }
  return out;
}

/** A column as its distinct values and, per row, which one (titles repeat across customers). */
export interface PackedColumn<T> {
  readonly values: readonly T[];
  readonly index: readonly number[];
}

/**
 * The table as `entries.list` sends it: each text column dictionary-coded, which at 100,000
 * entries cuts the JSON the main process writes and the page parses by about a third.
 */
export interface PackedEntryTable extends Omit<EntryTable, 'title' | 'username' | 'url' | 'otp'> {
  readonly title: PackedColumn<string>;
  readonly username: PackedColumn<string>;
  readonly url: PackedColumn<string>;
  readonly otp: PackedColumn<OtpKind | null>;
}

function pack<T>(column: readonly T[]): PackedColumn<T> {
  const values: T[] = [];
  const at = new Map<T, number>();
  const index = new Array<number>(column.length);
  for (let i = 0; i < column.length; i++) {
    const value = column[i] as T;
    let k = at.get(value);
    if (k === undefined) {
      k = values.length;
      at.set(value, k);
      values.push(value);
    }
    index[i] = k;
  }
  return { values, index };
}

function unpack<T>(column: PackedColumn<T>, fallback: T): T[] {
  const out = new Array<T>(column.index.length);
  for (let i = 0; i < out.length; i++) out[i] = column.values[column.index[i] ?? -1] ?? fallback;
  return out;
}

export function packTable(table: EntryTable): PackedEntryTable {
  return { ...table, title: pack(table.title), username: pack(table.username), url: pack(table.url), otp: pack(table.otp) };
}

/** The page's side: the same strings shared by every row that has them. */
export function unpackTable(packed: PackedEntryTable): EntryTable {
  return { ...packed, title: unpack(packed.title, ''), username: unpack(packed.username, ''), url: unpack(packed.url, ''), otp: unpack<OtpKind | null>(packed.otp, null) };
}
