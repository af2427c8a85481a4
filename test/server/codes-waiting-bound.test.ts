/**
 * Code requests waiting in memory, bounded per account (hostile review of 7 December;
 * server/codes/batch.ts MAX_WAITING_PER_ACCOUNT): the codes budget was counted only by the batch, in
 * the database, so a client firing requests at once had the server hold every one of them first.
 * Over real HTTP on loopback, on a real PostgreSQL: the audit's lock is held (as a long batch
 * would), a technician fires MAX_WAITING_PER_ACCOUNT + PAST asks at once, and the PAST past the
 * bound are refused at once (TOO_MANY_ATTEMPTS, the budget's code, which the desktop shows as a
 * budget refusal) while the others wait; once the lock goes, those are answered by the budget as
 * before (five codes an entry a step), and the account is served again. PostgreSQL only: on PGlite
 * one transaction at a time leaves no way to hold the lock beside the requests.
 * Must never: print a key or a code, or weaken a limit to pass.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WAITING_PER_ACCOUNT } from '../../server/codes/batch';
import { lockAudit } from '../../server/store/audit';
import { serverCodeEntries } from './code-servers';
import { useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();
/** Asks past the bound: each refused at once. */
const PAST = 24;

/** Polls `condition` (nothing is decided by a fixed sleep); gives up after 60 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('code requests waiting in memory, per account, on PostgreSQL', () => {
  let server: TestServer;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entries = [randomUUID(), randomUUID(), randomUUID()];
  const entry = (i: number): string => entries[i % entries.length] ?? '';

  beforeAll(async () => {
    server = await startTestServer(await databases.open('postgres'));
    const owner = await registerOwner(server);
    tech = await invitePerson(server, owner);
    await serverCodeEntries(server, owner, tech, vault, group, entries);
  }, 120_000);
  afterAll(() => server?.close());

  /** The clock a second into a fresh time step, two steps on (so also in a fresh minute). */
  function freshStep(): void {
    const at = (Math.floor(server.clock.now() / 30_000) + 2) * 30_000 + 1_000;
    server.clock.advance(at - server.clock.now());
  }

  it('refuses at once the asks past the bound while the others wait, then answers those by the budget', async () => {
    freshStep();
    let answered = 0;
    let asks: Array<ReturnType<typeof tech.client.call<'codes'>>> = [];
    await server.db.transaction(async (tx) => {
      // The audit's lock held: the first batch waits on it, every later ask waits in the queue behind it.
      await lockAudit(tx);
      asks = Array.from({ length: MAX_WAITING_PER_ACCOUNT + PAST }, (_, i) => tech.client.call('codes', { vault, entry: entry(i) }).finally(() => {
        answered++;
      }));
      // Only asks past the bound can be answered while the lock is held: PAST answered means the bound is full.
      await until(() => answered >= PAST, `${PAST} asks are answered`);
      expect(answered).toBe(PAST);
    });
    const replies = await Promise.all(asks);
    const tally = (pattern: RegExp): number => replies.filter((r) => !r.ok && r.error.code === 'TOO_MANY_ATTEMPTS' && pattern.test(r.error.message)).length;
    expect(tally(/Too many codes asked for at once \(1000 are waiting\)/)).toBe(PAST);
    expect(replies.filter((r) => r.ok)).toHaveLength(5 * entries.length);
    expect(tally(/asked for too often in this time step/)).toBe(MAX_WAITING_PER_ACCOUNT - 5 * entries.length);
    expect(replies.every((r) => r.ok || r.error.code === 'TOO_MANY_ATTEMPTS')).toBe(true);

    // Nothing stays counted in memory: the next step's ask is served.
    freshStep();
    expect((await tech.client.call('codes', { vault, entry: entry(0) })).ok).toBe(true);
  }, 180_000);
});
