/**
 * How a push is cut into parts (electron/team/sync.ts partsOf): who is who the server must take in
 * one push — the user and group records, the pusher's own memberships, and every member record of a
 * group the push sends (a rotation's re-wraps) — goes in one part, kept whole however small the parts
 * asked for, and cut only when it alone exceeds what one push takes (MAX_BATCH_RECORDS, PART_BYTES);
 * a rotation's revokes signed at the version the server holds go in a part before it.
 * Records shaped as the wire schema takes them (parsed by replicaRecordSchema), ids made up.
 * Must never: read the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { PART_BYTES, partsOf } from '../../electron/team/sync';
import { MAX_BATCH_RECORDS, replicaRecordSchema, type ReplicaRecord } from '../../shared/sync/records';

/** A global id from a number: distinct ids, a made-up shape the schema takes. */
const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const ALICE = id(1);
const signed = { author: ALICE, signerKey: id(2), signature: 'c2ln' };

const key = (): ReplicaRecord => replicaRecordSchema.parse({ kind: 'signing_key', id: id(2), user: ALICE, publicKey: 'a2V5', createdAt: 0, certifiedBy: null, certificate: null, binding: null });
const user = (n: number): ReplicaRecord => replicaRecordSchema.parse({ kind: 'user', id: id(n), revision: 2, name: `user ${n}`, role: 'technician', publicKey: 'cHVibGlj', account: null, disabledAt: null, ...signed });
const group = (n: number, keyVersion: number): ReplicaRecord => replicaRecordSchema.parse({ kind: 'group', id: id(n), revision: 2, sealedName: 'bmFtZQ', nameIndex: 'aW5kZXg', keyVersion, createdAt: 0, deletedAt: null, ...signed });
const member = (n: number, groupN: number, userN: number, keyVersion: number, revoked = false): ReplicaRecord => replicaRecordSchema.parse({
  kind: 'member', id: id(n), revision: 2, group: id(groupN), user: id(userN), keyVersion, lead: false, byRole: false, wrappedKey: revoked ? '' : 'd3JhcA', wrappedSecretKey: null, revoked, ...signed,
});
const event = (n: number): ReplicaRecord => replicaRecordSchema.parse({ kind: 'event', id: id(n), at: 0, actor: ALICE, action: 'group.revoke', subject: null, entry: null, customer: null, group: null, sealedDetail: null, device: null, devicePrev: null, signerKey: id(2), signature: 'c2ln' });

const ids = (parts: readonly ReplicaRecord[][]): string[][] => parts.map((p) => p.map((r) => r.id));
const bytesOf = (part: readonly ReplicaRecord[]): number => part.reduce((sum, r) => sum + JSON.stringify(r).length + 1, 0);

describe('partsOf', () => {
  it('keeps a rotation and its re-wraps in one part with the users, however small the parts asked for, its revoke in a part before it', () => {
    // Group 100 rotated from version 2 to 3: alice's own wrap, carol's re-wrap, bob revoked (signed at 2, the version the
    // server holds); bob demoted; a grant in group 200, not sent.
    const records = [key(), user(11), group(100, 3), member(101, 100, 1, 3), member(102, 100, 12, 3), member(103, 100, 11, 2, true), member(201, 200, 12, 1), event(300)];
    expect(ids(partsOf(records, 1))).toEqual([[id(2)], [id(103)], [id(11), id(100), id(101), id(102)], [id(201)], [id(300)]]);
    expect(ids(partsOf(records, 10))).toEqual([[id(2), id(103)], [id(11), id(100), id(101), id(102)], [id(201)], [id(300)]]);
    // A move's memberships are cut as any records are (nothing on its server to cut anyone off).
    expect(ids(partsOf(records, 1, true))).toEqual([[id(2)], [id(11), id(100), id(101)], [id(102)], [id(103)], [id(201)], [id(300)]]);
  });

  it('keeps a revoke with its rotation where it is signed at the rotation\'s version (the group new to the server), or the push deletes the group', () => {
    const records = [key(), group(100, 3), member(101, 100, 1, 3), member(102, 100, 12, 3), member(103, 100, 11, 3, true)];
    expect(ids(partsOf(records, 1))).toEqual([[id(2)], [id(100), id(101), id(102), id(103)]]);
    const deleted = replicaRecordSchema.parse({ ...group(100, 3), deletedAt: 5 });
    const deleting = [key(), deleted, member(103, 100, 11, 2, true)];
    expect(partsOf(deleting, 10).flat().map((r) => r.id)).toEqual([id(2), id(100), id(103)]);
    expect(partsOf(deleting, 10).some((p) => p.length === 1 && p[0]?.id === id(103))).toBe(false);
  });

  it('sends the part kept whole in a part of its own where the one before would not hold it all', () => {
    const people = Array.from({ length: MAX_BATCH_RECORDS }, (_, i) => user(1_000 + i));
    const parts = partsOf([key(), ...people], MAX_BATCH_RECORDS);
    expect(parts.map((p) => p.length)).toEqual([1, MAX_BATCH_RECORDS]);
  });

  it('cuts it only when it alone exceeds what one push takes, every record sent once, in order', () => {
    const people = Array.from({ length: MAX_BATCH_RECORDS + 1 }, (_, i) => user(1_000 + i));
    const records = [key(), ...people, event(99)];
    const parts = partsOf(records, MAX_BATCH_RECORDS);
    expect(parts.every((p) => p.length <= MAX_BATCH_RECORDS && bytesOf(p) <= PART_BYTES)).toBe(true);
    expect(parts.flat().map((r) => r.id)).toEqual(records.map((r) => r.id));
    // By bytes too: records of ~1 KiB whose 13,000 pass 12 MiB though under the count.
    const large = Array.from({ length: 13_000 }, (_, i) => replicaRecordSchema.parse({ ...user(40_000 + i), publicKey: 'A'.repeat(1_000) }));
    const cut = partsOf([key(), ...large], MAX_BATCH_RECORDS);
    expect(bytesOf(large)).toBeGreaterThan(PART_BYTES);
    expect(cut.length).toBe(2);
    expect(cut.every((p) => bytesOf(p) <= PART_BYTES)).toBe(true);
  });
});
