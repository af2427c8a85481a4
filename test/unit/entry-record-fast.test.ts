// The hand reader of entry records (shared/sync/entry-record-fast.ts) against the schema it
// stands in for (entryRecordSchema, zod): on valid entries in each voucher form, tombstones, keys in
// any order, and thousands of changes of them (a field dropped, added, made each wrong type or an
// edge value), it answers exactly what the schema answers, or undefined (the schema then decides).
// Must never: pass with the reader answering nothing (every valid record here is asserted answered),
// or compare the reader with itself.
import { describe, expect, it } from 'vitest';
import { parseServerReply } from '../../shared/api/server-contract';
import { readEntryRecord } from '../../shared/sync/entry-record-fast';
import { MAX_BATCH_DIGESTS } from '../../shared/sync/record-batches';
import { entryRecordSchema, replicaRecordSchema } from '../../shared/sync/records';
import { readSnapshotReply } from '../../electron/team/snapshot-page';

const id = (n: number): string => `${String(n).padStart(8, '0')}-0000-7000-8000-${String(n).padStart(12, '0')}`;
const b64 = 'QAxVOfLYyFLQ5_BGGc1Lq2iApAzBEWNFQksKw4xlsoY';

const entry = {
  kind: 'entry', id: id(5), revision: 2, base: 1, customer: id(3), group: id(6), keyVersion: 1, lookup: b64, sealedSummary: b64, sealedDetails: b64,
  createdAt: 1, updatedAt: 2, deletedAt: null, author: id(1), signerKey: id(2),
};
const VALID: ReadonlyArray<Record<string, unknown>> = [
  { ...entry, signature: b64 },
  { ...entry, batch: id(4), index: 0 },
  { ...entry, batch: id(4), index: MAX_BATCH_DIGESTS - 1 },
  { ...entry, lookup: '', sealedSummary: '', sealedDetails: '', deletedAt: 9, batch: id(4), index: 7 },
  { ...entry, revision: Number.MAX_SAFE_INTEGER, base: 0, createdAt: 0, updatedAt: Number.MAX_SAFE_INTEGER, signature: '' },
  { ...entry, sealedDetails: 'A'.repeat(131_072), signature: b64 },
  // Keys in another order than the schema's (the answer is in the schema's order, as zod's is).
  Object.fromEntries(Object.entries({ ...entry, signature: b64 }).reverse()),
];

/** Values a field is changed to: other types, edges of each rule, near-misses of an id and of base64url. */
const ODD: readonly unknown[] = [
  null, undefined, 0, -0, 1, -1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, true, false, '', 'x', '17', [], {}, [b64],
  b64, `${b64}=`, `${b64}+`, `${b64}/`, 'A'.repeat(131_072), 'A'.repeat(131_073), id(9), id(9).toUpperCase(), `${id(9)} `, id(9).replaceAll('-', ''), `${id(9)}\n`,
  MAX_BATCH_DIGESTS - 1, MAX_BATCH_DIGESTS, 'entry', 'customer',
];

