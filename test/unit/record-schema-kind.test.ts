// The replica record schema chooses its kind's schema by `kind` (shared/sync/records.ts,
// docs/SYNC.md "Speed" step 10) where it was a plain union that tried each in turn: the two must
// give the same verdict and the same value on every record. Held here against the union rebuilt
// from the same ten schemas, on a valid record of each kind and on that record changed (a field
// dropped, a field added, a value of the wrong type, its kind swapped for each other kind).
// Must never: compare the schema with itself (the union is built here, apart), or pass with a
// kind left out of the chosen schemas (its valid record would then be refused: asserted taken).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  customerRecordSchema, entryRecordSchema, eventRecordSchema, groupRecordSchema, memberRecordSchema, mfaPolicyRecordSchema, replicaRecordSchema, roleRecordSchema,
  settingsRecordSchema, signingKeyRecordSchema, userRecordSchema,
} from '../../shared/sync/records';

const union = z.union([
  customerRecordSchema, entryRecordSchema, signingKeyRecordSchema, eventRecordSchema, userRecordSchema, groupRecordSchema, memberRecordSchema,
  roleRecordSchema, settingsRecordSchema, mfaPolicyRecordSchema,
]);

const id = (n: number): string => `0000000${n}-0000-7000-8000-00000000000${n}`.replace(/^0*(\d{8})/, '$1');
const b64 = 'QAxVOfLYyFLQ5_BGGc1Lq2iApAzBEWNFQksKw4xlsoY';
const signed = { author: id(1), signerKey: id(2), signature: b64 };

/** One valid record of each kind. */
const VALID: Record<string, Record<string, unknown>> = {
  customer: { kind: 'customer', id: id(3), revision: 1, base: 0, sealedName: b64, nameIndex: b64, createdAt: 1, author: id(1), signerKey: id(2), batch: id(4), index: 0 },
  entry: {
    kind: 'entry', id: id(5), revision: 2, base: 1, customer: id(3), group: id(6), keyVersion: 1, lookup: b64, sealedSummary: b64, sealedDetails: b64,
    createdAt: 1, updatedAt: 2, deletedAt: null, ...signed,
  },
  signing_key: { kind: 'signing_key', id: id(2), user: id(1), publicKey: b64, createdAt: 1, certifiedBy: null, certificate: null, binding: null },
  event: {
    kind: 'event', id: id(7), at: 5, actor: id(1), action: 'entry.create', subject: 'Acme', entry: id(5), customer: id(3), group: id(6), sealedDetail: null,
    device: b64, devicePrev: null, signerKey: id(2), signature: b64,
  },
  user: { kind: 'user', id: id(1), revision: 1, name: 'ann', role: 'owner', publicKey: b64, account: null, disabledAt: null, ...signed },
  group: { kind: 'group', id: id(6), revision: 1, sealedName: b64, nameIndex: b64, keyVersion: 1, createdAt: 1, deletedAt: null, ...signed },
  member: { kind: 'member', id: id(8), revision: 1, group: id(6), user: id(1), keyVersion: 1, lead: true, byRole: false, wrappedKey: b64, wrappedSecretKey: null, revoked: false, ...signed },
  role: { kind: 'role', id: id(9), revision: 1, base: 0, name: 'Helpdesk', permissions: ['entries.create'], ...signed },
  settings: { kind: 'settings', id: id(9), revision: 1, base: 0, idleLockMinutes: 10, clipboardClearSeconds: 30, trustDeviceDays: 30, ...signed },
  mfa_policy: { kind: 'mfa_policy', id: id(9), revision: 1, base: 0, global: 'required', roles: [['technician', 'optional']], ...signed },
};

function variants(kind: string, record: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const key of Object.keys(record)) {
    const rest = Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
    out.push(rest, { ...record, [key]: 17 }, { ...record, [key]: 'not-this' }, { ...record, [key]: null });
  }
  out.push({ ...record, extra: 1 });
  for (const other of Object.keys(VALID)) if (other !== kind) out.push({ ...record, kind: other });
  return out;
}

describe('the replica record schema, chosen by kind', () => {
  it('takes a valid record of each of the ten kinds, as the union did', () => {
    expect(Object.keys(VALID)).toHaveLength(10);
    for (const record of Object.values(VALID)) {
      const chosen = replicaRecordSchema.safeParse(record);
      expect(chosen.success, String(record.kind)).toBe(true);
      expect(chosen.data).toEqual(union.parse(record));
    }
  });

  it('gives the union\'s verdict and value on every record changed from them, and on things that are no record', () => {
    let refused = 0;
    const others: unknown[] = [null, 'entry', 17, [], {}, { kind: 'entry' }, { kind: 'nothing' }, { kind: null }];
    for (const candidate of [...Object.entries(VALID).flatMap(([kind, record]) => variants(kind, record)), ...others]) {
      const chosen = replicaRecordSchema.safeParse(candidate);
      const tried = union.safeParse(candidate);
      expect(chosen.success, JSON.stringify(candidate)).toBe(tried.success);
      if (chosen.success) expect(chosen.data).toEqual(tried.data);
      else refused++;
    }
    // Most changes make a record no record (a few, e.g. subject null or a null signature of an event, are still valid).
    expect(refused).toBeGreaterThan(300);
  });
});
