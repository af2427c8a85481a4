/**
 * A push batch's record writes wait and go together (server/store/sync.ts RecordsInLine), on
 * PostgreSQL and PGlite: every statement not declared apart from records sees the records waiting
 * as written (they are written first), a record named again while waiting is written first (one
 * statement may not write a row twice), the vault's sequence move writes the rest, and a declared
 * statement runs with them still waiting. Then in a real batch of pushes (push-batch.ts): an entry
 * created and edited in one batch, then a grant of its group in the same batch, whose restamp reads
 * the records (the entry must be moved past the grant, as one push after another would leave it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import { authenticate } from '../../server/auth/sessions';
import type { ServerContext } from '../../server/context';
import { PushBatcher, type PushReply } from '../../server/sync/push-batch';
import { createVault, putRecord, RecordsInLine, setVaultSeq, statementsApartFromRecords, type StoredRecord } from '../../server/store/sync';
import { groupsOf } from '../../server/store/membership';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { asOneBatch } from './one-batch';
import { entryIn, memberRecord, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe('statements declared apart from records', () => {
  it('name no table of records (what a RecordsInLine lets run before the records waiting)', () => {
    const declared = statementsApartFromRecords();
    // The batch's light path: a push's signature snapshot (with its batches), its groups, a technician's groups.
    expect(declared.length).toBeGreaterThanOrEqual(3);
    for (const sql of declared) expect(sql).not.toMatch(/sync_records|restamp|left_reach/i);
  });
});

describe.each(DATABASE_KINDS)('record writes in line, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let ctx: ServerContext;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
  }, 120_000);

  const record = (id: string, revision: number, seq: number): StoredRecord => ({ id, kind: 'entry', revision, seq, body: JSON.stringify({ id, revision }) });
  const rowsOf = async (q: { query: RecordsInLine['query'] }, vault: string): Promise<Array<{ id: string; revision: number; seq: number }>> =>
    (await q.query('SELECT record_id, revision, seq FROM sync_records WHERE vault_id = $1 ORDER BY seq', [vault]))
      .map((r) => ({ id: String(r.record_id), revision: Number(r.revision), seq: Number(r.seq) }));

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

  it('loses nothing it was handed when its transaction rolls back, and writes nothing', async () => {
    const vault = randomBytes(16).toString('hex');
    await expect(server.db.transaction(async (opened) => {
      const tx = new RecordsInLine(opened);
      await createVault(tx, vault, owner.user.id, 1);
      await putRecord(tx, vault, record(randomUUID(), 1, 1), owner.user.id);
      await setVaultSeq(tx, vault, 1);
      throw new CrewvaultError('CONFLICT', 'rolled back on purpose');
    })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await server.db.query('SELECT 1 FROM sync_records WHERE vault_id = $1', [vault])).toEqual([]);
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
    const [first, second, granted, last] = replies as PushReply[];
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
