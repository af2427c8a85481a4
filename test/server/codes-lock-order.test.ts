/**
 * The lock order of a codes batch that judges a presented session (vault, device and session rows, then the
 * MFA policy shared, then the audit's lock) against what ends or changes that session meanwhile: an owner's
 * change of the MFA policy (policy, then the audit), the removal of the asker's device (device, then its
 * sessions, then the audit) and the asker's own sign-out (session, then the audit), sent while the batch holds
 * its rows and waits for the audit's lock. None waits on another in a cycle: once the lock goes, every one is
 * answered, none with the BUSY a deadlock's rollback gives. Real HTTP on loopback, real PostgreSQL (PGlite runs
 * one transaction at a time); the server's clock is injected; waits are polled on pg_stat_activity, bounded.
 * Must never: print a key, a code or a token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockAudit } from '../../server/store/audit';
import { int, openPostgres, type Database } from '../../server/store/db';
import { putMembership, putPerson } from '../../server/store/membership';
import { serverCodeEntries } from './code-servers';
import { useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** Polls until `count` backends wait on a lock (no fixed sleep decides anything); gives up after 15 s. */
async function untilWaiting(db: Database, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [row] = await db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    if (row !== undefined && int(row, 'n') >= count) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${count} wait on a lock`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('codes: a batch judging a presented session beside what ends it, on postgres', () => {
  let server: TestServer;
  /** A pool of the test's own beside the server's: the held transaction and the polls take none of the server's. */
  let watcher: Database;
  let owner: Person;
  let member: Person;
  const vault = randomBytes(16).toString('hex');
  const entry = randomUUID();

  beforeAll(async () => {
    const url = await databases.postgresUrl();
    // Room for the batch and the three transactions that wait on it, beside the reads that authenticate them.
    server = await startTestServer(openPostgres(url, { maxConnections: 10 }));
    watcher = openPostgres(url, { maxConnections: 2 });
    owner = await registerOwner(server);
    const tech = await invitePerson(server, owner, 'admin');
    member = await invitePerson(server, owner, 'member');
    const group = randomUUID();
    await serverCodeEntries(server, owner, tech, vault, group, [entry]);
    await server.db.transaction(async (tx) => {
      const vaultUser = randomUUID();
      await putPerson(tx, vault, { vaultUser, accountId: member.user.id, role: 'technician', disabled: false });
      await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
    });
  }, 120_000);
  afterAll(async () => {
    await watcher?.close();
    await server?.close();
    await server?.db.close();
  });

  it('answers the code, the policy change, the device removal and the sign-out: no cycle', async () => {
    const asker = new TestClient(server.url);
    expect((await asker.login(member.username, member.password)).secondStep).toBe('done');
    const outcomes = await watcher.transaction(async (tx) => {
      // The audit's lock held: the batch holds its rows and the policy, and waits for it.
      await lockAudit(tx);
      const code = asker.call('codes', { vault, entry });
      await untilWaiting(watcher, 1);
      const policy = owner.client.call('mfaPolicySet', { level: 'required' });
      const removal = owner.client.call('adminDeviceRemove', { userId: member.user.id, deviceId: asker.deviceId });
      const signOut = asker.call('signOut', {});
      await untilWaiting(watcher, 4);
      // Committed here: the batch goes on, and each of the others after what it waits on.
      return { sent: Promise.all([code, policy, removal, signOut]) };
    });
    const [code, policy, removal, signOut] = await outcomes.sent;
    // The batch held its session and the policy first: its code is given, under the policy as it was.
    expect(code.ok).toBe(true);
    expect(policy.ok).toBe(true);
    for (const reply of [removal, signOut]) {
      // The sign-out and the removal race for the session: either may end it, neither may fail on a deadlock.
      if (!reply.ok) expect(reply.error.code).not.toMatch(/BUSY|INTERNAL/);
    }
    expect(removal.ok || signOut.ok).toBe(true);
    await owner.client.call('mfaPolicySet', { level: 'off' });
  }, 60_000);
});
