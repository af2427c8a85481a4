/**
 * A statement's rows as the bytes PostgreSQL sent them, for PGlite, which otherwise decodes every
 * value to a JS string (and a snapshot's reply then encodes each body back to UTF-8): the
 * extended query's messages written here (Parse, Bind with text parameters, Execute, Sync), the
 * reply's DataRow messages read here, each value a view into the reply's bytes (copied once out of
 * PGlite's memory as they come), never decoded (docs/SYNC.md "Speed" step 15). Only the few backend
 * messages such a reply holds are known, in the order PostgreSQL sends them: anything else is an
 * error rather than a guess. A reply is whole only with its statement's completion and then
 * ReadyForQuery inside the transaction block (PGlite sends ReadyForQuery even when its own run of
 * the exchange broke off, so rows without a completion are a broken run, not a result).
 * Must never: hand on a row of a statement that failed (an ErrorResponse anywhere fails it all),
 * or put a parameter's value into an error of its own making (parameters carry records and token
 * hashes). PostgreSQL's own message is passed on as it came, as pg and PGlite pass it on: like
 * theirs, it can quote a value (a cast that failed), and the server's log keeps it.
 * A reply this reader cannot make sense of, or a parameter it cannot send, is the server's own
 * fault, not PostgreSQL's: a CrewvaultError INTERNAL, which the log keeps with its message.
 */
import { protocol } from '@electric-sql/pglite';
import { CrewvaultError } from '../../shared/errors';

/** A row's values in the statement's column order, in PostgreSQL's text format: null for SQL NULL. */
export type RawRow = ReadonlyArray<Buffer | null>;

/** A statement PostgreSQL refused, with its SQLSTATE as `code` (XX000 if it named none), as pg and PGlite report one. */
export class RawQueryError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'RawQueryError';
  }
}

/** Parameters as the text format takes them: strings and finite numbers only (what stores pass); null for NULL. */
function textParameter(value: unknown, index: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
  throw new CrewvaultError('INTERNAL', `raw query: parameter $${index + 1} is of a type the text format here does not take (${typeof value})`);
}

/** A statement queryBytes takes: one SELECT (or WITH … SELECT), never a COPY or a script. */
export function requireSelect(sql: string): void {
  if (!/^\s*(SELECT|WITH)\b/i.test(sql)) throw new CrewvaultError('INTERNAL', 'queryBytes reads a SELECT only');
}

/** The frontend messages of one unnamed statement run once: PostgreSQL infers each parameter's type from where it stands. */
export function rawQueryMessage(sql: string, params: readonly unknown[]): Uint8Array {
  const parts = [
    protocol.serialize.parse({ text: sql }),
    protocol.serialize.bind({ values: params.map((value, index) => textParameter(value, index)) }),
    protocol.serialize.execute({}),
    protocol.serialize.sync(),
  ];
  return Buffer.concat(parts);
}

/** The ErrorResponse's message and SQLSTATE (fields: a type byte, a NUL-ended string; a NUL ends them). */
function errorOf(reply: Buffer, start: number, end: number): RawQueryError {
  let message = 'raw query: PostgreSQL refused the statement';
  let code: string | undefined;
  let at = start;
  while (at < end && reply[at] !== 0) {
    const field = reply[at];
    const stop = reply.indexOf(0, at + 1);
    if (stop < 0 || stop >= end) break;
    const value = reply.toString('utf8', at + 1, stop);
    if (field === 0x4d /* M */) message = value;
    if (field === 0x43 /* C */) code = value;
    at = stop + 1;
  }
  return new RawQueryError(message, code ?? 'XX000');
}

const PARSE_COMPLETE = 0x31; // '1'
const BIND_COMPLETE = 0x32; // '2'
const COMMAND_COMPLETE = 0x43; // 'C'
const DATA_ROW = 0x44; // 'D'
const ERROR_RESPONSE = 0x45; // 'E'
const NOTICE_RESPONSE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const READY_FOR_QUERY = 0x5a; // 'Z'
const EMPTY_QUERY = 0x49; // 'I'
/** ReadyForQuery's status inside a transaction block that has not failed. */
const IN_TRANSACTION = 0x54; // 'T'

