/**
 * A transaction's rows read as bytes (server/store/db.ts queryBytes; on PGlite its own protocol
 * reader, server/store/raw-rows.ts), on PostgreSQL and PGlite: the same values, byte for byte, as
 * the text `query` decodes (multi-byte UTF-8, NULL, empty text, jsonb turned into text, numbers
 * of every width), parameters of each type a store passes, and a statement that fails on a later
 * row failing whole: no row of it handed on, the transaction rolled back, the database still
 * answering after it. Sharing the transaction: a query asked in the middle of another's exchanges
 * (fails without PGlite's query lock), statements queued behind a failing one or left unawaited
 * (none runs after ROLLBACK or COMMIT, an unseen failure fails the transaction), one asked after
 * it ended refused; notices and parameter changes in the reply; a SELECT only. Then the reader
 * itself given replies no PostgreSQL sends (or a broken run of PGlite's): each refused.
 */
import { describe, expect, it } from 'vitest';
import { readRawRows, rawQueryMessage, RawQueryError } from '../../server/store/raw-rows';
import type { DatabaseTransaction } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';

const databases = useTestDatabases();

const TEXTS = ['plain', '', 'Zoë Ångström — “quoted”', 'emoji 🔑🗝️ and CJK 鍵', 'a "quote", a \\ backslash\nand a new line', 'x'.repeat(70_000)];

