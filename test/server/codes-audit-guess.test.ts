/**
 * The codes batch's one statement for its counts and its audit rows (server/store/codes.ts
 * addThrottleCountsAppendingAudit), on PostgreSQL and PGlite: the rows made after the tail the
 * batch guessed are appended only when the chain really ends there under the lock and no count is
 * past its limit; otherwise nothing of the audit is written and the statement says where the chain
 * ends, so the batch appends after that. Either way the counts are written once and the chain verifies.
 * Real databases (test/support/postgres.ts), real Ed25519 audit keys; the clock is the test server's.
 * Must never: append a row off the chain's end, or one for a code a limit refused.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, auditRowsAfter, verifyAudit, type AuditEvent } from '../../server/audit';
import type { ServerContext } from '../../server/context';
import { insertAuditRows, lockAuditTail, type AuditTail } from '../../server/store/audit';
import { addThrottleCountsAppendingAudit } from '../../server/store/codes';
import { int } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { startTestServer, type TestServer } from './support';

const databases = useTestDatabases();

interface BatchResult {
  readonly totals: Map<string, number>;
  readonly tail: AuditTail | undefined;
  readonly appended: boolean;
  /** The tail as the lock found it. */
  readonly real: AuditTail | undefined;
}

describe.each(DATABASE_KINDS)('a codes batch\'s counts and audit rows in one statement on %s', (kind) => {
  let server: TestServer;
  let ctx: Pick<ServerContext, 'keys' | 'now'>;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    ctx = { keys: server.keys, now: server.clock.now };
  }, 120_000);
  afterAll(async () => server?.close());

  const events = (n: number): AuditEvent[] => Array.from({ length: n }, (_, i) => ({ kind: 'codes.computed', actorId: 'acct', source: '127.0.0.1', detail: { vault: 'v', entry: `e${i}`, step: 1 } }));

  async function auditCount(): Promise<number> {
    const [row] = await server.db.query('SELECT count(*)::int AS n FROM server_audit');
    return row === undefined ? 0 : int(row, 'n');
  }

  /** One batch: the lock, then the statement with rows made after `guess`; what it returned, and the tail after. */
  async function batch(guess: AuditTail | undefined, counts: ReadonlyArray<{ actor: string; key: string; add: number; limit: number }>, n: number): Promise<BatchResult> {
    return server.db.transaction(async (tx) => {
      const real = await lockAuditTail(tx);
      const rows = auditRowsAfter(ctx, guess, events(n));
      const result = await addThrottleCountsAppendingAudit(tx, counts.map((c) => ({ ...c, window: 7 })), guess, rows);
      // As the batch does when the guess did not hold: its rows after the tail the statement read.
      if (!result.appended) await insertAuditRows(tx, auditRowsAfter(ctx, result.tail, events(n)));
      return { ...result, real };
    });
  }

  it('appends the rows when the chain ends where guessed and every count is within its limit', async () => {
    await server.db.transaction((tx) => appendAudit(tx, ctx, { kind: 'sign-in.succeeded', actorId: 'someone' }));
    const before = await auditCount();
    const tail = await server.db.transaction((tx) => lockAuditTail(tx));
    const actor = randomUUID();
    const result = await batch(tail, [{ actor, key: 'all', add: 3, limit: 300 }, { actor, key: 'entry v/e0', add: 3, limit: 5 }], 3);
    expect(result.appended).toBe(true);
    expect(result.tail).toEqual(tail);
    expect(result.totals.get(`${actor}|all`)).toBe(3);
    expect(await auditCount()).toBe(before + 3);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: true, events: before + 3 });
  });

  it('appends nothing when the chain moved on since the guess (another process\'s event), and says where it ends', async () => {
    const stale = await server.db.transaction((tx) => lockAuditTail(tx));
    await server.db.transaction((tx) => appendAudit(tx, ctx, { kind: 'sign-in.succeeded', actorId: 'elsewhere' }));
    const before = await auditCount();
    const actor = randomUUID();
    const result = await batch(stale, [{ actor, key: 'all', add: 2, limit: 300 }], 2);
    expect(result.appended).toBe(false);
    expect(result.tail).toEqual(result.real);
    expect(result.tail?.seq).toBe((stale?.seq ?? 0) + 1);
    // Counted once, and the rows appended after the real tail by the batch itself.
    expect(result.totals.get(`${actor}|all`)).toBe(2);
    expect(await auditCount()).toBe(before + 2);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: true, events: before + 2 });
  });

  it('appends nothing when a count goes past its limit (the batch judges each ask by the totals)', async () => {
    const actor = randomUUID();
    const first = await batch(await server.db.transaction((tx) => lockAuditTail(tx)), [{ actor, key: 'entry v/e0', add: 4, limit: 5 }], 4);
    expect(first.appended).toBe(true);
    const before = await auditCount();
    const tail = await server.db.transaction((tx) => lockAuditTail(tx));
    const result = await batch(tail, [{ actor, key: 'entry v/e0', add: 2, limit: 5 }], 1);
    expect(result.appended).toBe(false);
    expect(result.totals.get(`${actor}|entry v/e0`)).toBe(6);
    expect(result.tail).toEqual(tail);
    expect(await auditCount()).toBe(before + 1);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: true, events: before + 1 });
  });
});
