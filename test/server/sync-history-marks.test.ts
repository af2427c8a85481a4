/**
 * A vault's history marks (server/sync/history-marks.ts, schema 26; docs/SYNC.md "Faults"), over
 * real HTTP on PostgreSQL and on PGlite: a push transaction leaves a mark at the sequence it ends
 * on, handed to a push and a pull that ask; a pull naming the mark it holds for its cursor is
 * answered while that mark stands, and refused HISTORY_CHANGED once the history there is another
 * (the rows after a copy put back, then others' pushes over the same sequence numbers) or when its
 * cursor is past the head, instead of being told it is caught up.
 * Must never: put a secret in a test's output (the records are made-up bytes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('history marks on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);
  afterAll(async () => {
    await server.close();
  });

  it('hands a mark with a push and a pull, answers a cursor holding it, refuses one past the head or of another history', async () => {
    const w = twoGroupVault();
    const { vault, u, g } = w;
    const first = await owner.client.ok('syncPush', { ...pushOf(vault, twoGroupRecords(w, { owner, tech, other })), marks: true });
    expect(first.mark?.seq).toBe(first.seq);
    // Without `marks` a reply carries none (an older desktop's schema takes no such field).
    const plain = await owner.client.ok('syncPull', { vault, since: 0 });
    expect(plain.mark).toBeUndefined();
    const page = await owner.client.ok('syncPull', { vault, since: 0, marks: true });
    expect(page.mark).toEqual(first.mark);
    const mark = page.mark ?? { seq: 0, value: '' };
    // Its cursor and its mark: caught up, truly.
    const atHead = await owner.client.ok('syncPull', { vault, since: page.upTo, marks: true, mark });
    expect({ records: atHead.records.length, more: atHead.more }).toEqual({ records: 0, more: false });

    // A copy of the vault's tables taken here (what a backup holds).
    const tables = ['sync_records', 'sync_history_marks'];
    const [vaultRow] = await server.db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vault]);
    for (const t of tables) await server.db.query(`CREATE TABLE hm_${kind}_${t} AS SELECT * FROM ${t} WHERE vault_id = $1`, [vault]);

    // Another push: the cursor at the first mark still belongs to this history; the second mark is handed on.
    const entry = entryIn(u.owner, g);
    const second = await owner.client.ok('syncPush', { ...pushOf(vault, [entry]), marks: true });
    const on = await owner.client.ok('syncPull', { vault, since: page.upTo, marks: true, mark });
    expect({ ids: on.records.map((r) => r.record.id), mark: on.mark }).toEqual({ ids: [entry.id], mark: second.mark });

    // Past the head: refused, never an empty "caught up" page.
    expect(await owner.client.call('syncPull', { vault, since: second.seq + 3 })).toMatchObject({ ok: false, error: { code: 'HISTORY_CHANGED' } });
    // A mark this server does not hold at that sequence.
    expect(await owner.client.call('syncPull', { vault, since: second.seq, marks: true, mark: { seq: second.seq, value: 'another-history-value' } }))
      .toMatchObject({ ok: false, error: { code: 'HISTORY_CHANGED' } });

    // The copy put back (records, marks and the vault's sequence), then another push over the same sequence numbers.
    await server.db.transaction(async (tx) => {
      for (const t of tables) await tx.query(`DELETE FROM ${t} WHERE vault_id = $1`, [vault]);
      for (const t of tables) await tx.query(`INSERT INTO ${t} SELECT * FROM hm_${kind}_${t}`);
      await tx.query('UPDATE sync_vaults SET seq = $2 WHERE vault_id = $1', [vault, Number(vaultRow?.['seq'])]);
    });
    const anotherEntry = entryIn(u.owner, g);
    const overtaking = await owner.client.ok('syncPush', { ...pushOf(vault, [anotherEntry]), marks: true });
    expect(overtaking.seq).toBe(second.seq);
    // A desktop holding the second mark stands at a sequence the server holds again: refused, not handed nothing from there.
    expect(await owner.client.call('syncPull', { vault, since: second.seq, marks: true, mark: second.mark }))
      .toMatchObject({ ok: false, error: { code: 'HISTORY_CHANGED' } });
    // One whose cursor the copy held is answered as before: the first mark stands.
    const fromFirst = await owner.client.ok('syncPull', { vault, since: page.upTo, marks: true, mark });
    expect(fromFirst.records.map((r) => r.record.id)).toEqual([anotherEntry.id]);
  });
});
