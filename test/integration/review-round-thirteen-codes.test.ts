/**
 * Review round thirteen (a), the probes of the codes-only promises (#15) that held, kept as
 * coverage: real HTTP on loopback to a real server on PGlite, its records pushed as a desktop pushes
 * them (signed: test/server/people.ts), sealed keys made with the desktop's own sealing.
 * - A snapshot already under way when its taker is revoked from a group (the group rotated past
 *   them) hands them nothing of that group on its later pages, nor does a pull from the start.
 * - The codes route across vaults (tenants) and automation tokens: a member of one vault's group
 *   gets no code naming another vault with that entry, nor another vault's entry naming theirs
 *   (one answer for both); a `codes` token limited to another vault, or without the scope, gets
 *   none; a token's code is audited with its step and its token; a token whose maker's vault user
 *   is disabled gets none at its next request.
 * Must never: print a key or a code, or sleep on the wall clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServerReply, SERVER_ROUTES } from '../../shared/api/server-contract';
import { encodeSecret, type OtpParams } from '../../shared/otp';
import type { ReplicaRecord } from '../../shared/sync/records';
import { text } from '../../server/store/db';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { useTestDatabases } from '../server/databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault, userRecord, vaultUsers } from '../server/people';
import { invitePerson, TestClient, type Person, type TestServer } from '../server/support';

const databases = useTestDatabases();

function totp(): OtpParams {
  return { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };
}

describe('a snapshot under way when its taker is revoked from a group', () => {
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ owner, people: { tech, other } } = await serverWithPeople(await databases.open('pglite'), ['tech', 'other']));
  }, 120_000);

  it('hands nothing of the group on the pages after the revoke, nor in a pull from the start', async () => {
    const w = twoGroupVault();
    const inG = Array.from({ length: 6 }, () => entryIn(w.u.owner, w.g));
    await owner.client.ok('syncPush', pushOf(w.vault, [...twoGroupRecords(w, { owner, tech, other }), ...inG]));
    const first = await tech.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0, limit: 2 });
    expect(first.more).toBe(true);
    // The owner revokes tech: G at version 2 without them (its entries as yet at version 1 on the server).
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }), memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, revoked: true, revision: 2 })]));
    const later: ReplicaRecord[] = [];
    let page = first;
    while (page.more) {
      page = await tech.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: page.after, upTo: first.upTo, limit: 2 });
      later.push(...page.records.map((r) => r.record));
    }
    expect(later.length).toBeGreaterThan(0);
    // Of G, only tech's own membership may still come (revoked: how their desktop learns it).
    const ofG = (records: readonly ReplicaRecord[]): string[] => records.flatMap((r) => (r.kind === 'entry' && r.group === w.g ? [r.id] : r.kind === 'member' && r.group === w.g ? [r.revoked && r.user === w.u.tech ? 'own revoke' : r.id] : []));
    expect(ofG(later).filter((id) => id !== 'own revoke')).toEqual([]);
    const pulled = await tech.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(ofG(pulled.records.map((r) => r.record))).toEqual(['own revoke']);
  });
});

describe('server-computed codes across vaults and through automation tokens', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let admin: Person;
  const a = { vault: randomBytes(16).toString('hex'), g: randomUUID(), u: { owner: randomUUID(), tech: randomUUID(), admin: randomUUID() } };
  const b = { vault: randomBytes(16).toString('hex'), g: randomUUID(), u: { owner: randomUUID(), tech: randomUUID() } };
  const entryA = entryIn(a.u.owner, a.g);
  const entryB = entryIn(b.u.owner, b.g);

  async function sealed(vault: string, entry: string, group: string): Promise<void> {
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed: sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, totp()) }] });
  }

  async function withToken(token: string, vault: string, entry: string): Promise<string> {
    const raw = await new TestClient(server.url).raw('POST', SERVER_ROUTES.codes.path, JSON.stringify({ vault, entry }), { authorization: `Bearer ${token}` });
    const reply = parseServerReply('codes', raw.body);
    return reply.ok ? 'a code' : reply.error.code;
  }

  beforeAll(async () => {
    ({ server, owner, people: { tech } } = await serverWithPeople(await databases.open('pglite'), ['tech']));
    // A server admin (who may make tokens) is codes-only in vault A's group, and in no group of vault B.
    admin = await invitePerson(server, owner, 'admin');
    await owner.client.ok('syncPush', pushOf(a.vault, [
      ...vaultUsers(a.u.owner, [[a.u.owner, 'owner', owner], [a.u.tech, 'technician', tech], [a.u.admin, 'codes_only', admin]]),
      groupRecord(a.u.owner, { id: a.g, keyVersion: 1, serverCodes: true }),
      memberRecord(a.u.owner, { group: a.g, user: a.u.tech, keyVersion: 1 }), memberRecord(a.u.owner, { group: a.g, user: a.u.admin, keyVersion: 1 }),
      entryA,
    ]));
    await owner.client.ok('syncPush', pushOf(b.vault, [
      ...vaultUsers(b.u.owner, [[b.u.owner, 'owner', owner], [b.u.tech, 'technician', tech]]),
      groupRecord(b.u.owner, { id: b.g, keyVersion: 1, serverCodes: true }), memberRecord(b.u.owner, { group: b.g, user: b.u.tech, keyVersion: 1 }),
      entryB,
    ]));
    await sealed(a.vault, entryA.id, a.g);
    await sealed(b.vault, entryB.id, b.g);
  }, 120_000);

  it('gives a member the code of their vault\'s entry only, one answer for another vault\'s entry either way', async () => {
    expect((await admin.client.ok('codes', { vault: a.vault, entry: entryA.id })).code).toMatch(/^\d{6}$/);
    const crossed = [
      await admin.client.fails('codes', { vault: b.vault, entry: entryA.id }),
      await admin.client.fails('codes', { vault: a.vault, entry: entryB.id }),
      await admin.client.fails('codes', { vault: b.vault, entry: entryB.id }),
    ];
    expect(new Set(crossed.map((f) => `${f.code}: ${f.message}`)).size).toBe(1);
    expect(crossed[0]?.code).toBe('FORBIDDEN');
  });

  it('gives a token a code only with the codes scope and for a vault it reaches, audited with its step and token, and none once its maker is disabled', async () => {
    await admin.client.login(admin.username, admin.password);
    const onlyB = (await admin.client.ok('tokenCreate', { name: 'codes of B', scopes: ['codes'], vaults: [b.vault], expiresInDays: 1 })).token;
    const pullOnly = (await admin.client.ok('tokenCreate', { name: 'pull', scopes: ['sync.pull'], expiresInDays: 1 })).token;
    const codes = (await admin.client.ok('tokenCreate', { name: 'codes', scopes: ['codes'], expiresInDays: 1 })).token;
    expect([await withToken(onlyB, a.vault, entryA.id), await withToken(pullOnly, a.vault, entryA.id), await withToken(codes, b.vault, entryB.id)]).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(await withToken(codes, a.vault, entryA.id)).toBe('a code');
    const [row] = await server.db.query(`SELECT actor_id, detail FROM server_audit WHERE kind = 'codes.computed' ORDER BY seq DESC LIMIT 1`);
    expect(text(row ?? {}, 'actor_id')).toBe(admin.user.id);
    expect(JSON.parse(text(row ?? {}, 'detail'))).toMatchObject({ vault: a.vault, entry: entryA.id, step: Math.floor(server.clock.now() / 30_000), token: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
    // The owner disables the admin's vault user in A: the token (and the session) get nothing at the next request.
    await owner.client.ok('syncPush', pushOf(a.vault, [userRecord(a.u.owner, { id: a.u.admin, role: 'codes_only', account: admin.user.id, revision: 2, disabled: true })]));
    expect(await withToken(codes, a.vault, entryA.id)).toBe('FORBIDDEN');
    expect(await admin.client.fails('codes', { vault: a.vault, entry: entryA.id })).toMatchObject({ code: 'FORBIDDEN' });
  });
});
