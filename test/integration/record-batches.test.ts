/**
 * Record format 2 as a desktop takes it (#15, shared/sync/record-batches.ts, replica-service.ts
 * SenderRows.batchVouches) through a real team server (PGlite, real HTTP on loopback) between real
 * vault files: the owner's move sends its customers and entries in signed batches, and a new
 * desktop takes them in by snapshot and by pull. What a server or relay could hand instead is
 * written into the server's database and each is set aside on the receiving desktop, nothing of
 * it written: records served without their batch, a batch whose digest list was swapped, a batch
 * naming another author than its records, and a record at an old revision replayed under its old
 * batch (its entry stays at the newer revision).
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { useFirstDesktops } from '../support/first-desktops';
import { manualClock } from '../support/vault';

const ENTRIES = 70;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const world = useFirstDesktops('crewvault-record-batches', clock, { entries: ENTRIES, customers: 2, deviceId: 'record-batches-test-device-01' });
const { signIn, newDesktop } = world;

async function storedBatches(): Promise<Array<{ id: string; body: string }>> {
  const rows = await world.server.database.query('SELECT batch_id, body FROM sync_batches ORDER BY batch_id');
  return rows.map((row) => ({ id: String(row.batch_id), body: String(row.body) }));
}

/** Runs `body` with the server's batches as `change` leaves them, then puts them back as they were. */
async function withBatches(change: (body: { id: string; author: string; signerKey: string; digests: string[]; signature: string }) => object | undefined, body: () => Promise<void>): Promise<void> {
  const before = await storedBatches();
  for (const b of before) {
    const changed = change(JSON.parse(b.body) as { id: string; author: string; signerKey: string; digests: string[]; signature: string });
    if (changed === undefined) await world.server.database.query('DELETE FROM sync_batches WHERE batch_id = $1', [b.id]);
    else await world.server.database.query('UPDATE sync_batches SET body = $2 WHERE batch_id = $1', [b.id, JSON.stringify(changed)]);
  }
  try {
    await body();
  } finally {
    await world.server.database.query('DELETE FROM sync_batches');
    for (const b of before) await world.server.database.query("INSERT INTO sync_batches (vault_id, batch_id, body) SELECT vault_id, $1, $2 FROM sync_vaults", [b.id, b.body]);
  }
}

/** A new desktop's sync (a first sync from the snapshot), and what it set aside, by kind and reason. */
async function freshSync(): Promise<{ entries: number; held: Array<{ kind: string; reason: string }> }> {
  const session = await signIn(await newDesktop());
  try {
    await syncOnce(world.client, session.replica);
    const held = (await session.replica.applyPulled(await session.replica.vaultId(), [], { hold: true })).held;
    return { entries: (await session.listEntries()).length, held: held.filter((h) => h.kind !== 'event').map((h) => ({ kind: h.kind, reason: h.reason })) };
  } finally {
    await session.close();
  }
}

describe('record format 2 on a desktop', () => {
  it('moves customers and entries in signed batches, and a new desktop takes them all in', async () => {
    const [row] = await world.server.database.query("SELECT count(*)::int AS n FROM sync_records WHERE kind IN ('customer', 'entry') AND body ? 'signature'");
    expect(Number(row?.n)).toBe(0);
    const [named] = await world.server.database.query("SELECT count(DISTINCT body->>'batch')::int AS n FROM sync_records WHERE kind IN ('customer', 'entry')");
    expect(Number(named?.n)).toBe((await storedBatches()).length);
    expect((await storedBatches()).length).toBeGreaterThan(0);
    expect(await freshSync()).toEqual({ entries: ENTRIES, held: [] });
  });

  it('sets aside records served without their batch', async () => {
    await withBatches(() => undefined, async () => {
      const taken = await freshSync();
      expect(taken.entries).toBe(0);
      expect(taken.held).toHaveLength(ENTRIES + 2);
      expect(new Set(taken.held.map((h) => h.reason))).toEqual(new Set(['A received record names a signed batch that did not come with it: nothing was applied.']));
    });
  });

  it('sets aside the records of a batch whose digest list was swapped, and of a batch naming another author', async () => {
    await withBatches((b) => ({ ...b, digests: [b.digests[1], b.digests[0], ...b.digests.slice(2)] }), async () => {
      const taken = await freshSync();
      expect(taken.entries).toBe(0);
      expect(taken.held).toHaveLength(ENTRIES + 2);
      // The two swapped are not at their index; the rest are under a signature that no longer holds.
      expect(taken.held.filter((h) => h.reason.includes('is not the record its batch lists at its index'))).toHaveLength(2);
      expect(taken.held.filter((h) => h.reason.includes('names a batch that does not hold under its sender\'s signature'))).toHaveLength(ENTRIES);
    });
    await withBatches((b) => ({ ...b, author: '01a22bae-0000-7000-8000-000000000009' }), async () => {
      const taken = await freshSync();
      expect(taken.entries).toBe(0);
      expect(new Set(taken.held.map((h) => h.reason))).toEqual(new Set(['A received record names a batch of another sender or key: nothing was applied.']));
    });
  });

  it('keeps the newer revision when a record at an old revision is replayed under its old batch', async () => {
    const reader = await signIn(await newDesktop());
    try {
      await syncOnce(world.client, reader.replica);
      const before = new Map((await world.server.database.query("SELECT record_id, body::text AS body FROM sync_records WHERE kind = 'entry'")).map((r) => [String(r.record_id), String(r.body)]));
      // The owner edits one: revision 2, in a batch of its own.
      const owner = await signIn(world.ownerFile);
      const edited = (await owner.listEntries()).find((e) => e.title === 'Entry 0');
      await owner.updateEntry(edited?.id ?? -1, { password: 'changed-after' }, (await owner.getEntry(edited?.id ?? -1)).revision);
      await syncOnce(world.client, owner.replica);
      await owner.close();
      await syncOnce(world.client, reader.replica);
      const readerId = (await reader.listEntries()).find((e) => e.title === 'Entry 0')?.id ?? -1;
      const revealed = async (): Promise<string> => reader.revealPassword(readerId);
      expect(await revealed()).toBe('changed-after');
      const [row] = await world.server.database.query("SELECT record_id FROM sync_records WHERE kind = 'entry' AND revision = 2");
      const recordId = String(row?.record_id);
      const oldBody = before.get(recordId);
      expect(oldBody).toBeDefined();
      // A relay replays the first batch's record (revision 1) above the reader's pulled sequence; the old batch is still held.
      await world.server.database.query(
        "UPDATE sync_records SET body = $2::jsonb, revision = 1, seq = (SELECT seq + 1 FROM sync_vaults) WHERE record_id = $1", [recordId, oldBody]);
      await world.server.database.query('UPDATE sync_vaults SET seq = seq + 1');
      await syncOnce(world.client, reader.replica);
      expect(await revealed()).toBe('changed-after');
    } finally {
      await reader.close();
    }
  });
});
