/**
 * A push batch's record writes wait and go together (server/store/sync.ts RecordsInLine), on
 * PostgreSQL and PGlite: every statement not declared apart from records sees the records waiting
 * as written (they are written first), a record named again while waiting is written first (one
 * statement may not write a row twice), the vault's sequence move writes the rest, and a declared
 * statement runs with them still waiting; the batch's signature snapshots read together count only
 * while nothing could have moved them. Then in real batches of pushes (push-batch.ts): an entry
 * created and edited in one batch, then a grant of its group in the same batch, whose restamp reads
 * the records (the entry must be moved past the grant, as one push after another would leave it);
 * a refused people push between two entries; a disabled creator; a certifying owner demoted while a
 * push waits for the vault's row.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import { authenticate } from '../../server/auth/sessions';
import type { ServerContext } from '../../server/context';
import { PushBatcher, type PushReply } from '../../server/sync/push-batch';
import { createVault, putRecord, setVaultSeq } from '../../server/store/sync';
import { RecordsInLine, statementsApartFromRecords, type StoredRecord } from '../../server/store/records-in-line';
import { groupsOf, putPerson } from '../../server/store/membership';
import { holdSnapshotPuttingBatches, putSigningKeys, signersSnapshot } from '../../server/store/signers';
import type { Row } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { asOneBatch } from './one-batch';
import { certifiedKeyOf, keyRecordOf, signedBy, signerOf, type TestSigner } from './signers';
import { verifyBeforeLock } from '../../server/sync/verify';
import { entryIn, memberRecord, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault, userRecord } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe('statements declared apart from records', () => {
  it('name no table of records nor write what a snapshot check reads (what a RecordsInLine lets run before what waits)', () => {
    const declared = statementsApartFromRecords();
    // The batch's light path: a push's groups, a technician's groups.
    expect(declared.length).toBeGreaterThanOrEqual(2);
    for (const sql of declared) {
      expect(sql).not.toMatch(/sync_records|sync_batches|restamp|left_reach/i);
      expect(sql).not.toMatch(/(INSERT INTO|UPDATE|DELETE FROM)\s+(sync_signing_keys|sync_people|sync_devices)/i);
    }
  });
});

describe.each(DATABASE_KINDS)('record writes in line, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let admin: Person;
  let ctx: ServerContext;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other, admin } } = await serverWithPeople(await databases.open(kind), ['tech', 'other', 'admin']));
    ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
  }, 120_000);

  const record = (id: string, revision: number, seq: number): StoredRecord => ({ id, kind: 'entry', revision, seq, body: JSON.stringify({ id, revision }) });
  const rowsOf = async (q: { query: (sql: string, params?: readonly unknown[]) => Promise<Row[]> }, vault: string): Promise<Array<{ id: string; revision: number; seq: number }>> =>
    (await q.query('SELECT record_id, revision, seq FROM sync_records WHERE vault_id = $1 ORDER BY seq', [vault]))
      .map((r) => ({ id: String(r.record_id), revision: Number(r.revision), seq: Number(r.seq) }));
  const batchesOf = async (q: { query: (sql: string, params?: readonly unknown[]) => Promise<Row[]> }, vault: string): Promise<string[]> =>
    (await q.query('SELECT batch_id FROM sync_batches WHERE vault_id = $1 ORDER BY batch_id', [vault])).map((r) => String(r.batch_id));

  it('holds no trigger, rule or view that a declared statement could set off (only foreign keys\' own)', async () => {
    expect(await server.db.query("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).toEqual([]);
    expect(await server.db.query("SELECT rulename FROM pg_rules WHERE schemaname = 'public'")).toEqual([]);
    expect(await server.db.query("SELECT viewname FROM pg_views WHERE schemaname = 'public'")).toEqual([]);
  });

  it('writes the records waiting before any statement not declared apart from them, and a record named again first', async () => {
    const vault = randomBytes(16).toString('hex');
    const [e, f] = [randomUUID(), randomUUID()];
    await server.db.transaction(async (opened) => {
      const tx = new RecordsInLine(opened);
      await createVault(tx, vault, owner.user.id, 1);
      await putRecord(tx, vault, record(e, 1, 1), owner.user.id);
      await putRecord(tx, vault, record(f, 1, 2), owner.user.id);
      // Waiting: the transaction itself does not hold them yet.
      expect(await rowsOf(opened, vault)).toEqual([]);
      // A statement declared apart from records runs with them still waiting.
      expect(await groupsOf(tx, vault, randomUUID())).toEqual(new Set());
      expect(await rowsOf(opened, vault)).toEqual([]);
      // Any other statement sees them written, in order.
      expect(await rowsOf(tx, vault)).toEqual([{ id: e, revision: 1, seq: 1 }, { id: f, revision: 1, seq: 2 }]);
      // Named twice while waiting: the first is written before the second waits.
      await putRecord(tx, vault, record(e, 2, 3), owner.user.id);
      await putRecord(tx, vault, record(e, 3, 4), owner.user.id);
      expect(await rowsOf(opened, vault)).toEqual([{ id: f, revision: 1, seq: 2 }, { id: e, revision: 2, seq: 3 }]);
      // The sequence's move writes what still waits, in the same statement.
      await setVaultSeq(tx, vault, 4);
      expect(await rowsOf(opened, vault)).toEqual([{ id: f, revision: 1, seq: 2 }, { id: e, revision: 3, seq: 4 }]);
    });
    const [row] = await server.db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vault]);
    expect(Number(row?.seq)).toBe(4);
  });

  it('keeps earlier pushes\' waiting records when a later push of the batch is refused inside its savepoint; a disabled creator is refused', async () => {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    const asOwner = await authenticate(ctx, owner.client.tokens?.accessToken, owner.client.deviceId);
    const batcher = new PushBatcher(ctx);
    const push = (records: ReplicaRecord[]) => () => batcher.take({ auth: asOwner, batch: pushOf(w.vault, records).batch, source: '127.0.0.1' })
      .catch((error: unknown) => {
        if (error instanceof CrewvaultError) return error;
        throw error;
      });
    const [before, after] = [entryIn(w.u.owner, w.g), entryIn(w.u.owner, w.h)];
    // Behind a first push (a batch of its own): an entry (its record waits), then a people push refused
    // in its savepoint (a grant, then a member record newer than its group: CONFLICT), then another entry.
    const replies = await Promise.all(await asOneBatch(server.db, batcher, w.vault, push([entryIn(w.u.owner, w.g)]), [
      push([before]),
      push([memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 1 }), memberRecord(w.u.owner, { group: w.h, user: w.u.tech, keyVersion: 9 })]),
      push([after]),
    ]));
    expect(replies[1]).toMatchObject({ accepted: 1 });
    expect((replies[2] as CrewvaultError).code).toBe('CONFLICT');
    expect(replies[3]).toMatchObject({ accepted: 1, seq: ((replies[1] as PushReply).seq) + 1 });
    const ids = (await rowsOf(server.db, w.vault)).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([before.id, after.id]));
    expect(ids).not.toContain(memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 1 }).id);
    // The creator, bound and then disabled (as another owner's desktop would): read before its push, and refused, in a batch too.
    await server.db.query('UPDATE sync_people SET disabled = true WHERE vault_id = $1 AND vault_user = $2', [w.vault, w.u.owner]);
    const refused = await Promise.all(await asOneBatch(server.db, batcher, w.vault, push([entryIn(w.u.owner, w.g)]), [push([entryIn(w.u.owner, w.g)])]));
    expect(refused.map((r) => (r instanceof CrewvaultError ? r.code : 'stored'))).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });

  it('reads the batch\'s snapshots together: one that stood is not read again and its batches wait; one that moved, or any once forgotten, is read at its turn', async () => {
    const vault = randomBytes(16).toString('hex');
    const key = (id: string) => ({ keyId: id, vaultUser: 'owner-user', publicKey: randomBytes(32).toString('base64url'), certifiedBy: null, certificate: null });
    await server.db.transaction(async (opened) => {
      await createVault(opened, vault, owner.user.id, 1);
      await putPerson(opened, vault, { vaultUser: 'owner-user', accountId: owner.user.id, role: 'owner', disabled: false });
    });
    const stale = await signersSnapshot(server.db, vault, []);
    await server.db.transaction(async (opened) => putSigningKeys(opened, vault, [key('k1')]));
    const now = await signersSnapshot(server.db, vault, []);
    await server.db.transaction(async (opened) => {
      const tx = new RecordsInLine(opened);
      await tx.checkSnapshots(vault, [{ devices: [], expected: now, batches: [{ id: 'batch-1', body: '{}' }] }, { devices: [], expected: stale, batches: [{ id: 'batch-2', body: '{}' }] }]);
      // Stood: no statement, its batch waits (the transaction does not hold it yet).
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'batch-1', body: '{}' }])).toBe(true);
      expect(await batchesOf(opened, vault)).toEqual([]);
      // Moved since it was read: read at its turn, and false (nothing written).
      expect(await holdSnapshotPuttingBatches(tx, vault, [], stale, [{ id: 'batch-2', body: '{}' }])).toBe(false);
      // A statement not declared apart sees the waiting batch written.
      expect(await batchesOf(tx, vault)).toEqual(['batch-1']);
      // Forgotten (a push that could move it ran): read again at its turn, and the read finds what holds now.
      tx.forgetSnapshots();
      await putSigningKeys(tx, vault, [key('k2')]);
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'batch-3', body: '{}' }])).toBe(false);
      expect(await holdSnapshotPuttingBatches(tx, vault, [], await signersSnapshot(tx, vault, []), [{ id: 'batch-4', body: '{}' }])).toBe(true);
      await tx.written();
    });
    expect(await batchesOf(server.db, vault)).toEqual(['batch-1', 'batch-4']);
  });

  it('keeps a batch id to the body stored first: a later push of the batch, or one checked before it was stored, naming it with another body is not taken as standing', async () => {
    const vault = randomBytes(16).toString('hex');
    await server.db.transaction(async (opened) => {
      await createVault(opened, vault, owner.user.id, 1);
      await putPerson(opened, vault, { vaultUser: 'owner-user', accountId: owner.user.id, role: 'owner', disabled: false });
    });
    const now = await signersSnapshot(server.db, vault, []);
    const check = (id: string, body: string) => ({ devices: [], expected: now, batches: [{ id, body }] });
    await server.db.transaction(async (opened) => {
      const tx = new RecordsInLine(opened);
      await tx.checkSnapshots(vault, [check('x', 'earlier'), check('x', 'later'), check('y', 'same')]);
      // The earlier push's batch waits; a later one naming its id with another body is read at its turn,
      // what waits written first: the id is held otherwise, so its snapshot does not stand (it is verified again and refused).
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'x', body: 'earlier' }])).toBe(true);
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'x', body: 'later' }])).toBe(false);
      // Forgotten first (a push that could move a snapshot ran): the same, by the statement alone.
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'y', body: 'same' }])).toBe(true);
      tx.forgetSnapshots();
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'y', body: 'other' }])).toBe(false);
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'y', body: 'same' }])).toBe(true);
      await tx.written();
    });
    const stored = await server.db.query('SELECT batch_id, body FROM sync_batches WHERE vault_id = $1 ORDER BY batch_id', [vault]);
    expect(stored.map((r) => [r.batch_id, r.body])).toEqual([['x', 'earlier'], ['y', 'same']]);
    // Stored between a push's check before the lock and its batch: the batch's read finds it held otherwise.
    await server.db.transaction(async (opened) => {
      const tx = new RecordsInLine(opened);
      await tx.checkSnapshots(vault, [check('x', 'another')]);
      expect(await holdSnapshotPuttingBatches(tx, vault, [], now, [{ id: 'x', body: 'another' }])).toBe(false);
    });
    expect((await batchesOf(server.db, vault))).toEqual(['x', 'y']);
  });

  /**
   * A vault where tech's key was certified by a second owner o2 (a password reset), stored on its own;
   * returns an entry push signed with that key (it adds no key: its check is one the batch reads ahead),
   * checked before the lock as the route does, with o2 still an owner.
   */
  async function certifiedByO2(): Promise<{ w: ReturnType<typeof twoGroupVault>; o2: string; batch: { format: 1; vault: string; records: ReplicaRecord[] }; id: string }> {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.tech, w.g)]));
    const o2 = randomUUID();
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: o2, role: 'owner', account: admin.user.id })]));
    await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [keyRecordOf(o2)] } });
    const reset: TestSigner = { ...signerOf(`reset ${randomUUID()}`), keyId: randomUUID() };
    await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [certifiedKeyOf(w.vault, w.u.tech, reset, signerOf(o2))] } });
    const entry = entryIn(w.u.tech, w.g);
    const batch = { format: 1 as const, vault: w.vault, records: [signedBy(w.vault, entry, reset)] };
    await verifyBeforeLock(server.db, batch, tech.user.id);
    return { w, o2, batch, id: entry.id };
  }

  it('refuses a push whose key\'s certifying owner was demoted after its check before the lock: before its batch (the batch\'s read finds the snapshot moved) or by a push before it in the batch (what was read is forgotten)', async () => {
    const asTech = await authenticate(ctx, tech.client.tokens?.accessToken, tech.client.deviceId);
    const asOwner = await authenticate(ctx, owner.client.tokens?.accessToken, owner.client.deviceId);
    const batcher = new PushBatcher(ctx);
    const settle = (p: Promise<PushReply>): Promise<PushReply | CrewvaultError> => p.catch((error: unknown) => {
      if (error instanceof CrewvaultError) return error;
      throw error;
    });
    const storedIn = async (vault: string, id: string) => server.db.query('SELECT 1 FROM sync_records WHERE vault_id = $1 AND record_id = $2', [vault, id]);
    // Before its batch: o2 demoted to admin while the push waits for the vault's row.
    {
      const { w, o2, batch, id } = await certifiedByO2();
      let letGo: () => void = () => undefined;
      let locked: () => void = () => undefined;
      const isLocked = new Promise<void>((resolve) => { locked = resolve; });
      const holding = server.db.transaction(async (tx) => {
        await tx.query('SELECT seq FROM sync_vaults WHERE vault_id = $1 FOR UPDATE', [w.vault]);
        locked();
        await new Promise<void>((resolve) => { letGo = resolve; });
        await tx.query('UPDATE sync_people SET role = $3 WHERE vault_id = $1 AND vault_user = $2', [w.vault, o2, 'admin']);
      });
      await isLocked;
      const reply = settle(batcher.take({ auth: asTech, batch, source: '127.0.0.1' }));
      while (batcher.waiting(w.vault) !== 0) await new Promise<void>((resolve) => { setImmediate(resolve); });
      letGo();
      await holding;
      expect(await reply).toMatchObject({ code: 'BAD_SIGNATURE' });
      expect(await storedIn(w.vault, id)).toEqual([]);
    }
    // In its batch: the owner's push demoting o2 comes just before it.
    {
      const { w, o2, batch, id } = await certifiedByO2();
      const demote = pushOf(w.vault, [userRecord(w.u.owner, { id: o2, role: 'admin', account: admin.user.id, revision: 2 })]).batch;
      await verifyBeforeLock(server.db, demote, owner.user.id);
      const replies = await Promise.all(await asOneBatch(server.db, batcher, w.vault, () => settle(batcher.take({ auth: asOwner, batch: pushOf(w.vault, [entryIn(w.u.owner, w.g)]).batch, source: '127.0.0.1' })), [
        () => settle(batcher.take({ auth: asOwner, batch: demote, source: '127.0.0.1' })),
        () => settle(batcher.take({ auth: asTech, batch, source: '127.0.0.1' })),
      ]));
      expect(replies[1]).toMatchObject({ accepted: 1 });
      expect(replies[2]).toMatchObject({ code: 'BAD_SIGNATURE' });
      expect(await storedIn(w.vault, id)).toEqual([]);
    }
  });

  it('in one batch of pushes: an entry made and changed, then its group granted, leaves what one push after another would', async () => {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    const asOwner = await authenticate(ctx, owner.client.tokens?.accessToken, owner.client.deviceId);
    const batcher = new PushBatcher(ctx);
    const push = (records: ReplicaRecord[]) => () => batcher.take({ auth: asOwner, batch: pushOf(w.vault, records).batch, source: '127.0.0.1' });
    const made = entryIn(w.u.owner, w.g);
    const changed = entryIn(w.u.owner, w.g, { id: made.id, revision: 2, base: 1 });
    const grant = memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 1 });
    const replies = await Promise.all(await asOneBatch(server.db, batcher, w.vault, push([made]), [push([changed]), push([grant]), push([entryIn(w.u.owner, w.h)])]));
    const [first, second, granted, last] = replies;
    expect(replies.map((r) => r.accepted)).toEqual([1, 1, 1, 1]);
    expect(second?.seq).toBe((first?.seq ?? 0) + 1);
    // The grant brings G's entries again after it (restampGroupEntries reads the records): the entry
    // made and changed in this batch among them, at its newest revision.
    const rows = await rowsOf(server.db, w.vault);
    const entry = rows.find((r) => r.id === made.id);
    const member = rows.find((r) => r.id === grant.id);
    expect(entry?.revision).toBe(2);
    expect(member?.seq).toBeLessThan(entry?.seq ?? 0);
    expect(entry?.seq).toBeLessThanOrEqual(granted?.seq ?? 0);
    expect(last?.seq).toBe((granted?.seq ?? 0) + 1);
    // Every sequence number once, the vault's at the last.
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    const [vaultRow] = await server.db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [w.vault]);
    expect(Number(vaultRow?.seq)).toBe(last?.seq);
    // The new member is handed the entry as changed.
    const pulled = await other.client.ok('syncPull', { vault: w.vault, since: member?.seq ?? 0 });
    expect(pulled.records.find((r) => r.record.id === made.id)?.record).toMatchObject({ revision: 2 });
  });
});