/**
 * The rows of a reply to rawQueryMessage: every message walked to ReadyForQuery, so an error
 * after some rows (a cast failing on a later row) still fails the whole statement. Rows count only
 * when the statement completed (CommandComplete, or EmptyQueryResponse) and ReadyForQuery then says
 * the transaction block is still open (T): PGlite's ReadyForQuery closes even a run it broke off.
 */
export function readRawRows(output: Uint8Array): RawRow[] {
  const reply = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const rows: RawRow[] = [];
  let failure: RawQueryError | undefined;
  let complete = false;
  let status: number | undefined;
  let at = 0;
  while (at < reply.length) {
    if (at + 5 > reply.length) throw new CrewvaultError('INTERNAL', 'raw query: the reply ends inside a message header');
    const type = reply[at];
    const length = reply.readInt32BE(at + 1);
    const start = at + 5;
    const end = at + 1 + length;
    if (length < 4 || end > reply.length) throw new CrewvaultError('INTERNAL', 'raw query: a message runs past the reply');
    if (status !== undefined) throw new CrewvaultError('INTERNAL', 'raw query: a message after ReadyForQuery');
    if (type === DATA_ROW) {
      if (complete) throw new CrewvaultError('INTERNAL', 'raw query: a data row after its statement completed');
      rows.push(dataRowValues(reply, start, end));
    } else if (type === ERROR_RESPONSE) {
      failure ??= errorOf(reply, start, end);
    } else if (type === COMMAND_COMPLETE || type === EMPTY_QUERY) {
      if (complete) throw new CrewvaultError('INTERNAL', 'raw query: a statement completed twice');
      complete = true;
    } else if (type === READY_FOR_QUERY) {
      if (end !== start + 1) throw new CrewvaultError('INTERNAL', 'raw query: a ReadyForQuery without its one status byte');
      status = reply[start];
    } else if (type !== PARSE_COMPLETE && type !== BIND_COMPLETE && type !== NOTICE_RESPONSE && type !== PARAMETER_STATUS) {
      throw new CrewvaultError('INTERNAL', `raw query: a backend message of a type not expected here (${String.fromCharCode(type ?? 0)})`);
    }
    at = end;
  }
  if (status === undefined) throw new CrewvaultError('INTERNAL', 'raw query: the reply ends before ReadyForQuery');
  if (failure !== undefined) throw failure;
  if (!complete) throw new CrewvaultError('INTERNAL', 'raw query: the reply ends without its statement completing');
  if (status !== IN_TRANSACTION) throw new CrewvaultError('INTERNAL', 'raw query: the statement ran outside its transaction block');
  return rows;
}

/** A DataRow's values (a count, then each value's length and bytes; -1 for NULL), as views of the reply. */
function dataRowValues(reply: Buffer, start: number, end: number): RawRow {
  if (start + 2 > end) throw new CrewvaultError('INTERNAL', 'raw query: a data row ends inside its count');
  const columns = reply.readInt16BE(start);
  const row: Array<Buffer | null> = new Array<Buffer | null>(columns);
  let field = start + 2;
  for (let c = 0; c < columns; c++) {
    if (field + 4 > end) throw new CrewvaultError('INTERNAL', 'raw query: a data row ends inside a value\'s length');
    const size = reply.readInt32BE(field);
    field += 4;
    if (size === -1) {
      row[c] = null;
      continue;
    }
    if (size < 0 || field + size > end) throw new CrewvaultError('INTERNAL', 'raw query: a value runs past its data row');
    row[c] = reply.subarray(field, field + size);
    field += size;
  }
  if (field !== end) throw new CrewvaultError('INTERNAL', 'raw query: a data row holds more than its values');
  return row;
}
