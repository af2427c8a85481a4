/**
 * Record format 2 on the team server (#15, shared/sync/record-batches.ts, server/sync/verify-batches.ts),
 * over real HTTP on PostgreSQL and PGlite with real Ed25519 keys: a push whose customer and entry
 * records name one signed batch of digests is taken, the batch stored once as pushed and handed
 * with a pull or snapshot page only to a reader its records are handed to; a record swapped under
 * its list, a list with a digest swapped, a batch signed for another vault, a batch of another
 * author than its record's, a record naming a batch the push does not carry and a batch id reused
 * with other digests are each refused whole (BAD_SIGNATURE), nothing stored; a batch replayed
 * with its records at their old revisions stores nothing (conflicts); format-1 records still go.
 */
import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchSigningText, type RecordBatch } from '../../shared/sync/record-batches';
import { recordSigningText, type CustomerRecord, type EntryRecord, type ReplicaRecord } from '../../shared/sync/records';
import { int } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, pushOf, seqOf as vaultSeq, serverWithPeople, twoGroupVault, twoGroupVaultPushed, type TwoGroupVault } from './people';
import { keyRecordOf, signerOf, signText, type TestSigner } from './signers';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const digestOf = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64url');

/** `records` (in `author`'s name) vouched for by one batch signed with `signer` for `vault`. */
function batched(vault: string, records: ReadonlyArray<CustomerRecord | EntryRecord>, signer: TestSigner, author: string): { records: Array<CustomerRecord | EntryRecord>; batch: RecordBatch } {
  const id = randomUUID();
  // recordSigningText reads the fields signed, never the signature this replaces (left undefined: not sent).
  const unsigned = records.map((r) => ({ ...r, author, signerKey: signer.keyId }));
  const head = { id, author, signerKey: signer.keyId, digests: unsigned.map((r) => digestOf(recordSigningText(vault, r))) };
  return { records: unsigned.map((r, index) => ({ ...r, signature: undefined, batch: id, index })), batch: { ...head, signature: signText(batchSigningText(vault, head), signer) } };
}

function customerBy(author: string): CustomerRecord {
  return { kind: 'customer', id: randomUUID(), revision: 1, base: 0, sealedName: b64('name'), nameIndex: b64(`index ${randomUUID()}`), createdAt: 1, author, signerKey: author, signature: '' };
}

