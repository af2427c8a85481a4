/**
 * The push's check in the vault's lock, on PostgreSQL and on PGlite (store/signers.ts
 * holdSnapshotPuttingBatches, called by sync/verify.ts holdVerified): the batches an entry push
 * names are written in the same statement that finds the signers' snapshot unchanged, and only
 * then. A snapshot that moved since the check before the lock (a new key, an owner disabled, a
 * device's head moved) writes nothing and says so, so the push is checked again in the lock.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../server/store/db';
import { putPerson } from '../../server/store/membership';
import { holdSnapshotPuttingBatches, putDevices, putSigningKeys, signersSnapshot, verifyReads } from '../../server/store/signers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { vaultWithOwnerKey } from './signer-vault';
import { registerOwner, startTestServer, type TestServer } from './support';

const databases = useTestDatabases();
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

describe.each(DATABASE_KINDS)('the check in the vault\'s lock on %s', (kind) => {
  let server: TestServer;
  let accountId: string;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    accountId = (await registerOwner(server)).user.id;
  }, 120_000);
  afterAll(async () => server?.close());

  /** A vault with its owner bound and one signing key; returns its id. */
  const vault = (): Promise<string> => vaultWithOwnerKey(server.db, accountId);

  async function batchesOf(vaultId: string): Promise<Map<string, string>> {
    const rows = await server.db.query('SELECT batch_id, body FROM sync_batches WHERE vault_id = $1', [vaultId]);
    return new Map(rows.map((row) => [text(row, 'batch_id'), text(row, 'body')]));
  }

  it('writes the batches when the snapshot stands, each once, and reads as the check before the lock did', async () => {
    const id = await vault();
    const read = await verifyReads(server.db, id, accountId, [], [], ['b1']);
    expect(read.snapshot).toBe(await signersSnapshot(server.db, id, []));
    expect(read.person).toEqual({ vaultUser: 'owner-user', role: 'owner' });
    expect(read.ownerBound).toBe(true);
    expect(read.batches.size).toBe(0);
    const stood = await server.db.transaction((tx) => holdSnapshotPuttingBatches(tx, id, [], read.snapshot, [{ id: 'b1', body: 'one' }, { id: 'b2', body: 'two' }]));
    expect(stood).toBe(true);
    expect(await batchesOf(id)).toEqual(new Map([['b1', 'one'], ['b2', 'two']]));
    // A batch stored already comes again identical (taken), or does not stand: the push is checked again and refused
    // (verify-batches.ts), and the batch stays as it was.
    expect(await server.db.transaction((tx) => holdSnapshotPuttingBatches(tx, id, [], read.snapshot, [{ id: 'b1', body: 'one' }]))).toBe(true);
    expect(await server.db.transaction((tx) => holdSnapshotPuttingBatches(tx, id, [], read.snapshot, [{ id: 'b1', body: 'other' }, { id: 'b4', body: 'four' }]))).toBe(false);
    expect(await batchesOf(id)).toEqual(new Map([['b1', 'one'], ['b2', 'two']]));
    expect((await verifyReads(server.db, id, accountId, [], [], ['b1', 'b3'])).batches).toEqual(new Map([['b1', 'one']]));
  });

  it('writes nothing once a key, an owner or a device head moved the snapshot', async () => {
    const changes: Array<(vaultId: string) => Promise<void>> = [
      (vaultId) => server.db.transaction((tx) => putSigningKeys(tx, vaultId, [{ keyId: 'k2', vaultUser: 'owner-user', publicKey: randomBytes(32).toString('base64url'), certifiedBy: 'k1', certificate: 'c' }])),
      (vaultId) => server.db.transaction((tx) => putPerson(tx, vaultId, { vaultUser: 'owner-user', accountId, role: 'owner', disabled: true })),
      (vaultId) => server.db.transaction((tx) => putDevices(tx, vaultId, [{ device: 'd1', vaultUser: 'owner-user', accountId, head: hex(8) }])),
    ];
    for (const change of changes) {
      const id = await vault();
      await server.db.transaction((tx) => putDevices(tx, id, [{ device: 'd1', vaultUser: 'owner-user', accountId, head: 'first' }]));
      const before = (await verifyReads(server.db, id, accountId, ['d1'], [], [])).snapshot;
      await change(id);
      expect(await signersSnapshot(server.db, id, ['d1'])).not.toBe(before);
      const stood = await server.db.transaction((tx) => holdSnapshotPuttingBatches(tx, id, ['d1'], before, [{ id: 'b1', body: 'one' }]));
      expect(stood).toBe(false);
      expect(await batchesOf(id)).toEqual(new Map());
    }
  });
});
