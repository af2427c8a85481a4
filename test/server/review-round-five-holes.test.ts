/**
 * Review round five (#15), the holes found in server-computed codes and sync push, fixed each as a
 * class, with the reviewer's proofs (each failed before its fix) and a case of our own per class:
 * - the codes limit's window only moves forward (two server processes with clocks a step apart);
 * - a code, or a seal, is decided in the transaction that commits it, under the vault's row a push
 *   takes: nothing is given or stored after the revoke that cut its asker off committed;
 * - what the server holds of a group is not told to someone who does not hold it (the codes route
 *   answers alike for no such entry and an entry of another group, sealed or not; a push under an
 *   entry's id tells not its revision);
 * - "server computes codes" travels in the signed group record and the server enforces it: only
 *   owners and admins change it, seals only for groups set so, dropped when it goes off (not on a
 *   desktop's say-so), no secret key wrapped for a codes-only member there.
 * Real HTTP on loopback against real PostgreSQL (and PGlite where one connection suffices); time is
 * the servers' injected clocks; locks are real PostgreSQL locks.
 * Must never: weaken a check to pass, or print a key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret, type OtpParams } from '../../shared/otp';
import type { CustomerRecord } from '../../shared/sync/records';
import { text } from '../../server/store/db';
import { addThrottleCounts } from '../../server/store/codes';
import { migrate } from '../../server/store/migrate';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { serverCodeEntries, twoServerProcesses } from './code-servers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault, userRecord, vaultUsers } from './people';
import { TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const b64 = (value: string): string => Buffer.from(value).toString('base64url');

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
    ({ a, b, owner, tech } = await twoServerProcesses(await databases.open('postgres')));
    await serverCodeEntries(a, owner, tech, vault, group, [entry]);
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
    ({ server, owner, people: { tech, codesOnly } } = await serverWithPeople(await databases.open('postgres'), ['tech', 'codesOnly']));
  }, 120_000);

  async function world() {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID(), codesOnly: randomUUID() };
    const g = randomUUID();
    const inG = entryIn(u.owner, g);
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.tech, 'technician', tech], [u.codesOnly, 'codes_only', codesOnly]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
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

describe.each(DATABASE_KINDS)('a member of another group (one server, its owner, tech in G and other in H) on %s', (kind) => {
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  describe(`the codes route tells a non-member nothing of a group's entries on ${kind}`, () => {
    it('answers alike for an entry of a group one does not hold, sealed or not, a deleted one, and none at all', async () => {
      const w = twoGroupVault();
      const { vault, u, g } = w;
      const inG = entryIn(u.owner, g, { revision: 7, base: 0 });
      const plain = entryIn(u.owner, g);
      const gone = entryIn(u.owner, g);
      await owner.client.ok('syncPush', pushOf(vault, [...twoGroupRecords(w, { owner, tech, other }, { serverCodes: true }), inG, plain, gone]));
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

  describe(`a push's reply tells nothing of a group the pusher does not hold on ${kind}`, () => {
    it('answers a record pushed under an entry\'s or a membership\'s id of a group one does not hold without its revision', async () => {
      const w = twoGroupVault();
      const { vault, u, g } = w;
      const inG = entryIn(u.owner, g, { revision: 7, base: 0 });
      const techInG = memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1, revision: 9 });
      await owner.client.ok('syncPush', pushOf(vault, [...twoGroupRecords(w, { owner, tech, other }, { techInG }), inG]));
      const customerAs = (id: string): CustomerRecord => ({
        kind: 'customer', id, revision: 1, base: 0, sealedName: b64('name'), nameIndex: b64('index'), createdAt: 1, author: u.other, signerKey: u.other, signature: b64('sig'),
      });
      // The reviewer's proof: the member of H pushes a customer record under G's entry id.
      const probe = await other.client.call('syncPush', pushOf(vault, [customerAs(inG.id)]));
      expect(JSON.stringify(probe)).not.toContain('"revision":7');
      expect(probe.ok && probe.value.conflicts.length).not.toBe(1);
      // And under the id of the technician's membership of G (anyone can work it out from the two ids).
      const ofMember = await other.client.call('syncPush', pushOf(vault, [customerAs(techInG.id)]));
      expect(JSON.stringify(ofMember)).not.toContain('"revision":9');
      expect(ofMember).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      // Nothing was stored by either; the technician, who holds G, is told the conflict as before.
      expect(await tech.client.ok('syncPush', pushOf(vault, [{ ...customerAs(techInG.id), author: u.tech, signerKey: u.tech }]))).toMatchObject({ accepted: 0, conflicts: [{ id: techInG.id, revision: 9 }] });
    });
  });
});

describe.each(DATABASE_KINDS)('"server computes codes" is the group record\'s, and the server holds to it, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let admin: Person;
  let lead: Person;
  let tech: Person;
  let codesOnly: Person;
  beforeAll(async () => {
    ({ server, owner, people: { admin, lead, tech, codesOnly } } = await serverWithPeople(await databases.open(kind), ['admin', 'lead', 'tech', 'codesOnly']));
  }, 120_000);

  async function world() {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), admin: randomUUID(), lead: randomUUID(), tech: randomUUID(), codesOnly: randomUUID() };
    const g = randomUUID();
    const inG = entryIn(u.owner, g);
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.admin, 'admin', admin], [u.lead, 'team_lead', lead], [u.tech, 'technician', tech], [u.codesOnly, 'codes_only', codesOnly]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      memberRecord(u.owner, { group: g, user: u.lead, keyVersion: 1, lead: true }), memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }),
      memberRecord(u.owner, { group: g, user: u.codesOnly, keyVersion: 1 }),
      inG,
    ]));
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const sealOf = () => sealCodeKeyForServer(key, { vault, entry: inG.id, group: g, keyVersion: 1 }, totp());
    const seal = (by: Person) => by.client.call('codesSeal', { vault, records: [{ kind: 'server_code', entry: inG.id, group: g, keyVersion: 1, sealed: sealOf() }] });
    return { vault, u, g, entry: inG.id, seal };
  }

  it('keeps the seals when a technician\'s desktop, not knowing the setting, says the group is off (the reviewer\'s proof)', async () => {
    const w = await world();
    expect(await w.seal(owner)).toMatchObject({ ok: true });
    expect((await codesOnly.client.ok('codes', { vault: w.vault, entry: w.entry })).code).toMatch(/^\d{6}$/);
    // What a technician's desktop sends on its first hand-over: the setting never reached its vault.
    expect(await tech.client.ok('codesSeal', { vault: w.vault, records: [], groupsOff: [w.g] })).toMatchObject({ removed: 0 });
    expect((await codesOnly.client.ok('codes', { vault: w.vault, entry: w.entry })).code).toMatch(/^\d{6}$/);
  });

  it('lets only owners and admins change it; off by the group\'s record drops its seals, and none is taken while it is off', async () => {
    const w = await world();
    expect(await w.seal(tech)).toMatchObject({ ok: true });
    // The group's lead manages it (may rotate, grant), but the setting is not theirs.
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [groupRecord(w.u.lead, { id: w.g, keyVersion: 1, revision: 2, serverCodes: false })]))).toMatchObject({ code: 'FORBIDDEN' });
    // A lead's record that leaves the setting as it is (a rotation) goes through.
    expect(await lead.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.lead, { id: w.g, keyVersion: 1, revision: 2, serverCodes: true })]))).toMatchObject({ accepted: 1 });
    expect((await codesOnly.client.ok('codes', { vault: w.vault, entry: w.entry })).code).toMatch(/^\d{6}$/);
    // An admin turns it off: the seals go with the record, audited; a seal is then refused, and codes are none.
    await admin.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.admin, { id: w.g, keyVersion: 1, revision: 3, serverCodes: false })]));
    expect(await codesOnly.client.fails('codes', { vault: w.vault, entry: w.entry })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await server.db.query('SELECT 1 FROM server_code_keys WHERE vault_id = $1', [w.vault])).toHaveLength(0);
    const audited = await server.db.query("SELECT actor_id, detail FROM server_audit WHERE kind = 'codes.key-removed' AND detail LIKE $1", [`%${w.vault}%`]);
    expect(audited.map((row) => [text(row, 'actor_id'), (JSON.parse(text(row, 'detail')) as { keys: number }).keys])).toEqual([[admin.user.id, 1]]);
    expect(await w.seal(tech)).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    // A new group the lead makes cannot start with it on either.
    const mine = randomUUID();
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [groupRecord(w.u.lead, { id: mine, keyVersion: 1, serverCodes: true })]))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a member record that wraps the secret key for a codes-only member of a group set so, and only there', async () => {
    const w = await world();
    const withSecret = (user: string, group: string, keyVersion: number, revision: number) => ({ ...memberRecord(w.u.owner, { group, user, keyVersion, revision }), wrappedSecretKey: Buffer.from(`secret for ${user}`).toString('base64url') });
    // An owner's desktop that does not know the setting re-wraps the group at a rotation for everyone, the secret key too.
    const rotation = [groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }), withSecret(w.u.tech, w.g, 2, 2), withSecret(w.u.codesOnly, w.g, 2, 2), memberRecord(w.u.owner, { group: w.g, user: w.u.lead, keyVersion: 2, lead: true })];
    expect(await owner.client.fails('syncPush', pushOf(w.vault, rotation))).toMatchObject({ code: 'FORBIDDEN' });
    // Nothing of it was stored: the group is still at version 1.
    const version = async (group: string) => Number((await server.db.query('SELECT key_version FROM sync_groups WHERE vault_id = $1 AND group_id = $2', [w.vault, group]))[0]?.key_version);
    expect(await version(w.g)).toBe(2 - 1);
    // The same rotation with the list key alone for them is stored (a technician keeps the secret key).
    const fixed = [rotation[0], rotation[1], memberRecord(w.u.owner, { group: w.g, user: w.u.codesOnly, keyVersion: 2, revision: 2 }), rotation[3]].flatMap((r) => (r === undefined ? [] : [r]));
    expect(await owner.client.ok('syncPush', pushOf(w.vault, fixed))).toMatchObject({ accepted: 4 });
    expect(await version(w.g)).toBe(2);
    // In a group without the setting, the codes-only member's secret key is theirs to hold.
    const plain = randomUUID();
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: plain, keyVersion: 1, serverCodes: false }), withSecret(w.u.codesOnly, plain, 1, 1)]))).toMatchObject({ accepted: 2 });
    // Turning that group on without the rotation that takes the secret key back from them is refused;
    // with it (a new version, the codes-only member wrapped the list key alone), it is stored.
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: plain, keyVersion: 1, revision: 2, serverCodes: true })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [
      groupRecord(w.u.owner, { id: plain, keyVersion: 2, revision: 2, serverCodes: true }), memberRecord(w.u.owner, { group: plain, user: w.u.codesOnly, keyVersion: 2, revision: 2 }),
    ]))).toMatchObject({ accepted: 2 });
    // A technician holding G's secret key made codes-only without re-wrapping is refused too.
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.tech, role: 'codes_only', account: null, revision: 2 })]))).toMatchObject({ code: 'FORBIDDEN' });
  });
});
