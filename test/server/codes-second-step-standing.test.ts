/**
 * Server-computed codes and the asker's second step (server/codes/batch.ts, server/auth/sessions.ts
 * secondStepStanding): the batch judges a session's second step again, in its own transaction, by the
 * rule every request's authentication applies, so a session whose second step no longer stands gets
 * the refusal an ended session gets (UNAUTHORIZED), no code, and nothing audited for it:
 *  - the MFA policy turned on after a password-only sign-in;
 *  - the trust of the device that excused the second step lapsed (the injected clock) or forgotten;
 * while a session with its second step done still gets its codes, and automation tokens (which have
 * no second step) are not judged by it. On PostgreSQL a trust forgotten in flight when the batch
 * starts is waited for and seen (the device rows held FOR SHARE), a device's removal, which deletes
 * its row and then its sessions, is waited for without a deadlock (devices held before sessions), and an
 * MFA policy change written and not yet committed is waited for and judged by (the policy held shared by
 * the batch, read in its next statement: store/mfa-policy.ts holdMfaPolicyForChange).
 * The interleaving is driven in order: the request is checked (authenticate, what the app does before
 * the handler), then the standing changes, then the ask goes into a batch (computeCode).
 * Real HTTP on loopback, real PostgreSQL and PGlite, real crypto; the server's clock is injected.
 * Must never: print a key, a code or a token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServerReply, SERVER_ROUTES, type MfaPolicyLevel } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { authenticate } from '../../server/auth/sessions';
import { computeCode } from '../../server/codes/service';
import { DEFAULT_THROTTLE_LIMITS, type ServerContext } from '../../server/context';
import { text, type Transaction } from '../../server/store/db';
import { forgetTrustedDevices } from '../../server/store/devices';
import { holdMfaPolicyForChange, mfaPolicySharedSql, readMfaPolicy, writeMfaPolicy } from '../../server/store/mfa-policy';
import { putMembership, putPerson } from '../../server/store/membership';
import { serverCodeEntries } from './code-servers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { sentWhileHeld } from './held-transaction';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const SOURCE = '127.0.0.1';
const MINUTE = 60_000;

/** The refusal's code of a direct computeCode, or 'ok' when it gave a code. */
async function outcomeOf(ask: Promise<unknown>): Promise<string> {
  try {
    await ask;
    return 'ok';
  } catch (error) {
    if (error instanceof CrewvaultError) return error.code;
    throw error;
  }
}

interface Setting {
  readonly server: TestServer;
  readonly owner: Person;
  /** An admin with an authenticator (signs in with a code; may make tokens), a technician of the group. */
  readonly tech: Person;
  readonly techSecret: string;
  /** A member with no authenticator (signs in with the password alone), a technician of the group. */
  readonly member: Person;
  readonly vault: string;
  readonly entries: readonly string[];
}

async function setting(server: TestServer): Promise<Setting> {
  const owner = await registerOwner(server);
  const tech = await invitePerson(server, owner, 'admin');
  const member = await invitePerson(server, owner, 'member');
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entries = [randomUUID(), randomUUID(), randomUUID()];
  await serverCodeEntries(server, owner, tech, vault, group, entries);
  await server.db.transaction(async (tx) => {
    const vaultUser = randomUUID();
    await putPerson(tx, vault, { vaultUser, accountId: member.user.id, role: 'technician', disabled: false });
    await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
  });
  const { secret } = await tech.client.ok('mfaEnrolStart', {});
  await tech.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
  return { server, owner, tech, techSecret: secret, member, vault, entries };
}

/** A server context of its own on the same database and clock, with limits no test here reaches. */
function contextOf(server: TestServer): ServerContext {
  return { db: server.db, keys: server.keys, now: server.clock.now, throttle: DEFAULT_THROTTLE_LIMITS, codeLimits: { perEntryStep: 1_000, perMinute: 10_000 } };
}

/** tech signed in on `client` with the password and an authenticator code (a fresh time step: a code is taken once). */
async function signInWithCode(s: Setting, client: TestClient): Promise<void> {
  s.server.clock.advance(30_000);
  expect((await client.login(s.tech.username, s.tech.password)).secondStep).toBe('code');
  expect(await client.ok('mfaVerify', { code: authenticatorCode(s.techSecret, s.server.clock.now()) })).toEqual({ secondStep: 'done' });
}

/** A device of tech's, trusted after a second step there; when its trust ends. */
async function trustedDevice(s: Setting): Promise<{ device: TestClient; trustedUntil: number }> {
  const device = new TestClient(s.server.url);
  await signInWithCode(s, device);
  const { trustedUntil } = await device.ok('deviceTrust', {});
  return { device, trustedUntil };
}

/** A new session of tech's on the trusted `device`, with the password alone (the trust excuses the code). */
async function passwordOnlyOn(s: Setting, device: TestClient): Promise<TestClient> {
  const again = new TestClient(s.server.url, device.deviceId, device.deviceToken);
  expect((await again.login(s.tech.username, s.tech.password)).secondStep).toBe('done');
  return again;
}

