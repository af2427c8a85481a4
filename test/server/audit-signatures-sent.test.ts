/**
 * No signature of the server's audit key reaches the database except in a row that stays there
 * (server/audit.ts, server/codes/batch.ts): a signed audit batch sent in a statement that then
 * wrote nothing (rows made on a guess of the chain's tail, refused by a limit) could be appended
 * later by anyone who sees the statements' parameters (a database superuser's statement log).
 * Every statement the server sends is watched on its way to a real database (PostgreSQL and
 * PGlite); after server-computed codes, many refused by the per-step limit, with events of other
 * kinds appended between them (so a batch's guess of the tail would be wrong), every audit
 * signature sent is one the audit holds, and the chain verifies.
 * Must never: weaken a limit, or print a key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit, verifyAudit } from '../../server/audit';
import { text, type Database, type Transaction } from '../../server/store/db';
import { serverCodeEntries } from './code-servers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
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
  const watchedTx = (tx: Transaction): Transaction => ({
    query: async (sql, params) => {
      keep(sql, params);
      return tx.query(sql, params);
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
