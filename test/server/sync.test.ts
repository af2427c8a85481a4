/**
 * A team vault's records on the server, over real HTTP on PostgreSQL and on PGlite: an owner's
 * first push starts the vault; each push is stored whole, each record at the vault's next
 * sequence number, or not at all when an entry's base is not the revision the server holds;
 * keys and events are stored once; pulls page through what was stored after a sequence, one
 * vault at a time; two pushes from one base at the same moment: exactly one is stored. The
 * records here are signed with test keys (signers.ts); what the server's signature check refuses
 * is verify-signatures.test.ts's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EntryRecord, type EventRecord, type ReplicaBatch, type ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { userRecord } from './people';
import { signedBatch } from './signers';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();

function vaultId(): string {
  return randomBytes(16).toString('hex');
}

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

/** The vault users the owner's and the member's accounts act as (bound by the owner: startVault). */
const OWNER_USER = randomUUID();
const MEMBER_USER = randomUUID();

function entry(id: string, revision: number, base: number, sealed = `v${revision}`, author = OWNER_USER): EntryRecord {
  const someone = randomUUID();
  return {
    kind: 'entry', id, revision, base, customer: someone, group: someone, keyVersion: 1, lookup: b64('lookup'), sealedSummary: b64(`summary ${sealed}`),
    sealedDetails: b64(`details ${sealed}`), createdAt: 1, updatedAt: revision, deletedAt: null, author, signerKey: author, signature: b64('signature'),
  };
}

function event(id = randomUUID()): EventRecord {
  return {
    kind: 'event', id, at: 1, actor: OWNER_USER, action: 'entry.edit', subject: null, entry: null, customer: null, group: null,
    sealedDetail: null, device: b64('device'), devicePrev: null, signerKey: OWNER_USER, signature: b64('signature'),
  };
}

/** Signed by each record's author (signers.ts: the server checks signatures). */
function batch(vault: string, records: ReplicaRecord[]): { batch: ReplicaBatch } {
  return { batch: signedBatch(vault, records) };
}

