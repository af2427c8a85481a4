/**
 * An entry record read by hand, for a first sync's snapshot pages (docs/SYNC.md "Speed"): nearly
 * every record of a large vault's snapshot is an entry, and `entryRecordSchema` (zod) costs ~6 µs
 * each on the desktop's one busy thread. This reads the same shape with plain checks and answers
 * either exactly what `entryRecordSchema.parse` would (the same fields, values and key order) or
 * undefined, meaning only "not sure": the caller then runs the schema itself, which decides and
 * says why. So the schema stays the one rule; this can only ever be stricter than it.
 * test/unit/entry-record-fast.test.ts holds the two together over valid records and thousands of
 * changes of them.
 * Must never: answer a record the schema refuses, or answer one differing from the schema's output.
 */
import { MAX_BATCH_DIGESTS } from './record-batches';
import { MAX_KEY_VERSION, type EntryRecord } from './records';

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** records.ts `bytes`. */
const MAX_BYTES = 131_072;

/** Every key an entry record may have, in the schema's order: the answer is built in it, as zod builds its output. */
const KEYS = new Set(['kind', 'id', 'revision', 'base', 'customer', 'group', 'keyVersion', 'lookup', 'sealedSummary', 'sealedDetails', 'createdAt', 'updatedAt', 'deletedAt', 'author', 'signerKey', 'signature', 'batch', 'index']);

const isUid = (v: unknown): v is string => typeof v === 'string' && UID.test(v);
const isBytes = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_BYTES && BASE64URL.test(v);
/** A whole number from `min` up to Number.MAX_SAFE_INTEGER (the schema's int with its bounds; it may take more, never less). */
const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** `value` as `entryRecordSchema` would return it, or undefined when this cannot be sure it would (see the header). */
export function readEntryRecord(value: unknown): EntryRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const r = value as Record<string, unknown>;
  // The keys zod sees, as it sees them: `for...in` for unknown ones (inherited enumerable keys too), `in` for declared ones.
  for (const key in r) if (!KEYS.has(key)) return undefined;
  const { kind, id, revision, base, customer, group, keyVersion, lookup, sealedSummary, sealedDetails, createdAt, updatedAt, deletedAt, author, signerKey } = r;
  if (kind !== 'entry' || !isUid(id) || !isCount(revision, 1) || !isCount(base, 0) || !isUid(customer) || !isUid(group) || !isCount(keyVersion, 1) || keyVersion > MAX_KEY_VERSION) return undefined;
  if (!isBytes(lookup) || !isBytes(sealedSummary) || !isBytes(sealedDetails) || !isCount(createdAt, 0) || !isCount(updatedAt, 0)) return undefined;
  if (deletedAt !== null && !isCount(deletedAt, 0)) return undefined;
  if (deletedAt !== null && (lookup !== '' || sealedSummary !== '' || sealedDetails !== '')) return undefined;
  if (!isUid(author) || !isUid(signerKey)) return undefined;
  // One voucher: its signature, or its batch and index (an optional key present is never undefined: JSON has no undefined).
  // `in`, as zod's: a key inherited from a changed Object.prototype counts as present, as it does for the schema (review of fb5a539).
  const has = (key: string): boolean => key in r;
  const { signature, batch, index } = r;
  const common = { kind, id, revision, base, customer, group, keyVersion, lookup, sealedSummary, sealedDetails, createdAt, updatedAt, deletedAt, author, signerKey } as const;
  if (has('signature')) {
    if (has('batch') || has('index') || !isBytes(signature)) return undefined;
    return { ...common, signature };
  }
  if (!has('batch') || !has('index') || !isUid(batch) || !isCount(index, 0) || index > MAX_BATCH_DIGESTS - 1) return undefined;
  return { ...common, batch, index };
}
