/**
 * Review round five (#15), the holes found in server-computed codes and sync push, fixed each as a
 * class, with the reviewer's proofs (each failed before its fix) and a case of our own per class:
 * - the codes limit's window only moves forward (two server processes with clocks a step apart);
 * Real HTTP on loopback against real PostgreSQL (and PGlite where one connection suffices); time is
 * the servers' injected clocks; locks are real PostgreSQL locks.
 * Must never: weaken a check to pass, or print a key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret, type OtpParams } from '../../shared/otp';
import { putGroup, putMembership, putPerson } from '../../server/store/membership';
import { addThrottleCounts } from '../../server/store/codes';
import { migrate } from '../../server/store/migrate';
import { createVault, putRecord } from '../../server/store/sync';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

function totp(): OtpParams {
  return { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };
}

describe('two server processes with clocks a step apart do not reset each other\'s code counts', () => {
  let a: TestServer;
  let b: TestServer;
  let owner: Person;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entry = randomUUID();
  beforeAll(async () => {
    const db = await databases.open('postgres');
    a = await startTestServer(db);
    owner = await registerOwner(a);
    tech = await invitePerson(a, owner);
    b = await startTestServer(db, { keys: a.keys });
    await a.db.transaction(async (tx) => {
      await createVault(tx, vault, owner.user.id, a.clock.now());
      await putGroup(tx, vault, { groupId: group, keyVersion: 1, deleted: false });
      const vaultUser = randomUUID();
      await putPerson(tx, vault, { vaultUser, accountId: tech.user.id, role: 'technician', disabled: false });
      await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
      const body = { kind: 'entry', id: entry, revision: 1, base: 0, group, keyVersion: 1, deletedAt: null };
      await putRecord(tx, vault, { id: entry, kind: 'entry', revision: 1, seq: 1, body: JSON.stringify(body) }, owner.user.id);
    });
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const sealed = sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, totp());
    await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed }] });
  }, 120_000);
  afterAll(async () => {
    await b.close();
  });

  it('gives no more than five codes of the entry in a step, whichever process asks (the reviewer\'s proof)', async () => {
    // A is 10 ms before a step boundary, B 10 ms after it.
    const boundary = (Math.floor(a.clock.now() / 30_000) + 2) * 30_000;
    a.clock.advance(boundary - 10 - a.clock.now());
    b.clock.advance(boundary + 10 - b.clock.now());
    const viaB = new TestClient(b.url, tech.client.deviceId);
    viaB.tokens = tech.client.tokens;
    let given = 0;
    for (let i = 0; i < 20; i++) {
      const reply = await (i % 2 === 0 ? tech.client : viaB).call('codes', { vault, entry });
      if (reply.ok) given += 1;
    }
    // Five in the step before the boundary and five in the one after it at the very most.
    expect(given).toBeLessThanOrEqual(10);
  });
});

describe.each(DATABASE_KINDS)('the throttle\'s window only moves forward on %s', (kind) => {
  it('counts an older window\'s asks in the newer one held, and starts again only at a newer window', async () => {
    const db = await databases.open(kind);
    await migrate(db);
    const add = (window: number, n: number) => db.transaction((tx) => addThrottleCounts(tx, [{ actor: 'acct', key: 'k', window, add: n }]));
    expect((await add(10, 3)).get('acct|k')).toBe(3);
    expect((await add(11, 2)).get('acct|k')).toBe(2);
    // A process whose clock is behind: window 10 again, counted in 11 (never back to 10 from zero).
    expect((await add(10, 4)).get('acct|k')).toBe(6);
    expect((await add(11, 1)).get('acct|k')).toBe(7);
    const [row] = await db.query("SELECT window_start FROM code_throttle WHERE actor = 'acct' AND key = 'k'");
    expect(Number(row?.window_start)).toBe(11);
    expect((await add(12, 1)).get('acct|k')).toBe(1);
  });
});
