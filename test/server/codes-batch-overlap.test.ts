/**
 * Server-computed codes' batches overlap (server/codes/batch.ts: a batch starts while the one
 * before counts, audits and commits) and two server processes batch side by side on one
 * PostgreSQL: the per-step limit stays exact, no batch deadlocks on another's count rows, and the
 * signed audit chain holds one row per code given, in one unbroken chain.
 * Real HTTP on loopback, real PostgreSQL; the servers' clocks are injected and set to one instant.
 * Must never: print a key or a code, or weaken a limit to pass.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit';
import { text } from '../../server/store/db';
import { serverCodeEntries, twoServerProcesses } from './code-servers';
import { useTestDatabases } from './databases';
import { TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe('overlapping code batches, in one server process and across two, on PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let owner: Person;
  let tech: Person;
  let viaB: TestClient;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entries = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    ({ a, b, owner, tech } = await twoServerProcesses(await databases.open('postgres')));
    await serverCodeEntries(a, owner, tech, vault, group, entries);
    viaB = new TestClient(b.url, tech.client.deviceId);
    viaB.tokens = tech.client.tokens;
  }, 120_000);
  afterAll(async () => {
    await b.close();
  });

  /** Both servers' clocks at the start of a fresh time step, a second into it. */
  function freshStep(): number {
    const at = (Math.floor(Math.max(a.clock.now(), b.clock.now()) / 30_000) + 2) * 30_000 + 1_000;
    a.clock.advance(at - a.clock.now());
    b.clock.advance(at - b.clock.now());
    return Math.floor(at / 30_000);
  }

  async function given(step: number): Promise<string[]> {
    const rows = await a.db.query(`SELECT detail FROM server_audit WHERE kind = 'codes.computed' AND actor_id = $1 ORDER BY seq`, [tech.user.id]);
    return rows.map((r) => JSON.parse(text(r, 'detail')) as { entry: string; step: number }).filter((d) => d.step === step).map((d) => d.entry);
  }

  it('gives five codes of each entry a step, no more, when one process\'s batches overlap', async () => {
    const step = freshStep();
    // Sixty asks at once, the three entries interleaved: they arrive while batches are under way, so batches overlap.
    const asks = await Promise.all(Array.from({ length: 60 }, (_, i) => tech.client.call('codes', { vault, entry: entries[i % 3] ?? '' })));
    const refusals = asks.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.code));
    expect(asks.filter((r) => r.ok)).toHaveLength(15);
    expect(new Set(refusals)).toEqual(new Set(['TOO_MANY_ATTEMPTS']));
    const audited = await given(step);
    expect(audited).toHaveLength(15);
    for (const entry of entries) expect(audited.filter((e) => e === entry)).toHaveLength(5);
    expect(await verifyAudit(a.db, a.keys.auditPublicKey)).toMatchObject({ ok: true });
  });

  it('gives five codes of each entry a step across two processes, none refused for anything but the limit (no deadlock)', async () => {
    for (let round = 0; round < 3; round++) {
      const step = freshStep();
      // Each process sees the entries in another order, so two batches name the same count rows in opposite orders.
      const asks = await Promise.all(Array.from({ length: 60 }, (_, i) => {
        const viaA = i % 2 === 0;
        const entry = viaA ? entries[(i >> 1) % 3] : entries[2 - ((i >> 1) % 3)];
        return (viaA ? tech.client : viaB).call('codes', { vault, entry: entry ?? '' });
      }));
      const refusals = asks.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.code));
      expect(new Set(refusals)).toEqual(new Set(['TOO_MANY_ATTEMPTS']));
      expect(asks.filter((r) => r.ok)).toHaveLength(15);
      const audited = await given(step);
      for (const entry of entries) expect(audited.filter((e) => e === entry)).toHaveLength(5);
    }
    expect(await verifyAudit(a.db, a.keys.auditPublicKey)).toMatchObject({ ok: true });
  });
});