function variants(record: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  const keys = [...Object.keys(record), 'signature', 'batch', 'index', 'extra', '__proto__', 'constructor'];
  for (const key of new Set(keys)) {
    out.push(Object.fromEntries(Object.entries(record).filter(([k]) => k !== key)));
    for (const value of ODD) {
      const changed: Record<string, unknown> = { ...record };
      Object.defineProperty(changed, key, { value, enumerable: true, configurable: true, writable: true });
      out.push(changed);
    }
  }
  // A key named __proto__ as JSON.parse makes one (an own property, not the prototype).
  out.push(JSON.parse(JSON.stringify(record).replace(/^\{/, '{"__proto__":{"x":1},')));
  out.push(Object.assign(Object.create({ inherited: 1 }) as object, record), [record], 'entry', 5, null);
  return out;
}

/** Whether the reader and the schema agree on `value`: same answer, or the reader unsure. Returns whether the reader answered. */
function agree(value: unknown): boolean {
  const fast = readEntryRecord(value);
  const zod = entryRecordSchema.safeParse(value);
  if (fast === undefined) return false;
  expect(zod.success).toBe(true);
  // The same fields, values and key order (heldBody and digests serialise records).
  expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
  expect(Object.is(fast.base, zod.data?.base)).toBe(true);
  return true;
}

describe('readEntryRecord', () => {
  it('answers every valid entry exactly as the schema does', () => {
    for (const record of VALID) {
      expect(entryRecordSchema.safeParse(record).success).toBe(true);
      expect(agree(record)).toBe(true);
      expect(agree(JSON.parse(JSON.stringify(record)))).toBe(true);
    }
  });

  it('never answers a change of one the schema refuses, nor one differing from its output', () => {
    let tried = 0;
    let answered = 0;
    let refusedBySchema = 0;
    for (const record of VALID) {
      for (const value of variants(record)) {
        tried++;
        if (agree(value)) answered++;
        if (!entryRecordSchema.safeParse(value).success) refusedBySchema++;
      }
    }
    expect(tried).toBeGreaterThan(2_000);
    // Both sides of the line are exercised: many changes still valid (an edge value, another id), many refused.
    expect(answered).toBeGreaterThan(200);
    expect(refusedBySchema).toBeGreaterThan(1_000);
  });

  it('is sure of every change the schema takes, but for those it leaves to the schema on purpose', () => {
    // The reader is allowed to be unsure only where the schema is looser than a JSON reply can be (a prototype, an undefined value);
    // everything a server's JSON can carry that the schema takes, the reader takes too, or a first sync would gain nothing.
    for (const record of VALID) {
      for (const value of variants(record)) {
        const json: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
        if (entryRecordSchema.safeParse(json).success) expect(readEntryRecord(json), JSON.stringify(json).slice(0, 200)).toBeDefined();
      }
    }
  });

  it('leaves every other kind to the schema', () => {
    const customer = { kind: 'customer', id: id(3), revision: 1, base: 0, sealedName: b64, nameIndex: b64, createdAt: 1, author: id(1), signerKey: id(2), batch: id(4), index: 0 };
    expect(replicaRecordSchema.safeParse(customer).success).toBe(true);
    expect(readEntryRecord(customer)).toBeUndefined();
  });
});

describe('a snapshot page read with it (electron/team/snapshot-page.ts)', () => {
  const customer = { kind: 'customer', id: id(3), revision: 1, base: 0, sealedName: b64, nameIndex: b64, createdAt: 1, author: id(1), signerKey: id(2), batch: id(4), index: 0 };
  const page = (records: readonly unknown[]): unknown => ({ ok: true, value: { records: records.map((record, i) => ({ seq: i + 1, record })), after: records.length, upTo: 40, more: true } });

  it('reads a page as the contract\'s own parse does', () => {
    const body = page([customer, ...VALID]);
    const whole = parseServerReply('syncSnapshot', body);
    const read = readSnapshotReply(body);
    expect(whole.ok && read.ok).toBe(true);
    if (!whole.ok || !read.ok) return;
    expect(JSON.stringify(read.value.page)).toBe(JSON.stringify(whole.value));
    expect(read.value.unfit).toEqual([]);
  });

  it('sets aside an entry out of shape, takes the rest, and passes an error reply or a page out of shape on as before', () => {
    const read = readSnapshotReply(page([{ ...VALID[0], index: 3 }, VALID[1]]));
    expect(read.ok && read.value.unfit.map((u) => u.seq)).toEqual([1]);
    expect(read.ok && read.value.page.records.map((r) => r.seq)).toEqual([2]);
    expect(readSnapshotReply({ ok: false, error: { code: 'FORBIDDEN', message: 'no' } })).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'no' } });
    expect(() => readSnapshotReply({ ok: true, value: { records: [], after: -1, upTo: 0, more: false } })).toThrow();
  });
});