describe.each(DATABASE_KINDS)('rows read as bytes on %s', (kind) => {
  it('are the text query reads, byte for byte, NULLs as null, in column order', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE bytes_seen (n bigint PRIMARY KEY, t text, j jsonb)');
    for (const [n, t] of TEXTS.entries()) await db.query('INSERT INTO bytes_seen (n, t, j) VALUES ($1, $2, $3::jsonb)', [n + 2 ** 40, t, JSON.stringify({ name: t, n, nested: [t, null, true] })]);
    await db.query('INSERT INTO bytes_seen (n, t, j) VALUES ($1, NULL, NULL)', [-1]);
    const sql = 'SELECT n, t, j::text AS j, octet_length(t) AS size FROM bytes_seen WHERE n <> $1 ORDER BY n';
    const [asText, asBytes] = await db.transaction(async (tx) => [await tx.query(sql, [0]), await tx.queryBytes(sql, [0])] as const);
    expect(asBytes).toHaveLength(TEXTS.length + 1);
    expect(asBytes.map((row) => row.length)).toEqual(asBytes.map(() => 4));
    for (const [i, row] of asText.entries()) {
      const bytes = asBytes[i] ?? [];
      expect(bytes[0]?.toString('utf8')).toBe(String(row.n));
      expect(bytes[1] === null ? null : bytes[1]?.toString('utf8')).toBe(row.t);
      expect(bytes[2] === null ? null : bytes[2]?.toString('utf8')).toBe(row.j);
      expect(bytes[3] === null ? null : Number(bytes[3]?.toString('utf8'))).toBe(row.size === null ? null : Number(row.size));
      if (typeof row.t === 'string') expect(bytes[1]?.equals(Buffer.from(row.t, 'utf8'))).toBe(true);
    }
    expect(asBytes[0]).toEqual([Buffer.from('-1'), null, null, null]);
  });

  it('take strings, numbers, bigints and null as parameters, and refuse any other type before anything is sent', async () => {
    const db = await databases.open(kind);
    const rows = await db.transaction(async (tx) => tx.queryBytes('SELECT $1::text AS a, $2::bigint + 1 AS b, $3::bigint AS c, $4::text IS NULL AS d, $5::numeric AS e', ['ä', 41, 2n ** 62n, null, 1.5]));
    expect(rows.map((row) => row.map((v) => (v === null ? null : v.toString('utf8'))))).toEqual([['ä', '42', String(2n ** 62n), 't', '1.5']]);
    expect(() => rawQueryMessage('SELECT $1', [{ secret: 'kept out' }])).toThrow(/parameter \$1 is of a type/);
    expect(() => rawQueryMessage('SELECT $1', [Number.NaN])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    try {
      rawQueryMessage('SELECT $1', [{ secret: 'kept out' }]);
    } catch (error) {
      expect(String(error)).not.toContain('kept out');
    }
  });

  it('fail whole when a later row fails: no rows, its SQLSTATE, rolled back, and the database answers after', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE bytes_failing (n integer PRIMARY KEY)');
    let caught: unknown;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO bytes_failing (n) VALUES (1)');
      await tx.queryBytes('SELECT 10 / (x - $1) AS q FROM generate_series(1, 6) x', [4]);
    }).catch((error: unknown) => {
      caught = error;
    });
    expect((caught as { code?: string } | undefined)?.code).toBe('22012');
    expect(String(caught)).toMatch(/division by zero/);
    expect(await db.query('SELECT count(*)::int AS c FROM bytes_failing')).toEqual([{ c: 0 }]);
    // A SELECT PostgreSQL cannot parse: refused the same way, and the next transaction reads as ever.
    await expect(db.transaction(async (tx) => tx.queryBytes('SELECT FROM WHERE nothing', []))).rejects.toMatchObject({ code: '42601' });
    const rows = await db.transaction(async (tx) => tx.queryBytes('SELECT n FROM generate_series(1, 3) n', []));
    expect(rows.map((row) => row[0]?.toString('utf8'))).toEqual(['1', '2', '3']);
  });

  it('share their transaction with query: asked together or one after the other, each gets its own rows', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE bytes_shared (n integer PRIMARY KEY, t text)');
    await db.transaction(async (tx) => {
      // PGlite's query is several exchanges (parse, describe, then bind and execute, then sync), each awaited: a raw
      // statement let in between them would replace the unnamed statement it then binds. The raw statement is asked
      // after 0 to 39 turns of the microtask queue, so some rounds ask it in the middle of the query.
      for (let round = 0; round < 40; round++) {
        const inserted = tx.query('INSERT INTO bytes_shared (n, t) VALUES ($1, $2) RETURNING n', [round, `row ${round}`]);
        for (let turn = 0; turn < round; turn++) await Promise.resolve();
        const [asBytes, asText] = await Promise.all([
          tx.queryBytes('SELECT $1::int * 1000 AS marker, $2::text AS t', [round, `raw ${round}`]),
          tx.query('SELECT $1::text AS echo', [`echo ${round}`]),
        ]);
        expect(await inserted).toEqual([{ n: round }]);
        expect(asBytes.map((row) => row.map((v) => v?.toString('utf8')))).toEqual([[String(round * 1000), `raw ${round}`]]);
        expect(asText).toEqual([{ echo: `echo ${round}` }]);
      }
      const after = await tx.query('SELECT count(*)::int AS c FROM bytes_shared');
      expect(after).toEqual([{ c: 40 }]);
    });
    expect(await db.query('SELECT count(*)::int AS c FROM bytes_shared')).toEqual([{ c: 40 }]);
  });

  it('read past the notices and parameter changes a statement sends along with its rows', async () => {
    const db = await databases.open(kind);
    await db.query(`CREATE FUNCTION bytes_noisy(n integer) RETURNS integer LANGUAGE plpgsql AS $$
      BEGIN RAISE NOTICE 'noisy row %', n; RETURN n * 2; END $$`);
    const rows = await db.transaction(async (tx) => tx.queryBytes(
      "SELECT bytes_noisy(x) AS doubled, set_config('application_name', 'crewvault-bytes-' || x, false) AS app FROM generate_series(1, 3) x", []));
    expect(rows.map((row) => row.map((v) => v?.toString('utf8')))).toEqual([['2', 'crewvault-bytes-1'], ['4', 'crewvault-bytes-2'], ['6', 'crewvault-bytes-3']]);
  });

  it('are refused once their transaction has ended, as every statement of it is, and nothing runs', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE bytes_after (n integer)');
    let kept: DatabaseTransaction | undefined;
    await db.transaction(async (tx) => {
      kept = tx;
      await tx.queryBytes('SELECT 1', []);
    });
    if (kept === undefined) throw new Error('the transaction ran no work');
    const late = kept;
    await expect(late.queryBytes('SELECT 1', [])).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(late.query('INSERT INTO bytes_after (n) VALUES (1)')).rejects.toThrow();
    expect(await db.query('SELECT count(*)::int AS c FROM bytes_after')).toEqual([{ c: 0 }]);
  });

  it('end their transaction only after the statements asked in it: none runs after ROLLBACK or COMMIT', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE bytes_queued (n integer PRIMARY KEY)');
    // Asked together with one that fails: the transaction fails, and what was queued behind it is not stored either.
    await expect(db.transaction(async (tx) => {
      await Promise.all([
        tx.query('SELECT 1 / 0'),
        tx.queryBytes('SELECT 1', []),
        tx.query('INSERT INTO bytes_queued (n) VALUES (1)'),
        tx.query('INSERT INTO bytes_queued (n) VALUES (2)'),
      ]);
    })).rejects.toMatchObject({ code: '22012' });
    expect(await db.query('SELECT count(*)::int AS c FROM bytes_queued')).toEqual([{ c: 0 }]);
    // Asked in time but not awaited: it runs before COMMIT, inside the transaction.
    let unseen: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      unseen = tx.query('INSERT INTO bytes_queued (n) VALUES (3)');
      return Promise.resolve();
    });
    await unseen;
    expect(await db.query('SELECT n FROM bytes_queued ORDER BY n')).toEqual([{ n: 3 }]);
    // One that fails unseen fails the transaction: nothing of it stored, though the work returned.
    await expect(db.transaction(async (tx) => {
      await tx.query('INSERT INTO bytes_queued (n) VALUES (4)');
      tx.query('INSERT INTO bytes_queued (n) VALUES (3)').catch(() => undefined);
      return Promise.resolve();
    })).rejects.toThrow();
    expect(await db.query('SELECT n FROM bytes_queued ORDER BY n')).toEqual([{ n: 3 }]);
    // The database answers as ever after all of it.
    expect(await db.transaction(async (tx) => tx.queryBytes('SELECT count(*) FROM bytes_queued', []))).toEqual([[Buffer.from('1')]]);
  });

  it('read a SELECT only: a COPY or any other statement is refused before anything is sent', async () => {
    const db = await databases.open(kind);
    await db.query('CREATE TABLE bytes_copy (n integer)');
    for (const sql of ['COPY bytes_copy FROM STDIN', 'INSERT INTO bytes_copy VALUES (1) RETURNING n', '  copy bytes_copy TO STDOUT']) {
      await expect(db.transaction(async (tx) => tx.queryBytes(sql, [])), sql).rejects.toMatchObject({ code: 'INTERNAL' });
    }
    expect(await db.query('SELECT count(*)::int AS c FROM bytes_copy')).toEqual([{ c: 0 }]);
    expect(await db.transaction(async (tx) => tx.queryBytes('  with t as (select 2 as n) select n from t', []))).toEqual([[Buffer.from('2')]]);
  });
});