describe.each(DATABASE_KINDS)('record format 2 on the server, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  const seqOf = (vault: string): Promise<number> => vaultSeq(server, vault);

  async function batchesHeld(vault: string): Promise<number> {
    const [row] = await server.db.query('SELECT count(*)::int AS n FROM sync_batches WHERE vault_id = $1', [vault]);
    return row === undefined ? 0 : int(row, 'n');
  }

  /** A vault the owner moved here (owner, tech in G, other in H), each having pushed their own key. */
  const world = (): Promise<TwoGroupVault> => twoGroupVaultPushed({ owner, tech, other });

  const push = (vault: string, records: readonly ReplicaRecord[], batches: readonly RecordBatch[]): { batch: { format: 2; vault: string; records: ReplicaRecord[]; batches: RecordBatch[] } } =>
    ({ batch: { format: 2, vault, records: [...records], batches: [...batches] } });

  it('takes a batched push, stores its batch once as pushed, and hands it only with the records a reader is handed', async () => {
    const w = await world();
    const ownerKey = signerOf(w.u.owner);
    const inG = batched(w.vault, [customerBy(w.u.owner), entryIn(w.u.owner, w.g), entryIn(w.u.owner, w.g)], ownerKey, w.u.owner);
    const inH = batched(w.vault, [entryIn(w.u.owner, w.h)], ownerKey, w.u.owner);
    expect(await owner.client.ok('syncPush', push(w.vault, [...inG.records, ...inH.records], [inG.batch, inH.batch]))).toMatchObject({ accepted: 4, conflicts: [] });
    expect(await batchesHeld(w.vault)).toBe(2);
    // The owner's pull: every record, both batches exactly as pushed.
    const all = await owner.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(all.batches?.slice().sort((a, b) => a.id.localeCompare(b.id))).toEqual([inG.batch, inH.batch].sort((a, b) => a.id.localeCompare(b.id)));
    expect(all.records.map((r) => r.record)).toEqual(expect.arrayContaining([...inG.records, ...inH.records]));
    // Tech holds G, not H: G's batch (its customer and entries), never H's.
    const techs = await tech.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(techs.batches).toEqual([inG.batch]);
    // The snapshot likewise.
    const state = await tech.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0 });
    expect(state.batches).toEqual([inG.batch]);
    const whole = await owner.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0 });
    expect(whole.batches).toHaveLength(2);
    // A page naming no batch carries none.
    const events = await owner.client.ok('syncSnapshot', { vault: w.vault, part: 'events', after: 0 });
    expect(events.batches).toBeUndefined();
    // Format-1 records from an older desktop still go, beside batched ones.
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.owner, w.g)]))).toMatchObject({ accepted: 1 });
  });

  it('refuses a record swapped under its list, a list with a digest swapped, another vault\'s batch, another author\'s batch, a batch not carried, a batch id reused; nothing stored', async () => {
    const w = await world();
    const ownerKey = signerOf(w.u.owner);
    const good = batched(w.vault, [entryIn(w.u.owner, w.g), entryIn(w.u.owner, w.g)], ownerKey, w.u.owner);
    const [first, second] = good.records;
    if (first === undefined || second === undefined) throw new Error('two records');
    const before = await seqOf(w.vault);
    const refusals: Array<[string, ReturnType<typeof push>]> = [
      // A record changed under the list (its digest no longer the one at its index).
      ['record swapped', push(w.vault, [{ ...first, sealedSummary: b64('another') } as EntryRecord, second], [good.batch])],
      // Two records trading places: each names the other's index.
      ['records at each other\'s index', push(w.vault, [{ ...first, index: 1 }, { ...second, index: 0 }], [good.batch])],
      // The list with a digest swapped: its signature no longer holds.
      ['digest swapped', push(w.vault, good.records, [{ ...good.batch, digests: [good.batch.digests[0] ?? '', digestOf('another record')] }])],
      // A batch made and signed for another vault (its records' digests too).
      ['another vault', (() => {
        const elsewhere = batched(twoGroupVault().vault, [entryIn(w.u.owner, w.g)], ownerKey, w.u.owner);
        return push(w.vault, elsewhere.records, [elsewhere.batch]);
      })()],
      // The pusher's record under a batch of tech's (signed by tech's own key).
      ['another author', (() => {
        const bytech = batched(w.vault, [entryIn(w.u.owner, w.g)], signerOf(w.u.tech), w.u.tech);
        return push(w.vault, [{ ...(bytech.records[0] as EntryRecord), author: w.u.owner, signerKey: ownerKey.keyId }], [bytech.batch]);
      })()],
      // A record naming a batch the push does not carry (taken out of it).
      ['batch not carried', push(w.vault, [first], [])],
    ];
    for (const [what, body] of refusals) {
      expect(await owner.client.fails('syncPush', body), what).toMatchObject({ code: 'BAD_SIGNATURE', status: 422 });
    }
    expect(await seqOf(w.vault)).toBe(before);
    expect(await batchesHeld(w.vault)).toBe(0);
    // The good one is taken; its id then cannot come back with other digests.
    expect(await owner.client.ok('syncPush', push(w.vault, good.records, [good.batch]))).toMatchObject({ accepted: 2 });
    const reused = batched(w.vault, [entryIn(w.u.owner, w.g)], ownerKey, w.u.owner);
    const sameId = { ...reused.batch, id: good.batch.id };
    const resigned = { ...sameId, signature: signText(batchSigningText(w.vault, { id: sameId.id, author: sameId.author, signerKey: sameId.signerKey, digests: sameId.digests }), ownerKey) };
    expect(await owner.client.fails('syncPush', push(w.vault, reused.records.map((r) => ({ ...r, batch: good.batch.id })), [resigned]))).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(await batchesHeld(w.vault)).toBe(1);
  });

  it('stores nothing of a batch replayed with its records at their old revisions', async () => {
    const w = await world();
    const ownerKey = signerOf(w.u.owner);
    const entry = entryIn(w.u.owner, w.g);
    const v1 = batched(w.vault, [entry], ownerKey, w.u.owner);
    await owner.client.ok('syncPush', push(w.vault, v1.records, [v1.batch]));
    const v2 = batched(w.vault, [entryIn(w.u.owner, w.g, { id: entry.id, revision: 2, base: 1 })], ownerKey, w.u.owner);
    await owner.client.ok('syncPush', push(w.vault, v2.records, [v2.batch]));
    const before = await seqOf(w.vault);
    // The first batch again, as a relay could replay it: its record is at revision 1 on base 0, the server at 2.
    const replay = await owner.client.ok('syncPush', push(w.vault, v1.records, [v1.batch]));
    expect(replay).toMatchObject({ accepted: 0, conflicts: [{ id: entry.id, revision: 2 }] });
    expect(await seqOf(w.vault)).toBe(before);
    const pulled = await owner.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(pulled.records.find((r) => r.record.id === entry.id)?.record).toEqual(v2.records[0]);
    // Only the batch its stored record names is handed (v1's is held, named by nothing now).
    expect(pulled.batches?.map((b) => b.id)).not.toContain(v1.batch.id);
    expect(pulled.batches?.map((b) => b.id)).toContain(v2.batch.id);
    // Tech's key record is what tech pushes; an owner's batched record pushed by tech is someone else's name: refused as before.
    expect(await tech.client.fails('syncPush', push(w.vault, [keyRecordOf(w.u.tech), ...v2.records], [v2.batch]))).toMatchObject({ code: 'FORBIDDEN' });
  });
});
