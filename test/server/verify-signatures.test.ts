/**
 * The team server checks the signatures of what is pushed (#15, schema 17, server/sync/verify.ts),
 * over real HTTP on PostgreSQL and PGlite, with real Ed25519 keys (signers.ts): each kind of record
 * changed after its author signed it, a record or an event signed with another member's key, a key
 * that introduces itself sent by another account, an event forking or restarting its device's chain,
 * a device of one account claimed by another — each refuses the whole push and stores nothing; a
 * valid push, an owner's certificate for a new key, and an event sent again are taken; records
 * stored before the check are still served.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateText } from '../../shared/sync/signing-keys';
import type { ReplicaRecord, SigningKeyRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, eventBy, groupRecord, memberRecord, pushOf, seqOf as vaultSeq, serverWithPeople, twoGroupRecords, twoGroupVault, twoGroupVaultPushed, userRecord, type TwoGroupVault } from './people';
import { keyRecordOf, linkOf, signedBatch, signedBy, signEvent, signerOf, signText, type TestSigner } from './signers';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describe.each(DATABASE_KINDS)('the server checks signatures, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  const seqOf = (vault: string): Promise<number> => vaultSeq(server, vault);

  /** A vault the owner moved here (owner, tech in G, other in H), each of the three having pushed their own key. */
  const world = (): Promise<TwoGroupVault> => twoGroupVaultPushed({ owner, tech, other });

  it('takes a valid push, and refuses each kind of record changed after its author signed it, storing nothing', async () => {
    const w = await world();
    const ownerKey = signerOf(w.u.owner);
    const good = [
      signedBy(w.vault, { ...entryIn(w.u.owner, w.g) }, ownerKey),
      signedBy(w.vault, { kind: 'customer', id: randomUUID(), revision: 1, base: 0, sealedName: b64('name'), nameIndex: b64('index'), createdAt: 1, author: w.u.owner, signerKey: '', signature: '' }, ownerKey),
      signedBy(w.vault, userRecord(w.u.owner, { id: randomUUID(), role: 'technician', account: null }), ownerKey),
      signedBy(w.vault, groupRecord(w.u.owner, { id: randomUUID(), keyVersion: 1 }), ownerKey),
      signedBy(w.vault, memberRecord(w.u.owner, { group: w.h, user: w.u.tech, keyVersion: 1 }), ownerKey),
    ] as const;
    const forged: ReplicaRecord[] = [
      { ...good[0], sealedSummary: b64('another summary') },
      { ...good[1], revision: 2 },
      { ...good[2], role: 'owner' },
      { ...good[3], keyVersion: 2 },
      { ...good[4], lead: true },
    ];
    // An event of the owner's, changed after they signed it.
    const signedEvent = signEvent(eventBy(w.u.owner, b64(`device ${randomUUID()}`), null), ownerKey, w.vault);
    forged.push({ ...signedEvent, action: 'entry.delete' });
    const before = await seqOf(w.vault);
    for (const record of forged) {
      expect(await owner.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [record] } }), record.kind).toMatchObject({ code: 'BAD_SIGNATURE', status: 422 });
    }
    // One forged record among good ones sinks the whole push.
    expect(await owner.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [good[0], good[1], forged[4] ?? good[4]] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(await seqOf(w.vault)).toBe(before);
    // A relay cannot pass one vault's record off as another's: the vault is signed too.
    const elsewhere = { ...w, vault: twoGroupVault().vault };
    await owner.client.ok('syncPush', pushOf(elsewhere.vault, twoGroupRecords(elsewhere, { owner, tech, other })));
    expect(await owner.client.fails('syncPush', { batch: { format: 1, vault: elsewhere.vault, records: [{ ...good[0], id: randomUUID() }] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    // The same records as signed: taken.
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [...good, signedEvent] } })).toMatchObject({ accepted: 6, conflicts: [] });
  });

  it('refuses a record or an event signed with another member\'s key, and a key that introduces itself sent by someone else', async () => {
    const w = await world();
    const before = await seqOf(w.vault);
    const otherKey = signerOf(w.u.other);
    // In tech's name (the pusher's), but signed with other's key: not tech's.
    const entry = signedBy(w.vault, entryIn(w.u.tech, w.g), otherKey);
    expect(await tech.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [entry] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    const event = signEvent(eventBy(w.u.tech, b64(`device ${randomUUID()}`), null), otherKey, w.vault);
    expect(await tech.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [event] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    // A key of tech's own making for other, sent by tech (no certificate, not other's account, not an owner): refused.
    const planted: TestSigner = { ...signerOf(`planted ${randomUUID()}`), keyId: randomUUID() };
    expect(await tech.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [keyRecordOf(w.u.other, planted)] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    // A second key that introduces itself, from tech's own account: stored, but not in force (only a first key vouches for itself).
    const second: TestSigner = { ...signerOf(`second ${randomUUID()}`), keyId: randomUUID() };
    expect(await tech.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [keyRecordOf(w.u.tech, second), signedBy(w.vault, entryIn(w.u.tech, w.g), second)] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(await seqOf(w.vault)).toBe(before);
  });

  it('takes a key an owner certified (a password reset), and none certified by someone who is not an owner or with a certificate the owner did not sign', async () => {
    const w = await world();
    const ownerKey = signerOf(w.u.owner);
    const fresh = (): TestSigner => ({ ...signerOf(`reset ${randomUUID()}`), keyId: randomUUID() });
    const certified = (key: TestSigner, by: TestSigner): SigningKeyRecord => ({
      ...keyRecordOf(w.u.tech, key), certifiedBy: by.keyId,
      certificate: signText(certificateText(w.vault, key.keyId, w.u.tech, Buffer.from(key.publicKey, 'base64url').toString('base64')), by),
    });
    const byTheOther = fresh();
    // other (a technician) certifying a key for tech: the key counts for nothing.
    expect(await other.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [certified(byTheOther, signerOf(w.u.other)), signedBy(w.vault, entryIn(w.u.other, w.h), byTheOther)] } }))
      .toMatchObject({ code: 'BAD_SIGNATURE' });
    // A certificate that names the owner's key but was signed by another: no certificate.
    const claimed = fresh();
    expect(await tech.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [{ ...certified(claimed, signerOf(w.u.other)), certifiedBy: ownerKey.keyId }, signedBy(w.vault, entryIn(w.u.tech, w.g), claimed)] } }))
      .toMatchObject({ code: 'BAD_SIGNATURE' });
    const reset = fresh();
    await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [certified(reset, ownerKey)] } });
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [signedBy(w.vault, entryIn(w.u.tech, w.g), reset)] } })).toMatchObject({ accepted: 1 });
  });

  it('keeps one chain a device: an event forking it, restarting it or claiming another account\'s device is refused; one sent again changes nothing', async () => {
    const w = await world();
    const device = b64(`device ${randomUUID()}`);
    const otherKey = signerOf(w.u.other);
    const first = signEvent(eventBy(w.u.other, device, null), otherKey, w.vault);
    const second = signEvent(eventBy(w.u.other, device, linkOf(first.signature ?? '')), otherKey, w.vault);
    expect(await other.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [first, second] } })).toMatchObject({ accepted: 2 });
    const before = await seqOf(w.vault);
    // Played back: an event that follows the first again (a fork), or starts the device over.
    const fork = signEvent(eventBy(w.u.other, device, linkOf(first.signature ?? '')), otherKey, w.vault);
    expect(await other.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [fork] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    const restart = signEvent(eventBy(w.u.other, device, null), otherKey, w.vault);
    expect(await other.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [restart] } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    // tech signing an event of their own that claims other's device, following its head: that device is other's account's.
    const jam = signEvent(eventBy(w.u.tech, device, linkOf(second.signature ?? '')), signerOf(w.u.tech), w.vault);
    expect(await tech.client.fails('syncPush', { batch: { format: 1, vault: w.vault, records: [jam] } })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await seqOf(w.vault)).toBe(before);
    // The first two sent again (a reply lost): stored once, nothing new; the chain goes on from the second.
    expect(await other.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [first, second] } })).toMatchObject({ accepted: 0 });
    const third = signEvent(eventBy(w.u.other, device, linkOf(second.signature ?? '')), otherKey, w.vault);
    expect(await other.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [third] } })).toMatchObject({ accepted: 1, seq: before + 1 });
  });

  it('still serves records stored before the check, and takes the next signed push of that vault', async () => {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    // As a server before schema 17 stored it: an entry and an event with signatures nobody checked.
    const old = { ...entryIn(w.u.tech, w.g), signature: b64('never checked') };
    const oldEvent = { ...eventBy(w.u.tech, b64('old device'), null), signature: b64('never checked') };
    const seq = await seqOf(w.vault);
    await server.db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ($1, $2, 'entry', 1, $3, $4, $5::jsonb), ($1, $6, 'event', 1, $7, $4, $8::jsonb)`, [
      w.vault, old.id, seq + 1, tech.user.id, JSON.stringify(old), oldEvent.id, seq + 2, JSON.stringify(oldEvent),
    ]);
    await server.db.query('UPDATE sync_vaults SET seq = $2 WHERE vault_id = $1', [w.vault, seq + 2]);
    const pulled = await tech.client.ok('syncPull', { vault: w.vault, since: seq });
    expect(pulled.records.map((r) => r.record)).toEqual([old, oldEvent]);
    expect(await tech.client.ok('syncPush', { batch: signedBatch(w.vault, [entryIn(w.u.tech, w.g)]) })).toMatchObject({ accepted: 1 });
  });
});
