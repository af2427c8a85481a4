/**
 * Review round seven (#15), what held: a hostile reviewer's probes of the group commit of pushes
 * (push-batch.ts, with the signature check made before the vault's lock and trusted in it while
 * nothing it read changed: verify.ts), the session reads taken together, the snapshot route and the
 * account public key route, on PostgreSQL and PGlite over real HTTP and real Ed25519 (signers.ts).
 * Batches are formed as push() forms them (verifyBeforeLock first, then the batcher) behind a
 * transaction holding the vault's row, waiting on the batcher's own count, never on the clock.
 * Holes found in the same round are in /tmp/review7-holes (not in the repo: they fail until fixed).
 * Must never: pass on a server that lets one push of a batch change another's outcome.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import { authenticate } from '../../server/auth/sessions';
import type { ServerContext } from '../../server/context';
import { pushBatcher, type PushReply } from '../../server/sync/push-batch';
import { verifyBeforeLock } from '../../server/sync/verify';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { asOneBatch } from './one-batch';
import { entryIn, eventBy, memberRecord, pushOf, serverWithPeople, twoGroupVaultPushed, userRecord, type TwoGroupVault } from './people';
import { certifiedKeyOf, keyRecordOf, linkOf, signedBy, signEvent, signerOf, type TestSigner } from './signers';
import { invitePerson, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

type Outcome = PushReply | Error;

describe.each(DATABASE_KINDS)('review seven: what held, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let admin: Person;
  let ctx: ServerContext;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    admin = await invitePerson(server, owner, 'admin');
    ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
  }, 120_000);

  const world = (): Promise<TwoGroupVault> => twoGroupVaultPushed({ owner, tech, other });

  /**
   * `pushes` as records.ts push() runs them — each checked before the lock (verifyBeforeLock, against
   * the database as it is before any of them), then handed to the server's batcher — all forming one
   * batch behind a transaction holding the vault's row, in the order given; every outcome, in order.
   */
  async function oneBatch(vault: string, pushes: ReadonlyArray<{ readonly person: Person; readonly records: ReplicaRecord[] }>): Promise<Outcome[]> {
    const batcher = pushBatcher(ctx);
    const prepared = [];
    for (const p of pushes) {
      const auth = await authenticate(ctx, p.person.client.tokens?.accessToken, p.person.client.deviceId);
      const { batch } = pushOf(vault, p.records);
      await verifyBeforeLock(ctx.db, batch, auth.user.id);
      prepared.push({ auth, batch, source: '127.0.0.1' });
    }
    const settle = (p: Promise<PushReply>): Promise<Outcome> => p.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    const [first, ...rest] = prepared;
    if (first === undefined) throw new Error('no push');
    return Promise.all(await asOneBatch(server.db, batcher, vault, () => settle(batcher.take(first)), rest.map((request) => () => settle(batcher.take(request)))));
  }

  const codeOf = (o: Outcome | undefined): string | undefined => (o instanceof CrewvaultError ? o.code : undefined);

  it('two pushes of one device forking its chain in one batch: the first is taken, the second refused, the chain goes on from the first', async () => {
    const w = await world();
    const device = b64(`device ${randomUUID()}`);
    const key = signerOf(w.u.tech);
    const e1 = signEvent(eventBy(w.u.tech, device, null), key, w.vault);
    await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [e1] } });
    // Both checked before the lock against the same head (both pass there); in the batch only one may follow it.
    const a = signEvent(eventBy(w.u.tech, device, linkOf(e1.signature ?? '')), key, w.vault);
    const b = signEvent(eventBy(w.u.tech, device, linkOf(e1.signature ?? '')), key, w.vault);
    const [ra, rb] = await oneBatch(w.vault, [{ person: tech, records: [a] }, { person: tech, records: [b] }]);
    expect(ra).toMatchObject({ accepted: 1 });
    expect(codeOf(rb)).toBe('BAD_SIGNATURE');
    const stored = await server.db.query('SELECT record_id FROM sync_records WHERE vault_id = $1 AND record_id = ANY($2::text[])', [w.vault, [a.id, b.id]]);
    expect(stored.map((r) => r.record_id)).toEqual([a.id]);
    const next = signEvent(eventBy(w.u.tech, device, linkOf(a.signature ?? '')), key, w.vault);
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [next] } })).toMatchObject({ accepted: 1 });
  });

  it('a vault user disabled by one push of a batch is refused in the very next, though checked before the lock as still enabled', async () => {
    const w = await world();
    const late = entryIn(w.u.tech, w.g);
    const [disable, techPush, after] = await oneBatch(w.vault, [
      { person: owner, records: [userRecord(w.u.owner, { id: w.u.tech, role: 'technician', account: tech.user.id, revision: 2, disabled: true })] },
      { person: tech, records: [late] },
      { person: owner, records: [entryIn(w.u.owner, w.g)] },
    ]);
    expect(disable).toMatchObject({ accepted: 1 });
    expect(codeOf(techPush)).toBe('FORBIDDEN');
    expect(after).toMatchObject({ accepted: 1, seq: (disable as PushReply).seq + 1 });
    expect(await server.db.query('SELECT 1 FROM sync_records WHERE vault_id = $1 AND record_id = $2', [w.vault, late.id])).toEqual([]);
  });

  it('an owner demoted by one push of a batch vouches for nothing in the next, though their certificate was checked as an owner\'s before the lock', async () => {
    const w = await world();
    const o2 = randomUUID();
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: o2, role: 'owner', account: admin.user.id })]));
    await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [keyRecordOf(o2)] } });
    const reset: TestSigner = { ...signerOf(`reset ${randomUUID()}`), keyId: randomUUID() };
    const cert = certifiedKeyOf(w.vault, w.u.tech, reset, signerOf(o2));
    const signed = signedBy(w.vault, entryIn(w.u.tech, w.g), reset);
    const [demote, certified] = await oneBatch(w.vault, [
      { person: owner, records: [userRecord(w.u.owner, { id: o2, role: 'admin', account: admin.user.id, revision: 2 })] },
      { person: tech, records: [cert, signed] },
    ]);
    expect(demote).toMatchObject({ accepted: 1 });
    expect(codeOf(certified)).toBe('BAD_SIGNATURE');
    expect(await server.db.query('SELECT 1 FROM sync_signing_keys WHERE vault_id = $1 AND key_id = $2', [w.vault, reset.keyId])).toEqual([]);
  });

  it('a push that makes the batch\'s transaction fail (a NUL PostgreSQL\'s jsonb refuses) fails alone: its neighbours are stored and told so', async () => {
    const w = await world();
    const device = b64(`device ${randomUUID()}`);
    const nul = signEvent({ ...eventBy(w.u.tech, device, null), subject: 'a\u0000b' }, signerOf(w.u.tech), w.vault);
    const before = entryIn(w.u.owner, w.g);
    const after = entryIn(w.u.other, w.h);
    const [r1, r2, r3] = await oneBatch(w.vault, [{ person: owner, records: [before] }, { person: tech, records: [nul] }, { person: other, records: [after] }]);
    expect(r1).toMatchObject({ accepted: 1, conflicts: [] });
    expect(r2).toBeInstanceOf(Error);
    expect(r3).toMatchObject({ accepted: 1, conflicts: [], seq: (r1 as PushReply).seq + 1 });
    const stored = await server.db.query('SELECT record_id FROM sync_records WHERE vault_id = $1 AND record_id = ANY($2::text[]) ORDER BY seq', [w.vault, [before.id, nul.id, after.id]]);
    expect(stored.map((r) => r.record_id)).toEqual([before.id, after.id]);
    // The failed push bound no device and moved no head: tech's first event of that device is still the first.
    const first = signEvent(eventBy(w.u.tech, device, null), signerOf(w.u.tech), w.vault);
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [first] } })).toMatchObject({ accepted: 1 });
  });

  it('session reads taken together: a burst of four people is answered person by person, and a token with another\'s device id is refused inside it', async () => {
    const people = [owner, tech, other, admin];
    const thief = new TestClient(server.url, other.client.deviceId);
    thief.tokens = tech.client.tokens;
    const asked = Array.from({ length: 48 }, (_, i) => people[i % people.length] as Person);
    const [replies, stolen] = await Promise.all([Promise.all(asked.map((p) => p.client.ok('session', undefined))), thief.fails('session', undefined)]);
    expect(replies.map((r) => r.user.id)).toEqual(asked.map((p) => p.user.id));
    expect(stolen).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('the snapshot hands a member revoked from a group none of its entries or others\' wraps, a stranger nothing, and no end past the vault', async () => {
    const w = await world();
    const inG = entryIn(w.u.owner, w.g);
    await owner.client.ok('syncPush', pushOf(w.vault, [inG]));
    await owner.client.ok('syncPush', pushOf(w.vault, [memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, revoked: true, revision: 2 })]));
    const page = await tech.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0 });
    const got = page.records.map((r) => r.record);
    expect(got.filter((r) => r.kind === 'entry' && r.group === w.g)).toEqual([]);
    expect(got.filter((r) => r.kind === 'member' && r.group === w.g && r.user !== w.u.tech)).toEqual([]);
    // other holds H only: nothing of G either; an admin of the server who is no person of the vault: FORBIDDEN.
    const others = await other.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0 });
    expect(others.records.filter((r) => (r.record.kind === 'entry' || r.record.kind === 'member') && r.record.group === w.g)).toEqual([]);
    expect(await admin.client.fails('syncSnapshot', { vault: w.vault, part: 'state', after: 0 })).toMatchObject({ code: 'FORBIDDEN' });
    // A snapshot's end past the vault's head is a history this server does not hold (0e6621a: HISTORY_CHANGED, the desktop takes the vault in again).
    expect(await tech.client.fails('syncSnapshot', { vault: w.vault, part: 'state', after: 0, upTo: page.upTo + 1 })).toMatchObject({ code: 'HISTORY_CHANGED' });
    // A cursor of this vault handed to another vault's snapshot reads that vault's filter, not this one's: a stranger there is refused.
    const elsewhere = await world();
    expect(await admin.client.fails('syncSnapshot', { vault: elsewhere.vault, part: 'state', after: page.after, upTo: page.upTo })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('an account\'s public key: set once, members refused, an admin not handed an owner\'s', async () => {
    const key = b64('x'.repeat(32));
    expect(await tech.client.ok('accountPublicKeyPublish', { publicKey: key })).toEqual({ publicKey: key });
    expect(await tech.client.fails('accountPublicKeyPublish', { publicKey: b64('y'.repeat(32)) })).toMatchObject({ code: 'CONFLICT' });
    expect(await owner.client.ok('accountPublicKey', { userId: tech.user.id })).toMatchObject({ publicKey: key });
    expect(await other.client.fails('accountPublicKey', { userId: tech.user.id })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await admin.client.fails('accountPublicKey', { userId: owner.user.id })).toMatchObject({ code: 'NOT_FOUND' });
  });
});