/** The owner sets one scope's MFA level (signed in afresh: taking a level away needs a recent sign-in). */
async function policy(s: Setting, scope: 'member' | 'admin', level: MfaPolicyLevel | null): Promise<void> {
  await s.owner.client.login(s.owner.username, s.owner.password);
  await s.owner.client.ok('mfaPolicySet', { scope, level });
}

async function computedCount(s: Setting, account: string): Promise<number> {
  const rows = await s.server.db.query(`SELECT 1 FROM server_audit WHERE kind = 'codes.computed' AND actor_id = $1`, [account]);
  return rows.length;
}

describe.each(DATABASE_KINDS)('codes: the asker\'s second step judged again in the batch, on %s', (kind) => {
  let s: Setting;
  const entry = (i: number): string => s.entries[i] ?? '';

  beforeAll(async () => {
    s = await setting(await startTestServer(await databases.open(kind)));
  }, 120_000);

  it('refuses a password-only session once the MFA policy turned on after its sign-in, and audits nothing for it', async () => {
    const ctx = contextOf(s.server);
    const client = new TestClient(s.server.url);
    expect((await client.login(s.member.username, s.member.password)).secondStep).toBe('done');
    const checked = await authenticate(ctx, client.tokens?.accessToken, client.deviceId);
    expect(checked.secondStep).toBe('done');
    // Control: checked, then asked, it gets its code.
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(0) }, SOURCE))).toBe('ok');
    const before = await computedCount(s, s.member.user.id);
    await policy(s, 'member', 'required');
    try {
      expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(0) }, SOURCE))).toBe('UNAUTHORIZED');
      expect(await computedCount(s, s.member.user.id)).toBe(before);
      // A fresh request of that session is asked to enrol first (authenticate: the same rule).
      expect(await client.fails('codes', { vault: s.vault, entry: entry(0) })).toMatchObject({ code: 'MFA_REQUIRED' });
    } finally {
      await policy(s, 'member', null);
    }
    // The policy taken away again: the same session stands again.
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(0) }, SOURCE))).toBe('ok');
  });

  it('refuses a session whose device\'s trust lapsed after its request was checked, and still gives codes to a session that did its second step', async () => {
    const ctx = contextOf(s.server);
    const { device, trustedUntil } = await trustedDevice(s);
    // Five minutes before the trust ends, a password-only sign-in on that device (its access token good for fifteen).
    s.server.clock.advance(trustedUntil - 5 * MINUTE - s.server.clock.now());
    const onTrust = await passwordOnlyOn(s, device);
    const checked = await authenticate(ctx, onTrust.tokens?.accessToken, onTrust.deviceId);
    expect(checked.secondStep).toBe('done');
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(1) }, SOURCE))).toBe('ok');
    const withCode = new TestClient(s.server.url);
    await signInWithCode(s, withCode);
    const done = await authenticate(ctx, withCode.tokens?.accessToken, withCode.deviceId);
    const before = await computedCount(s, s.tech.user.id);
    // Six minutes on: the trust has lapsed, the access token has not.
    s.server.clock.advance(trustedUntil + MINUTE - s.server.clock.now());
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(1) }, SOURCE))).toBe('UNAUTHORIZED');
    expect(await outcomeOf(computeCode(ctx, done, { vault: s.vault, entry: entry(1) }, SOURCE))).toBe('ok');
    expect(await computedCount(s, s.tech.user.id)).toBe(before + 1);
  });

  it('refuses a session whose device\'s trust was forgotten after its request was checked', async () => {
    const ctx = contextOf(s.server);
    const { device } = await trustedDevice(s);
    const onTrust = await passwordOnlyOn(s, device);
    const checked = await authenticate(ctx, onTrust.tokens?.accessToken, onTrust.deviceId);
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(2) }, SOURCE))).toBe('ok');
    // What an authenticator's removal or an admin's reset does to the person's devices (in their own transactions).
    expect(await s.server.db.transaction((tx) => forgetTrustedDevices(tx, s.tech.user.id, s.server.clock.now()))).toBe(1);
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: entry(2) }, SOURCE))).toBe('UNAUTHORIZED');
  });

  it('does not judge an automation token by a second step: its codes go on under a policy turned on after it was made', async () => {
    await signInWithCode(s, s.tech.client);
    const made = await s.tech.client.ok('tokenCreate', { name: `codes ${randomUUID()}`, scopes: ['codes'], vaults: [s.vault], expiresInDays: 7 });
    await policy(s, 'admin', 'required');
    try {
      const spec = SERVER_ROUTES.codes;
      const raw = await new TestClient(s.server.url).raw(spec.method, spec.path, JSON.stringify({ vault: s.vault, entry: entry(0) }), { authorization: `Bearer ${made.token}` });
      const reply = parseServerReply('codes', raw.body);
      expect(reply.ok ? 'ok' : reply.error.code).toBe('ok');
      // And tech's session, its second step done, still gets its codes over HTTP too.
      expect((await s.tech.client.call('codes', { vault: s.vault, entry: entry(0) })).ok).toBe(true);
    } finally {
      await policy(s, 'admin', null);
    }
  });
});

