/**
 * A pull reads who may see what (the member's groups) and the records it hands in one consistent
 * view (review of key rotation, R2; server/store/db.ts readConsistently). Before, each was its
 * own statement: an owner's revoke of a technician (G rotated without them, its entry re-sealed,
 * a new entry) committed just after the pull had read the technician's groups, and the records
 * read next handed the revoked technician what the revoke wrote into G.
 *
 * The revoke is sent, over real HTTP, at that exact point: the server's database is the real one
 * (PostgreSQL, PGlite), watched for the pull's read of the technician's groups. Outside a
 * transaction, or on PostgreSQL (another connection), the test waits for the revoke to commit
 * before the pull goes on. Inside a transaction on PGlite the revoke cannot run before that
 * transaction ends (one connection), so it is sent and the pull goes on.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaRecord } from '../../shared/sync/records';
import type { Database, DatabaseTransaction, Queryable } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();

/** The member's groups as a pull reads them (server/store/membership.ts groupsOf). */
const GROUPS_READ = 'SELECT m.group_id FROM sync_members m JOIN sync_groups g';

interface Watched {
  readonly db: Database;
  /** Runs `write` once, right after the next read of `vaultUser`'s groups; resolves to whether that read was inside a transaction. */
  afterGroupsRead(vaultUser: string, write: () => Promise<unknown>): Promise<{ inTransaction: boolean; written: Promise<unknown> }>;
}

/** `db` itself, every statement passed on as asked; only watched for one read. */
function watched(db: Database): Watched {
  let armed: { vaultUser: string; write: () => Promise<unknown>; fired: (at: { inTransaction: boolean; written: Promise<unknown> }) => void } | undefined;
  const after = async (sql: string, params: readonly unknown[], inTransaction: boolean): Promise<void> => {
    const hook = armed;
    if (hook === undefined || !sql.includes(GROUPS_READ) || params[1] !== hook.vaultUser) return;
    armed = undefined;
    const written = hook.write();
    hook.fired({ inTransaction, written });
    // PGlite inside a transaction: the write waits for it to end (waiting here would never end).
    if (!(inTransaction && db.kind === 'pglite')) await written;
  };
  const query = async (on: Queryable, sql: string, params: readonly unknown[] | undefined, inTransaction: boolean) => {
    const rows = await on.query(sql, params);
    await after(sql, params ?? [], inTransaction);
    return rows;
  };
  return {
    db: {
      kind: db.kind,
      query: (sql, params) => query(db, sql, params, false),
      transaction: (work) => db.transaction((tx) => work({
        query: (sql, params) => query(tx, sql, params, true),
        queryBytes: (sql, params) => tx.queryBytes(sql, params),
        exec: (script) => tx.exec(script),
      } satisfies DatabaseTransaction)),
      listen: (channel, handler, restored) => db.listen(channel, handler, restored),
      close: () => db.close(),
    },
    afterGroupsRead(vaultUser, write) {
      return new Promise((fired) => {
        armed = { vaultUser, write, fired };
      });
    },
  };
}

describe.each(DATABASE_KINDS)('a pull and a revoke committed between its reads, on %s', (kind) => {
  let database: Watched;
  let owner: Person;
  let tech: Person;
  beforeAll(async () => {
    database = watched(await databases.open(kind));
    ({ owner, people: { tech } } = await serverWithPeople(database.db, ['tech']));
  }, 120_000);

  it('hands the revoked technician nothing the revoke wrote into the group, and nothing of it afterwards', async () => {
    const vault = randomBytes(16).toString('hex');
    const users = { owner: randomUUID(), tech: randomUUID() };
    const g = randomUUID();
    const inG = entryIn(users.owner, g);
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(users.owner, [[users.owner, 'owner', owner], [users.tech, 'technician', tech]]),
      groupRecord(users.owner, { id: g, keyVersion: 1 }), memberRecord(users.owner, { group: g, user: users.tech, keyVersion: 1 }), inG,
    ]));
    const first = await tech.client.ok('syncPull', { vault, since: 0 });
    expect(first.records.map((r) => r.record.id)).toContain(inG.id);

    // The owner revokes the technician: G at version 2 wrapped for nobody else, its entry re-sealed, a new one beside it.
    const added = entryIn(users.owner, g, { keyVersion: 2 });
    const revoke = pushOf(vault, [
      groupRecord(users.owner, { id: g, keyVersion: 2 }), entryIn(users.owner, g, { id: inG.id, revision: 2, base: 1, keyVersion: 2 }), added,
    ]);
    const fired = database.afterGroupsRead(users.tech, () => owner.client.ok('syncPush', revoke));
    const pulled = await tech.client.ok('syncPull', { vault, since: first.upTo });
    const { written } = await fired;
    expect(await written).toMatchObject({ accepted: 3 });

    // What of G a pull hands: its entries and others' member records (their own member record tells a person where they stand).
    const ofG = (records: ReadonlyArray<{ readonly record: ReplicaRecord }>): string[] =>
      records.flatMap(({ record }) => ((record.kind === 'entry' || (record.kind === 'member' && record.user !== users.tech)) && record.group === g ? [record.id] : []));
    // Read as one view: before the revoke (nothing new yet) — never the revoke's records judged by the groups held before it.
    expect(ofG(pulled.records)).toEqual([]);
    // And once it has committed, the technician is cut off.
    expect(ofG((await tech.client.ok('syncPull', { vault, since: pulled.upTo })).records)).toEqual([]);
    expect(ofG((await tech.client.ok('syncPull', { vault, since: 0 })).records)).toEqual([]);
    // The owner holds every group: both entries there, under version 2.
    const ownersG = (await owner.client.ok('syncPull', { vault, since: 0 })).records.flatMap(({ record }) => (record.kind === 'entry' && record.group === g ? [[record.id, record.keyVersion]] : []));
    expect(ownersG.sort()).toEqual([[inG.id, 2], [added.id, 2]].sort());
  });
});
