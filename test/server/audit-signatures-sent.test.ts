/**
 * No signature of the server's audit key reaches the database except in a row that stays there
 * (server/audit.ts, server/codes/batch.ts): a signed audit batch sent in a statement that then
 * wrote nothing (rows made on a guess of the chain's tail, refused by a limit) could be appended
 * later by anyone who sees the statements' parameters (a database superuser's statement log).
 * Every statement the server sends is watched on its way to a real database (PostgreSQL and
 * PGlite); after server-computed codes, many refused by the per-step limit, with events of other
 * kinds appended between them (so a batch's guess of the tail would be wrong), and after pushes
 * whose audited changes are then undone (a group's server codes turned off beside an entry that
 * meets a conflict; a vault started by a push then refused), every audit signature sent is one the
 * audit holds, and the chain verifies.
 * Must never: weaken a limit, or print a key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret } from '../../shared/otp';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { recordAudit, verifyAudit } from '../../server/audit';
import { text, type Database, type DatabaseTransaction } from '../../server/store/db';
import { serverCodeEntries } from './code-servers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, userRecord, vaultUsers } from './people';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** An audit signature as the server stores it: 64 bytes in base64url (server/audit.ts SIGNATURE_TEXT). */
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/** Every value of `params`, arrays opened. */
function valuesOf(params: readonly unknown[] | undefined): unknown[] {
  return (params ?? []).flatMap((value) => (Array.isArray(value) ? valuesOf(value) : [value]));
}

/** `db` as it is, with every statement's parameters that name the audit's table kept in `sent`. */
function watched(db: Database, sent: string[]): Database {
  const keep = (sql: string, params: readonly unknown[] | undefined): void => {
    if (!sql.includes('server_audit')) return;
    for (const value of valuesOf(params)) if (typeof value === 'string' && SIGNATURE.test(value)) sent.push(value);
  };
  const watchedTx = (tx: DatabaseTransaction): DatabaseTransaction => ({
    query: async (sql, params) => {
      keep(sql, params);
      return tx.query(sql, params);
    },
    queryBytes: async (sql, params) => {
      keep(sql, params);
      return tx.queryBytes(sql, params);
    },
    exec: async (script) => tx.exec(script),
  });
  return {
    kind: db.kind,
    query: async (sql, params) => {
      keep(sql, params);
      return db.query(sql, params);
    },
    transaction: async (work) => db.transaction(async (tx) => work(watchedTx(tx))),
    listen: async (channel, handler, restored) => db.listen(channel, handler, restored),
    close: async () => db.close(),
  };
}

describe.each(DATABASE_KINDS)('audit signatures sent to the database, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  const sent: string[] = [];
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entries = [randomUUID(), randomUUID()];

  beforeAll(async () => {
    server = await startTestServer(watched(await databases.open(kind), sent));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner);
    await serverCodeEntries(server, owner, tech, vault, group, entries);
  }, 120_000);
  afterAll(async () => server?.close());

  it('are each in the audit afterwards: none left in a statement that wrote nothing', async () => {
    const ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
    for (let round = 0; round < 3; round++) {
      // A fresh time step: five codes of each entry a step are given, the rest refused.
      server.clock.advance(30_000);
      const asks = await Promise.all(Array.from({ length: 16 }, (_, i) => tech.client.call('codes', { vault, entry: entries[i % 2] ?? '' })));
      expect(asks.filter((r) => r.ok)).toHaveLength(10);
      expect(new Set(asks.flatMap((r) => (r.ok ? [] : [r.error.code])))).toEqual(new Set(['TOO_MANY_ATTEMPTS']));
      // Refused alone: the next batch finds the chain where the last one left it, and every ask past the limit.
      const over = await tech.client.call('codes', { vault, entry: entries[0] ?? '' });
      expect(over.ok).toBe(false);
      // Another kind of event between batches: the chain's end moves under the codes batcher.
      await recordAudit(ctx, { kind: 'session.signed-out', detail: { round } });
    }
    const held = new Set((await server.db.query('SELECT signature FROM server_audit')).map((row) => text(row, 'signature')));
    expect(sent.length).toBeGreaterThan(3);
    expect(sent.filter((signature) => !held.has(signature)).length, 'signatures sent that the audit does not hold').toBe(0);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
  });
});

describe.each(DATABASE_KINDS)('audit signatures sent by pushes undone, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let admin: Person;
  let tech: Person;
  let codesOnly: Person;
  const sent: string[] = [];
  beforeAll(async () => {
    ({ server, owner, people: { admin, tech, codesOnly } } = await serverWithPeople(watched(await databases.open(kind), sent), ['admin', 'tech', 'codesOnly']));
  }, 120_000);
  afterAll(async () => server?.close());

  async function notHeld(): Promise<number> {
    const held = new Set((await server.db.query('SELECT signature FROM server_audit')).map((row) => text(row, 'signature')));
    return sent.filter((signature) => !held.has(signature)).length;
  }

  it('are none of a group\'s codes turned off in a push that then meets a conflict', async () => {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), admin: randomUUID(), tech: randomUUID(), codesOnly: randomUUID() };
    const group = randomUUID();
    const entry = entryIn(u.owner, group);
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.admin, 'admin', admin], [u.tech, 'technician', tech], [u.codesOnly, 'codes_only', codesOnly]]),
      groupRecord(u.owner, { id: group, keyVersion: 1, serverCodes: true }),
      memberRecord(u.owner, { group, user: u.tech, keyVersion: 1 }), memberRecord(u.owner, { group, user: u.codesOnly, keyVersion: 1 }),
      entry,
    ]));
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const sealed = sealCodeKeyForServer(key, { vault, entry: entry.id, group, keyVersion: 1 }, { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 });
    await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry: entry.id, group, keyVersion: 1, sealed }] });
    const before = await notHeld();
    // Turning the setting off drops the group's keys (audited); the entry's stale base undoes the whole push.
    const reply = await admin.client.ok('syncPush', pushOf(vault, [
      groupRecord(u.admin, { id: group, keyVersion: 1, revision: 2, serverCodes: false }),
      entryIn(u.admin, group, { id: entry.id, revision: 7, base: 5 }),
    ]));
    expect(reply).toMatchObject({ accepted: 0, conflicts: [{ id: entry.id }] });
    expect(await notHeld(), 'signed audit rows sent and not kept').toBe(before);
    expect(await server.db.query(`SELECT 1 FROM server_audit WHERE kind = 'codes.key-removed'`)).toEqual([]);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
  });

  it('are none of a vault started by a push that is then refused', async () => {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID() };
    const group = randomUUID();
    const before = await notHeld();
    // A member record at a key version its group does not have: refused whole, the vault not started.
    const reply = await owner.client.call('syncPush', pushOf(vault, [
      userRecord(u.owner, { id: u.owner, role: 'owner', account: owner.user.id }),
      userRecord(u.owner, { id: u.tech, role: 'technician', account: tech.user.id }),
      groupRecord(u.owner, { id: group, keyVersion: 1 }),
      memberRecord(u.owner, { group, user: u.tech, keyVersion: 3 }),
    ]));
    expect(reply.ok).toBe(false);
    expect(await notHeld(), 'signed audit rows sent and not kept').toBe(before);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
  });
});