describe('codes: a trust forgotten, a device removed or the MFA policy changed, in flight when the batch starts, on PostgreSQL', () => {
  let s: Setting;

  beforeAll(async () => {
    s = await setting(await startTestServer(await databases.open('postgres')));
  }, 120_000);

  it('waits for a trust being forgotten and refuses the code once it is', async () => {
    const ctx = contextOf(s.server);
    const { device } = await trustedDevice(s);
    const onTrust = await passwordOnlyOn(s, device);
    const checked = await authenticate(ctx, onTrust.tokens?.accessToken, onTrust.deviceId);
    const asked = await sentWhileHeld(
      s.server.db,
      async (tx) => { expect(await forgetTrustedDevices(tx, s.tech.user.id, s.server.clock.now())).toBe(1); },
      () => outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: s.entries[0] ?? '' }, SOURCE)),
    );
    expect(asked).toBe('UNAUTHORIZED');
  });

  it('waits for an MFA policy change under way and judges by it once it commits, asked in process and over HTTP', async () => {
    const ctx = contextOf(s.server);
    const client = new TestClient(s.server.url);
    expect((await client.login(s.member.username, s.member.password)).secondStep).toBe('done');
    const checked = await authenticate(ctx, client.tokens?.accessToken, client.deviceId);
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: s.entries[2] ?? '' }, SOURCE))).toBe('ok');
    const before = await computedCount(s, s.member.user.id);
    // What setPolicy does first (auth/mfa-policy.ts), held open: the level written, not yet committed. Before the batch
    // held the policy, it read the level as it stood (not yet required) and gave the code while the change committed.
    const changing = async (tx: Transaction): Promise<void> => {
      await holdMfaPolicyForChange(tx);
      await writeMfaPolicy(tx, 'member', 'required');
    };
    try {
      expect(await sentWhileHeld(s.server.db, changing, () => outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: s.entries[2] ?? '' }, SOURCE)))).toBe('UNAUTHORIZED');
      await policy(s, 'member', null);
      // Over HTTP the batch is the request's authentication: the answer a fresh request gets, asked to enrol first.
      const asked = await sentWhileHeld(s.server.db, changing, async () => {
        const reply = await client.call('codes', { vault: s.vault, entry: s.entries[2] ?? '' });
        return reply.ok ? 'ok' : reply.error.code;
      });
      expect(asked).toBe('MFA_REQUIRED');
      expect(await computedCount(s, s.member.user.id)).toBe(before);
    } finally {
      await policy(s, 'member', null);
    }
    expect(await outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: s.entries[2] ?? '' }, SOURCE))).toBe('ok');
  });

  it('has a policy change wait for a batch holding the policy: its codes were given under the policy before', async () => {
    await s.owner.client.login(s.owner.username, s.owner.password);
    const level = async (): Promise<string | null> => (await readMfaPolicy(s.server.db)).roles.member;
    expect(await level()).toBe(null);
    let meanwhile: string | null | undefined;
    // The hold a codes batch takes (store/codes.ts holdVaultsAndAskers), in a transaction kept open: the change waits.
    await sentWhileHeld(
      s.server.db,
      async (tx) => { await tx.query(`SELECT 1 FROM (${mfaPolicySharedSql('true')}) held`); },
      () => s.owner.client.ok('mfaPolicySet', { scope: 'member', level: 'required' }),
      async () => { meanwhile = await level(); },
    );
    try {
      expect(meanwhile).toBe(null);
      expect(await level()).toBe('required');
    } finally {
      await policy(s, 'member', null);
    }
  });

  it('holds a session\'s device row before the session: a removal that deleted the device and then deletes its sessions is waited for, not deadlocked', async () => {
    const ctx = contextOf(s.server);
    const { device } = await trustedDevice(s);
    const onTrust = await passwordOnlyOn(s, device);
    const checked = await authenticate(ctx, onTrust.tokens?.accessToken, onTrust.deviceId);
    // The two deletes of store/devices.ts removeDevice, in its order, with the batch sent between them.
    const asked = await sentWhileHeld(
      s.server.db,
      async (tx) => { await tx.query('DELETE FROM devices WHERE user_id = $1 AND device_id = $2', [s.tech.user.id, device.deviceId]); },
      () => outcomeOf(computeCode(ctx, checked, { vault: s.vault, entry: s.entries[1] ?? '' }, SOURCE)),
      async (tx) => { await tx.query('DELETE FROM sessions WHERE user_id = $1 AND device_id = $2', [s.tech.user.id, device.deviceId]); },
    );
    expect(asked).toBe('UNAUTHORIZED');
    const left = await s.server.db.query('SELECT id FROM sessions WHERE user_id = $1 AND device_id = $2', [s.tech.user.id, device.deviceId]);
    expect(left.map((row) => text(row, 'id'))).toEqual([]);
  });
});