describe.each(DATABASE_KINDS)('team vault records on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let member: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    member = await invitePerson(server, owner);
  }, 120_000);

  /** A vault the owner moved here, with the member's account bound by the owner to a vault admin (who holds every group): seq 1. */
  async function startVault(): Promise<string> {
    const vault = vaultId();
    await owner.client.ok('syncPush', batch(vault, [userRecord(OWNER_USER, { id: MEMBER_USER, role: 'admin', account: member.user.id })]));
    return vault;
  }

  it('start with an owner\'s first push, and only an owner\'s', async () => {
    const vault = vaultId();
    expect(await member.client.fails('syncPush', batch(vault, [entry(randomUUID(), 1, 0)]))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    // A member account is told of no vault the server does not hold: answered as one they are not a person of (review 13a hole 4).
    expect(await member.client.fails('syncPull', { vault, since: 0 })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.fails('syncPull', { vault, since: 0 })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await owner.client.ok('syncPush', batch(vault, [entry(randomUUID(), 1, 0)]))).toEqual({ accepted: 1, seq: 1, conflicts: [] });
    // Then the vault's people push and pull, once the owner's desktop has said who they are.
    expect(await member.client.fails('syncPull', { vault, since: 0 })).toMatchObject({ code: 'FORBIDDEN' });
    await owner.client.ok('syncPush', batch(vault, [userRecord(OWNER_USER, { id: MEMBER_USER, role: 'admin', account: member.user.id })]));
    expect(await member.client.ok('syncPush', batch(vault, [entry(randomUUID(), 1, 0, 'm', MEMBER_USER)]))).toEqual({ accepted: 1, seq: 3, conflicts: [] });
    expect((await member.client.ok('syncPull', { vault, since: 0 })).records.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('store a push whole or not at all: a stale base names the conflict and stores nothing', async () => {
    const vault = await startVault();
    const [one, two] = [randomUUID(), randomUUID()];
    await owner.client.ok('syncPush', batch(vault, [entry(one, 1, 0), entry(two, 1, 0)]));
    await owner.client.ok('syncPush', batch(vault, [entry(one, 2, 1, 'from A')]));
    // B edited from revision 1 too, and a second entry rightly: nothing of it is stored.
    const stale = await member.client.ok('syncPush', batch(vault, [entry(two, 2, 1, 'from B', MEMBER_USER), entry(one, 2, 1, 'from B', MEMBER_USER)]));
    expect(stale).toEqual({ accepted: 0, seq: 4, conflicts: [{ id: one, revision: 2 }] });
    const pulled = await member.client.ok('syncPull', { vault, since: 1 });
    expect(pulled.records.map((r) => [r.record.id, r.record.kind === 'entry' ? r.record.revision : 0])).toEqual([[two, 1], [one, 2]]);
    // A base from nowhere, and a revision that does not move past its base, are conflicts too.
    expect((await member.client.ok('syncPush', batch(vault, [entry(randomUUID(), 3, 2, 'x', MEMBER_USER)]))).conflicts).toHaveLength(1);
    expect((await member.client.ok('syncPush', batch(vault, [entry(two, 1, 1, 'x', MEMBER_USER)]))).conflicts).toHaveLength(1);
  });

  it('store keys and events once, and hand each object\'s newest record in sequence order, a page at a time', async () => {
    const vault = await startVault();
    const id = randomUUID();
    const events = [event(), event(), event()];
    await owner.client.ok('syncPush', batch(vault, [entry(id, 1, 0), ...events]));
    expect(await owner.client.ok('syncPush', batch(vault, [...events, entry(id, 2, 1)]))).toEqual({ accepted: 1, seq: 6, conflicts: [] });
    const first = await member.client.ok('syncPull', { vault, since: 1, limit: 2 });
    expect(first).toMatchObject({ upTo: 4, more: true });
    expect(first.records.map((r) => r.record.id)).toEqual([events[0]?.id, events[1]?.id]);
    const rest = await member.client.ok('syncPull', { vault, since: first.upTo, limit: 2 });
    expect(rest).toMatchObject({ upTo: 6, more: false });
    expect(rest.records.map((r) => r.record.id)).toEqual([events[2]?.id, id]);
    expect(await member.client.ok('syncPull', { vault, since: 6 })).toEqual({ records: [], upTo: 6, more: false });
    // Another vault's records are not in this one's pulls.
    const other = vaultId();
    await owner.client.ok('syncPush', batch(other, [entry(randomUUID(), 1, 0)]));
    expect((await member.client.ok('syncPull', { vault, since: 6 })).records).toEqual([]);
  });

  it('refuse a record out of shape, a body over the limit, and a caller without a whole session', async () => {
    const vault = vaultId();
    const bad = { ...entry(randomUUID(), 1, 0), deletedAt: 5 };
    expect(await owner.client.fails('syncPush', batch(vault, [bad]))).toMatchObject({ code: 'INVALID_INPUT' });
    const huge = await owner.client.raw('POST', '/v1/sync/push', JSON.stringify({ batch: { format: 1, vault, records: [], pad: 'x'.repeat(17 * 1024 * 1024) } }), { ...owner.client.authHeaders(), 'content-type': 'application/json' });
    expect(huge.body).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: 'The body is too large' } });
    // Other routes keep the small limit.
    const big = await owner.client.raw('POST', '/v1/sync/pull', JSON.stringify({ vault, since: 0, pad: 'x'.repeat(20 * 1024) }), { ...owner.client.authHeaders(), 'content-type': 'application/json' });
    expect(big.body).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: 'The body is too large' } });
    const anonymous = await owner.client.raw('POST', '/v1/sync/pull', JSON.stringify({ vault, since: 0 }), { 'content-type': 'application/json' });
    expect(anonymous.status).toBe(401);
  });

  it('take exactly one of two pushes from one base made at the same moment, many times over', async () => {
    const vault = await startVault();
    const id = randomUUID();
    await owner.client.ok('syncPush', batch(vault, [entry(id, 1, 0)]));
    for (let revision = 1; revision <= 10; revision++) {
      const pairs = [[owner, OWNER_USER], [member, MEMBER_USER]] as const;
      const replies = await Promise.all(pairs.map(([person, as]) => person.client.ok('syncPush', batch(vault, [entry(id, revision + 1, revision, `${person.username} ${revision}`, as)]))));
      expect(replies.filter((r) => r.accepted === 1)).toHaveLength(1);
      expect(replies.filter((r) => r.conflicts.length === 1)).toHaveLength(1);
    }
    const pulled = await member.client.ok('syncPull', { vault, since: 1 });
    expect(pulled.records).toHaveLength(1);
    expect(pulled.records[0]?.seq).toBe(12);
  });

  it('keep an object\'s kind, never replace a key or an event, and take no revision out of reach', async () => {
    const vault = vaultId();
    const kept = event();
    await owner.client.ok('syncPush', batch(vault, [kept, entry(randomUUID(), 1, 0)]));
    // An entry record bearing the event's id, "based on" it: refused, and the event stays.
    const disguised = { ...entry(kept.id, 2, 1) };
    expect((await owner.client.ok('syncPush', batch(vault, [disguised]))).conflicts).toEqual([{ id: kept.id, revision: 1 }]);
    const huge = entry(randomUUID(), 2_000_000, 0);
    expect((await owner.client.ok('syncPush', batch(vault, [huge]))).conflicts).toHaveLength(1);
    const pulled = await owner.client.ok('syncPull', { vault, since: 0 });
    expect(pulled.records.find((r) => r.record.id === kept.id)?.record.kind).toBe('event');
  });

  it('refuse a push naming an object twice, and records signed in another person\'s name', async () => {
    const vault = await startVault();
    const id = randomUUID();
    expect(await owner.client.fails('syncPush', batch(vault, [entry(id, 1, 0), entry(id, 2, 1)]))).toMatchObject({ code: 'INVALID_INPUT' });
    const mine = entry(randomUUID(), 1, 0);
    await owner.client.ok('syncPush', batch(vault, [mine]));
    // The member pushes a record claiming to be by the owner's vault user: refused, nothing stored.
    const claimed = { ...entry(randomUUID(), 1, 0), author: mine.author };
    expect(await member.client.fails('syncPush', batch(vault, [claimed]))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await member.client.ok('syncPull', { vault, since: 0 })).records).toHaveLength(2);
  });

  it('start a vault once when two first pushes come at the same moment', async () => {
    for (let round = 0; round < 5; round++) {
      const vault = vaultId();
      const author = randomUUID();
      const replies = await Promise.all([0, 1].map(() => owner.client.call('syncPush', batch(vault, [entry(randomUUID(), 1, 0, 'v1', author)]))));
      expect(replies.map((r) => r.ok)).toEqual([true, true]);
      expect((await owner.client.ok('syncPull', { vault, since: 0 })).records.map((r) => r.seq)).toEqual([1, 2]);
    }
  });
});
