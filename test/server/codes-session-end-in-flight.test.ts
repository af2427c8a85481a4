/**
 * Review of D5: the sessions' FOR SHARE in the codes batch (store/sessions.ts
 * sessionsHeldSql) had no test: a session ended in a transaction still in flight when the batch
 * reads it (a device removed: its sessions deleted, then its audit event waiting for the audit's
 * lock) must be waited for and seen. Same shape as the token test of codes-token-budget-standing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { authenticate } from '../../server/auth/sessions';
import { computeCode } from '../../server/codes/service';
import { DEFAULT_THROTTLE_LIMITS, type ServerContext } from '../../server/context';
import { serverCodeEntries } from './code-servers';
import { useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const SOURCE = '127.0.0.1';
const AUDIT_LOCK = 0x61756474;

async function outcomeOf(ask: Promise<unknown>): Promise<string> {
  try {
    await ask;
    return 'ok';
  } catch (error) {
    if (error instanceof CrewvaultError) return error.code;
    throw error;
  }
}

describe('codes: a session ended in flight when the batch starts, on PostgreSQL (review probe)', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const entry = randomUUID();

  beforeAll(async () => {
    server = await startTestServer(await databases.open('postgres'));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner, 'admin');
    await serverCodeEntries(server, owner, tech, vault, randomUUID(), [entry]);
  }, 120_000);

  async function waiting(advisory: boolean): Promise<number> {
    const [row] = await server.db.query('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND (locktype = \'advisory\') = $1', [advisory]);
    return Number(row?.n ?? 0);
  }
  async function until(done: () => Promise<boolean>): Promise<void> {
    while (!await done()) await new Promise<void>((resolve) => { setImmediate(resolve); });
  }

  it('refuses the code when the device removal ending the session was written before the batch read it', async () => {
    const ctx: ServerContext = { db: server.db, keys: server.keys, now: server.clock.now, throttle: DEFAULT_THROTTLE_LIMITS };
    const other = new TestClient(server.url);
    await other.login(tech.username, tech.password);
    const checked = await authenticate(ctx, other.tokens?.accessToken, other.deviceId);
    let letGo: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => { locked = resolve; });
    const holding = server.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      locked();
      await new Promise<void>((resolve) => { letGo = resolve; });
    });
    await isLocked;
    const removing = tech.client.call('deviceRemove', { deviceId: other.deviceId ?? '' });
    await until(async () => await waiting(true) === 1);
    const asking = outcomeOf(computeCode(ctx, checked, { vault, entry }, SOURCE));
    await until(async () => await waiting(false) >= 1 || await waiting(true) >= 2);
    letGo();
    await holding;
    const removed = await removing;
    expect(removed.ok ? removed.value.endedSessions : removed.error.code).toBe(1);
    expect(await asking).toBe('UNAUTHORIZED');
  });
});
