/**
 * Review round five (#15), the holes found in server-computed codes and sync push, fixed each as a
 * class, with the reviewer's proofs (each failed before its fix) and a case of our own per class:
 * - the codes limit's window only moves forward (two server processes with clocks a step apart);
 * - a code, or a seal, is decided in the transaction that commits it, under the vault's row a push
 *   takes: nothing is given or stored after the revoke that cut its asker off committed;
 * - what the server holds of a group is not told to someone who does not hold it (the codes route
 *   answers alike for no such entry and an entry of another group, sealed or not);
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
import { entryIn, groupRecord, memberRecord, pushOf, userRecord } from './people';
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

/** pg_advisory_xact_lock's key for audit appends (server/store/audit.ts). */
const AUDIT_LOCK = 0x61756474;

describe('nothing is given or stored after the revoke that cut its asker off committed', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let codesOnly: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open('postgres'));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner);
    codesOnly = await invitePerson(server, owner);
  }, 120_000);

  async function world() {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID(), codesOnly: randomUUID() };
    const g = randomUUID();
    const inG = entryIn(u.owner, g);
    await owner.client.ok('syncPush', pushOf(vault, [
      userRecord(u.owner, { id: u.owner, role: 'owner', account: owner.user.id }),
      userRecord(u.owner, { id: u.tech, role: 'technician', account: tech.user.id }),
      userRecord(u.owner, { id: u.codesOnly, role: 'codes_only', account: codesOnly.user.id }),
      groupRecord(u.owner, { id: g, keyVersion: 1 }),
      memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }), memberRecord(u.owner, { group: g, user: u.codesOnly, keyVersion: 1 }),
      inG,
    ]));
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const sealOf = () => sealCodeKeyForServer(key, { vault, entry: inG.id, group: g, keyVersion: 1 }, totp());
    await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry: inG.id, group: g, keyVersion: 1, sealed: sealOf() }] });
    return { vault, u, g, entry: inG.id, sealOf };
  }

  /**
   * Runs `ask` while another transaction holds the audit append lock (so the ask's transaction
   * waits there, after whatever it checked), then the owner's `revoke` push; the lock is let go once
   * the revoke either committed or waits on a lock itself. Returns whether the revoke had committed
   * before the ask could, and the ask's reply.
   */
  async function race<T>(ask: () => Promise<T>, revoke: () => Promise<unknown>): Promise<{ revokedFirst: boolean; asked: T }> {
    let letGo: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => { locked = resolve; });
    const holding = server.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      locked();
      await new Promise<void>((resolve) => { letGo = resolve; });
    });
    await isLocked;
    const asking = ask();
    const waiters = async (advisory: boolean): Promise<number> => {
      const [row] = await server.db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND (locktype = 'advisory') = $1`, [advisory]);
      return Number(row?.n ?? 0);
    };
    // The ask waits on the audit lock: it has checked whatever it checks before it writes.
    while (await waiters(true) !== 1) await new Promise<void>((resolve) => { setImmediate(resolve); });
    let revoked = false;
    const revoking = revoke().then(() => { revoked = true; });
    // The revoke either commits, or waits (on the vault's row the ask holds).
    while (!revoked && await waiters(false) === 0) await new Promise<void>((resolve) => { setImmediate(resolve); });
    const revokedFirst = revoked;
    letGo();
    await holding;
    const asked = await asking;
    await revoking;
    return { revokedFirst, asked };
  }

  it('refuses the code once the rotation without them has committed (the reviewer\'s proof, its wait kept to what holds)', async () => {
    const w = await world();
    // The owner revokes: G at version 2 without the codes-only member.
    const { revokedFirst, asked } = await race(
      () => codesOnly.client.call('codes', { vault: w.vault, entry: w.entry }),
      () => owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }), memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 2 })])),
    );
    // A code given at all was given before the revoke committed.
    expect(revokedFirst && asked.ok).toBe(false);
    expect(await codesOnly.client.fails('codes', { vault: w.vault, entry: w.entry })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('stores no seal from a technician whose revoke committed while it was in flight', async () => {
    const w = await world();
    const { revokedFirst, asked } = await race(
      () => tech.client.call('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', entry: w.entry, group: w.g, keyVersion: 1, sealed: w.sealOf() }] }),
      // The technician leaves: G at version 2 with the codes-only member alone (their seal would replace the one held).
      () => owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }), memberRecord(w.u.owner, { group: w.g, user: w.u.codesOnly, keyVersion: 2 })])),
    );
    expect(revokedFirst && asked.ok).toBe(false);
    const [row] = await server.db.query('SELECT sealed_by FROM server_code_keys WHERE vault_id = $1', [w.vault]);
    // Stored by the technician either way (their first seal, or this one before the revoke), never after it.
    expect(row?.sealed_by).toBe(tech.user.id);
    expect(await tech.client.fails('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', entry: w.entry, group: w.g, keyVersion: 1, sealed: w.sealOf() }] })).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe.each(DATABASE_KINDS)('the codes route tells a non-member nothing of a group\'s entries on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner);
    other = await invitePerson(server, owner);
  }, 120_000);

  it('answers alike for an entry of a group one does not hold, sealed or not, a deleted one, and none at all', async () => {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID(), other: randomUUID() };
    const [g, h] = [randomUUID(), randomUUID()];
    const inG = entryIn(u.owner, g, { revision: 7, base: 0 });
    const plain = entryIn(u.owner, g);
    const gone = entryIn(u.owner, g);
    await owner.client.ok('syncPush', pushOf(vault, [
      userRecord(u.owner, { id: u.owner, role: 'owner', account: owner.user.id }),
      userRecord(u.owner, { id: u.tech, role: 'technician', account: tech.user.id }),
      userRecord(u.owner, { id: u.other, role: 'technician', account: other.user.id }),
      groupRecord(u.owner, { id: g, keyVersion: 1 }), groupRecord(u.owner, { id: h, keyVersion: 1 }),
      memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }), memberRecord(u.owner, { group: h, user: u.other, keyVersion: 1 }),
      inG, plain, gone,
    ]));
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    for (const id of [inG.id, gone.id]) {
      const sealed = sealCodeKeyForServer(key, { vault, entry: id, group: g, keyVersion: 1 }, totp());
      await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry: id, group: g, keyVersion: 1, sealed }] });
    }
    await owner.client.ok('syncPush', pushOf(vault, [entryIn(u.owner, g, { id: gone.id, revision: 2, base: 1, deleted: true })]));
    // The reviewer's proof: an entry of G with a sealed key and one without answer alike to a non-member.
    const withSeal = await other.client.fails('codes', { vault, entry: inG.id });
    const withoutSeal = await other.client.fails('codes', { vault, entry: plain.id });
    expect(withSeal.code).toBe(withoutSeal.code);
    // And so do a deleted entry (its seal still held) and an id nobody used, for the member of G as for anyone.
    const answers = [withSeal, withoutSeal, await other.client.fails('codes', { vault, entry: gone.id }), await other.client.fails('codes', { vault, entry: randomUUID() }),
      await tech.client.fails('codes', { vault, entry: gone.id }), await tech.client.fails('codes', { vault, entry: randomUUID() })];
    expect(new Set(answers.map((a) => JSON.stringify([a.code, a.message]))).size).toBe(1);
    // The member still learns what is theirs to know: G's entry without a seal computes nothing here.
    expect(await tech.client.fails('codes', { vault, entry: plain.id })).toMatchObject({ code: 'NOT_FOUND' });
  });
});
