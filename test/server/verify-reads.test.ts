/**
 * The reads of pushes' checks before the lock taken together (server/sync/verify-reads.ts), on
 * PostgreSQL and on PGlite: pushes arriving while one read is out share the next statement, each
 * handed exactly what its own statement would have read (its own batches and events, its own
 * copies), and a push arriving after a write reads it. Statements are counted by a wrapper that
 * passes each on to the real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable, Row } from '../../server/store/db';
import { putBatches } from '../../server/store/batches';
import { verifyReads } from '../../server/store/signers';
import { verifyBeforeLock } from '../../server/sync/verify';
import { VerifyReadsInLine } from '../../server/sync/verify-reads';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { vaultWithOwnerKey } from './signer-vault';
import { registerOwner, startTestServer, type TestServer } from './support';

const databases = useTestDatabases();

/** The real database, its statements counted. */
class Counted implements Queryable {
  statements = 0;
  constructor(private readonly db: Queryable) {}
  query(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    this.statements++;
    return this.db.query(sql, params);
  }
}

describe.each(DATABASE_KINDS)('pushes\' reads before the lock on %s', (kind) => {
  let server: TestServer;
  let accountId: string;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    accountId = (await registerOwner(server)).user.id;
  }, 120_000);
  afterAll(async () => server?.close());

  /** A vault with its owner bound, one signing key and batches b1 and b2; returns its id. */
  const vault = (): Promise<string> => vaultWithOwnerKey(server.db, accountId, [{ id: 'b1', body: 'one' }, { id: 'b2', body: 'two' }]);

  it('checks pushes arriving together with one statement for those that wait (one each before)', async () => {
    const id = await vault();
    const counted = new Counted(server.db);
    await Promise.all(Array.from({ length: 8 }, () => verifyBeforeLock(counted, { vault: id, records: [] }, accountId)));
    // The first goes alone; the seven arriving while it is out go together.
    expect(counted.statements).toBe(2);
  });

  it('hands each push what its own statement would read, and its own copies', async () => {
    const id = await vault();
    const counted = new Counted(server.db);
    const line = new VerifyReadsInLine(counted);
    const asked: string[][] = [['b1'], ['b2', 'b3'], [], ['b1', 'b2']];
    const reads = await Promise.all(asked.map((ids) => line.read(id, accountId, [], [], ids)));
    expect(counted.statements).toBe(2);
    for (const [i, ids] of asked.entries()) {
      const alone = await verifyReads(server.db, id, accountId, [], [], ids);
      expect(reads[i]).toEqual(alone);
    }
    // verify.ts changes the roles and disabled it is handed (a push's own user records): never another push's.
    reads[1]?.roles.set('owner-user', 'admin');
    reads[1]?.disabled.add('owner-user');
    expect(reads[2]?.roles.get('owner-user')).toBe('owner');
    expect(reads[2]?.disabled.has('owner-user')).toBe(false);
  });

  it('never shares a read between accounts or vaults', async () => {
    const [one, two] = [await vault(), await vault()];
    const line = new VerifyReadsInLine(server.db);
    const [first, mine, another, otherVault] = await Promise.all([
      line.read(one, accountId, [], [], []),
      line.read(one, accountId, [], [], ['b1']),
      line.read(one, 'not-a-person', [], [], ['b1']),
      line.read(two, accountId, [], [], []),
    ]);
    expect(first?.person).toEqual({ vaultUser: 'owner-user', role: 'owner' });
    expect(mine?.batches).toEqual(new Map([['b1', 'one']]));
    expect(another?.person).toBeUndefined();
    expect(another).toEqual(await verifyReads(server.db, one, 'not-a-person', [], [], ['b1']));
    expect(otherVault).toEqual(await verifyReads(server.db, two, accountId, [], [], []));
  });

  it('reads for a push what was written before it arrived, while another read is out', async () => {
    const id = await vault();
    const line = new VerifyReadsInLine(server.db);
    const out = line.read(id, accountId, [], [], ['b9']);
    await server.db.transaction((tx) => putBatches(tx, id, [{ id: 'b9', body: 'nine' }]));
    const after = await line.read(id, accountId, [], [], ['b9']);
    expect(after.batches).toEqual(new Map([['b9', 'nine']]));
    await out;
  });
});