/** A backend message: its type, its length (itself included), its body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function dataRow(values: ReadonlyArray<Buffer | null>): Buffer {
  const parts: Buffer[] = [Buffer.from([0, values.length])];
  for (const value of values) {
    const size = Buffer.alloc(4);
    size.writeInt32BE(value === null ? -1 : value.length);
    parts.push(size, ...(value === null ? [] : [value]));
  }
  return message('D', Buffer.concat(parts));
}

const READY = message('Z', Buffer.from('T'));
const DONE = message('C', Buffer.from('SELECT 1\0'));

describe('the raw reply reader', () => {
  it('reads rows of a well-formed reply as views of it', () => {
    const reply = Buffer.concat([message('1'), message('2'), dataRow([Buffer.from('a'), null, Buffer.from('')]), DONE, READY]);
    const rows = readRawRows(reply);
    expect(rows).toEqual([[Buffer.from('a'), null, Buffer.alloc(0)]]);
    expect(rows[0]?.[0]?.buffer).toBe(reply.buffer);
  });

  it('refuses replies no PostgreSQL sends, each with its own reason', () => {
    const row = dataRow([Buffer.from('abc')]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['no ReadyForQuery', Buffer.concat([row, DONE]), /ends before ReadyForQuery/],
      ['a header cut short', Buffer.concat([row, DONE, READY.subarray(0, 3)]), /inside a message header/],
      ['a message longer than the reply', Buffer.concat([row.subarray(0, row.length - 1), DONE, READY]), /./],
      ['a length below its own size', Buffer.concat([Buffer.from([0x44, 0, 0, 0, 2]), READY]), /runs past the reply/],
      ['a value past its row', Buffer.concat([message('D', Buffer.from([0, 1, 0, 0, 0, 9, 0x61])), READY]), /runs past its data row/],
      ['a row with bytes after its values', Buffer.concat([message('D', Buffer.from([0, 1, 0, 0, 0, 1, 0x61, 0x62])), READY]), /more than its values/],
      ['a negative length other than NULL', Buffer.concat([message('D', Buffer.from([0, 1, 0xff, 0xff, 0xff, 0xfe])), READY]), /runs past its data row/],
      ['a message of another kind (CopyData)', Buffer.concat([message('d', Buffer.from('x')), DONE, READY]), /not expected here \(d\)/],
      ['rows without their statement completing (a run broken off)', Buffer.concat([row, row, READY]), /without its statement completing/],
      ['a row after the statement completed', Buffer.concat([row, DONE, row, READY]), /after its statement completed/],
      ['a statement completed twice', Buffer.concat([row, DONE, DONE, READY]), /completed twice/],
      ['a message after ReadyForQuery', Buffer.concat([row, DONE, READY, row]), /after ReadyForQuery/],
      ['ReadyForQuery outside the transaction block', Buffer.concat([row, DONE, message('Z', Buffer.from('I'))]), /outside its transaction block/],
      ['ReadyForQuery without its status', Buffer.concat([row, DONE, message('Z')]), /one status byte/],
      ['a data row cut inside its count', Buffer.concat([message('D', Buffer.from([0])), DONE, READY]), /inside its count/],
    ];
    for (const [what, reply, reason] of cases) {
      expect(() => readRawRows(reply), what).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
      expect(() => readRawRows(reply), what).toThrow(reason);
    }
  });

  it('fails the statement on an ErrorResponse even after rows, with its message and SQLSTATE', () => {
    const error = message('E', Buffer.from('SERROR\0C22012\0Mdivision by zero\0\0', 'utf8'));
    expect(() => readRawRows(Buffer.concat([dataRow([Buffer.from('1')]), error, READY]))).toThrow(expect.objectContaining({ code: '22012', message: 'division by zero' }));
    // One that names no SQLSTATE is still PostgreSQL's refusal, under its catch-all code, and still after rows.
    const bare = message('E', Buffer.from('SERROR\0Msomething failed\0\0', 'utf8'));
    expect(() => readRawRows(Buffer.concat([dataRow([Buffer.from('1')]), bare, READY]))).toThrow(RawQueryError);
    expect(() => readRawRows(Buffer.concat([dataRow([Buffer.from('1')]), bare, READY]))).toThrow(expect.objectContaining({ code: 'XX000', message: 'something failed' }));
  });
});
