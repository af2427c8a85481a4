/**
 * Server-computed codes (#15) over real HTTP on PostgreSQL and on PGlite: a technician of a group
 * hands the server an entry's TOTP key sealed to its code key (the desktop's own sealing code,
 * electron/team/server-codes.ts); a codes-only member of the group then gets the current code and
 * the next, which oathtool (another implementation, fed the test's own key on stdin) computes too,
 * for SHA-1/6 digits and SHA-256/8 digits/60 s. Refused: a non-member, a revoked member, a role
 * without otp.view (auditor), an automation token without the `codes` scope, a codes-only member
 * handing a key over, a seal made for another entry, a seal under an old key version, an entry
 * deleted or moved on the server (before any tombstone of its key). The limit per
 * entry per step holds and starts again at the next step; each code given is one audit row naming
 * its step, and the audit chain still verifies. The database holds no key in plain.
 *
 * The code key's file: made once (0600), the same key at the next start, refused when others may read
 * it, and made beside a key file from before server-computed codes without touching that file.
 *
 * Membership is set up through the server's membership store (server/store/membership.ts) and the
 * entries through the sync store: this file tests the codes, not how membership travels.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServerReply, SERVER_ROUTES } from '../../shared/api/server-contract';
import { encodeSecret, type OtpParams } from '../../shared/otp';
import { verifyAudit } from '../../server/audit';
import { loadOrCreateServerKeys, SERVER_CODE_KEY_FILE, SERVER_KEYS_FILE } from '../../server/keys';
import { openSealedCodeKey } from '../../server/codes/sealed-box';
import { setServerCodeGroup } from '../../server/store/codes';
import { text } from '../../server/store/db';
import { dropMembership, putGroup, putMembership, putPerson } from '../../server/store/membership';
import { createVault, putRecord } from '../../server/store/sync';
import { sealCodeKeyForServer, serverCodeKeyFingerprint, serverCodePublicKey } from '../../electron/team/server-codes';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** What oathtool says for `secret` at `nowMs`: the current code and the next (the key goes on stdin, never in the arguments). */
function oathtool(secret: string, nowMs: number, options: { algorithm?: 'sha1' | 'sha256'; digits?: number; period?: number } = {}): [string, string] {
  const at = new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const out = execFileSync('oathtool', [
    `--totp=${options.algorithm ?? 'sha1'}`, '-b', `--digits=${options.digits ?? 6}`, `--time-step-size=${options.period ?? 30}s`, '--now', at, '-w', '1', '-',
  ], { input: secret, encoding: 'utf8' });
  const [code, next] = out.trim().split('\n');
  if (code === undefined || next === undefined) throw new Error('oathtool printed no codes');
  return [code, next];
}

function totp(secret: string, overrides: Partial<OtpParams> = {}): OtpParams {
  return { kind: 'totp', secret, algorithm: 'SHA1', digits: 6, period: 30, counter: 0, ...overrides };
}

describe('the server\'s code key file', () => {
  it('is made once, 0600, read back as the same key, refused when others may read it, and added beside an older key file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crewvault-code-key-'));
    try {
      const first = await loadOrCreateServerKeys(dir);
      const file = path.join(dir, SERVER_CODE_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.keys.codeKeys.current.privateKey.asymmetricKeyType).toBe('x25519');
      // The ring reads its file again when it is replaced (a rotation), so keep the key as it was now.
      const firstKey = first.keys.codeKeys.current.publicKey;
      const again = await loadOrCreateServerKeys(dir);
      expect(again.keys.codeKeys.current.publicKey.equals(firstKey)).toBe(true);
      chmodSync(file, 0o640);
      await expect(loadOrCreateServerKeys(dir)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // A server whose key file predates server-computed codes: a code key is made, its other keys stay.
      const mainKeys = readFileSync(path.join(dir, SERVER_KEYS_FILE), 'utf8');
      unlinkSync(file);
      const upgraded = await loadOrCreateServerKeys(dir);
      expect(readFileSync(path.join(dir, SERVER_KEYS_FILE), 'utf8')).toBe(mainKeys);
      expect(upgraded.keys.auditPublicKey.equals(first.keys.auditPublicKey)).toBe(true);
      expect(upgraded.keys.codeKeys.current.publicKey.equals(firstKey)).toBe(false);
      expect((await loadOrCreateServerKeys(dir)).keys.codeKeys.current.publicKey.equals(upgraded.keys.codeKeys.current.publicKey)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(DATABASE_KINDS)('server-computed codes on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let codesOnly: Person;
  let outsider: Person;
  let auditor: Person;
  let revoked: Person;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const otherGroup = randomUUID();
  const entry = randomUUID();
  const wideEntry = randomUUID();
  const secret = encodeSecret(randomBytes(20));
  const wideSecret = encodeSecret(randomBytes(32));
  let seq = 0;

  async function addEntry(id: string, inGroup: string, keyVersion = 1): Promise<void> {
    seq += 1;
    const body = { kind: 'entry', id, revision: 1, base: 0, group: inGroup, keyVersion, deletedAt: null };
    await server.db.transaction((tx) => putRecord(tx, vault, { id, kind: 'entry', revision: 1, seq, body: JSON.stringify(body) }, owner.user.id));
  }

  async function seal(by: Person, id: string, params: OtpParams, binding: { entry?: string; group?: string; keyVersion?: number } = {}) {
    const key = serverCodePublicKey((await by.client.ok('codesKey', undefined)).publicKey);
    const sealed = sealCodeKeyForServer(key, { vault, entry: binding.entry ?? id, group: binding.group ?? group, keyVersion: binding.keyVersion ?? 1 }, params);
    return by.client.call('codesSeal', { vault, records: [{ kind: 'server_code', entry: id, group: binding.group ?? group, keyVersion: binding.keyVersion ?? 1, sealed }] });
  }

  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    const people = await Promise.all([invitePerson(server, owner), invitePerson(server, owner), invitePerson(server, owner), invitePerson(server, owner), invitePerson(server, owner)]);
    [tech, codesOnly, outsider, auditor, revoked] = people;
    await server.db.transaction(async (tx) => {
      await createVault(tx, vault, owner.user.id, server.clock.now());
      const roles: Array<[Person, string, boolean]> = [
        [owner, 'owner', false], [tech, 'technician', true], [codesOnly, 'codes_only', true], [outsider, 'technician', false], [auditor, 'auditor', true], [revoked, 'codes_only', true],
      ];
      await putGroup(tx, vault, { groupId: group, keyVersion: 1, deleted: false });
      await putGroup(tx, vault, { groupId: otherGroup, keyVersion: 1, deleted: false });
      // As the group's record from an owner's desktop says (schema 16): the server takes keys only for such groups.
      await setServerCodeGroup(tx, vault, group, true);
      for (const [person, role, member] of roles) {
        const vaultUser = randomUUID();
        await putPerson(tx, vault, { vaultUser, accountId: person.user.id, role, disabled: false });
        if (member) await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
        // The outsider holds another group: a technician, just not of this one.
        if (person === outsider) await putMembership(tx, vault, { groupId: otherGroup, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
      }
    });
    await addEntry(entry, group);
    await addEntry(wideEntry, group);
  }, 120_000);

  it('publishes the code key with its fingerprint', async () => {
    const published = await new TestClient(server.url).ok('codesKey', undefined);
    expect(published.fingerprint).toBe(serverCodeKeyFingerprint(serverCodePublicKey(published.publicKey)));
    expect(published.fingerprint).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    expect(serverCodePublicKey(published.publicKey).equals(server.keys.codeKeys.current.publicKey)).toBe(true);
  });

  it('gives a codes-only member the code and the next, as oathtool computes them, audited with the step', async () => {
    expect(await seal(tech, entry, totp(secret))).toMatchObject({ ok: true, value: { stored: 1, removed: 0 } });
    expect(await seal(tech, wideEntry, totp(wideSecret, { algorithm: 'SHA256', digits: 8, period: 60 }))).toMatchObject({ ok: true });
    server.clock.advance(7_000);
    const now = server.clock.now();
    const got = await codesOnly.client.ok('codes', { vault, entry });
    const [code, next] = oathtool(secret, now);
    expect(got).toEqual({ code, next, period: 30, step: Math.floor(now / 30_000), expiresAt: (Math.floor(now / 30_000) + 1) * 30_000 });
    const wide = await codesOnly.client.ok('codes', { vault, entry: wideEntry });
    const [wideCode, wideNext] = oathtool(wideSecret, now, { algorithm: 'sha256', digits: 8, period: 60 });
    expect(wide).toMatchObject({ code: wideCode, next: wideNext, period: 60, step: Math.floor(now / 60_000) });
    const rows = await server.db.query(`SELECT actor_id, detail FROM server_audit WHERE kind = 'codes.computed' ORDER BY seq`);
    expect(rows.map((r) => [text(r, 'actor_id'), JSON.parse(text(r, 'detail')) as unknown])).toEqual([
      [codesOnly.user.id, { entry, step: Math.floor(now / 30_000), vault }],
      [codesOnly.user.id, { entry: wideEntry, step: Math.floor(now / 60_000), vault }],
    ]);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
    // The database alone holds no key: the seal, not the base32.
    const dump = await server.db.query('SELECT row_to_json(k)::text AS r FROM server_code_keys k');
    expect(dump).toHaveLength(2);
    for (const row of dump) {
      expect(text(row, 'r')).not.toContain(secret);
      expect(text(row, 'r')).not.toContain(wideSecret);
    }
  });

  it('refuses a non-member, a role without otp.view and a revoked member', async () => {
    expect(await outsider.client.fails('codes', { vault, entry })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await auditor.client.fails('codes', { vault, entry })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect((await revoked.client.ok('codes', { vault, entry })).code).toMatch(/^\d{6}$/);
    await server.db.transaction(async (tx) => {
      const [row] = await tx.query('SELECT vault_user FROM sync_people WHERE vault_id = $1 AND account_id = $2', [vault, revoked.user.id]);
      await dropMembership(tx, vault, group, text(row ?? {}, 'vault_user'));
    });
    expect(await revoked.client.fails('codes', { vault, entry })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('lets only those who may edit the entry hand its key over, and only sealed for that very entry', async () => {
    expect(await seal(codesOnly, entry, totp(secret))).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await seal(outsider, entry, totp(secret))).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // Sealed for `entry`, handed over as `wideEntry`'s: it does not open under the other id.
    expect(await seal(tech, wideEntry, totp(secret), { entry })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const sealed = sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, totp(secret));
    const open = (binding: { entry: string; group: string; keyVersion: number; vault: string }) => openSealedCodeKey(server.keys.codeKeys.current.privateKey, server.keys.codeKeys.current.publicKey, binding, sealed);
    expect(open({ vault, entry, group, keyVersion: 1 })?.secret).toBe(secret);
    expect(open({ vault, entry: wideEntry, group, keyVersion: 1 })).toBeUndefined();
    expect(open({ vault, entry, group: otherGroup, keyVersion: 1 })).toBeUndefined();
    expect(open({ vault, entry, group, keyVersion: 2 })).toBeUndefined();
    expect(open({ vault: randomBytes(16).toString('hex'), entry, group, keyVersion: 1 })).toBeUndefined();
    // Claiming another group than the entry's on the server: one it may edit, the entry's it may not (told as no entry at all: review 13a hole 4).
    expect(await seal(outsider, entry, totp(secret), { group: otherGroup })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // HOTP stays with key holders.
    expect(() => sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, { ...totp(secret), kind: 'hotp' })).toThrow(/time-based codes only/);
    // The stored key is still the first one: every refusal changed nothing.
    expect((await codesOnly.client.ok('codes', { vault, entry })).code).toBe(oathtool(secret, server.clock.now())[0]);
  });

  it('reaches an automation token only with the codes scope', async () => {
    await owner.client.login(owner.username, owner.password);
    const pull = (await owner.client.ok('tokenCreate', { name: 'pull', scopes: ['sync.pull'], expiresInDays: 1 })).token;
    const codes = (await owner.client.ok('tokenCreate', { name: 'codes', scopes: ['codes'], vaults: [vault], expiresInDays: 1 })).token;
    const withToken = async (token: string) => {
      const raw = await new TestClient(server.url).raw('POST', SERVER_ROUTES.codes.path, JSON.stringify({ vault, entry }), { authorization: `Bearer ${token}` });
      return { ...parseServerReply('codes', raw.body), status: raw.status };
    };
    expect(await withToken(pull)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' }, status: 403 });
    const got = await withToken(codes);
    expect(got).toMatchObject({ ok: true, value: { code: oathtool(secret, server.clock.now())[0] } });
    const [row] = await server.db.query(`SELECT actor_id, detail FROM server_audit WHERE kind = 'codes.computed' ORDER BY seq DESC LIMIT 1`);
    expect(JSON.parse(text(row ?? {}, 'detail'))).toMatchObject({ entry, token: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
    expect(text(row ?? {}, 'actor_id')).toBe(owner.user.id);
  });

  it('holds its limit per entry per time step, and starts again at the next step', async () => {
    server.clock.advance(30_000);
    const asks = await Promise.all(Array.from({ length: 8 }, () => tech.client.call('codes', { vault, entry })));
    expect(asks.filter((a) => a.ok)).toHaveLength(5);
    const refused = asks.filter((a) => !a.ok);
    expect(refused).toHaveLength(3);
    for (const a of refused) expect(a).toMatchObject({ ok: false, status: 429, error: { code: 'TOO_MANY_ATTEMPTS' } });
    server.clock.advance(30_000);
    expect((await tech.client.ok('codes', { vault, entry })).code).toBe(oathtool(secret, server.clock.now())[0]);
    const step = Math.floor(server.clock.now() / 30_000);
    const audited = await server.db.query(`SELECT detail FROM server_audit WHERE kind = 'codes.computed' AND actor_id = $1 ORDER BY seq`, [tech.user.id]);
    // Five codes in the step before, one in this: refused asks are not codes given.
    expect(audited.map((r) => (JSON.parse(text(r, 'detail')) as { step: number }).step)).toEqual([step - 1, step - 1, step - 1, step - 1, step - 1, step]);
  });

  it('computes nothing for an entry deleted or moved on the server, before any tombstone of its key', async () => {
    const gone = randomUUID();
    await addEntry(gone, group);
    expect(await seal(tech, gone, totp(secret))).toMatchObject({ ok: true });
    expect((await codesOnly.client.ok('codes', { vault, entry: gone })).code).toMatch(/^\d{6}$/);
    seq += 1;
    const tombstone = { kind: 'entry', id: gone, revision: 2, base: 1, group, keyVersion: 1, deletedAt: 5 };
    await server.db.transaction((tx) => putRecord(tx, vault, { id: gone, kind: 'entry', revision: 2, seq, body: JSON.stringify(tombstone) }, owner.user.id));
    // A deleted entry is answered as one of a group the asker does not hold (neither tells the other).
    expect(await codesOnly.client.fails('codes', { vault, entry: gone })).toMatchObject({ code: 'FORBIDDEN' });
    seq += 1;
    const moved = { kind: 'entry', id: gone, revision: 3, base: 2, group: otherGroup, keyVersion: 1, deletedAt: null };
    await server.db.transaction((tx) => putRecord(tx, vault, { id: gone, kind: 'entry', revision: 3, seq, body: JSON.stringify(moved) }, owner.user.id));
    expect(await outsider.client.fails('codes', { vault, entry: gone })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a seal under a key version the group has left, removes a key on a tombstone and a group\'s keys when it is turned off', async () => {
    await server.db.transaction((tx) => putGroup(tx, vault, { groupId: group, keyVersion: 2, deleted: false }));
    expect(await codesOnly.client.fails('codes', { vault, entry })).toMatchObject({ code: 'CONFLICT' });
    await server.db.transaction((tx) => putGroup(tx, vault, { groupId: group, keyVersion: 1, deleted: false }));
    expect(await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed: null }] })).toEqual({ stored: 0, removed: 1 });
    expect(await codesOnly.client.fails('codes', { vault, entry })).toMatchObject({ code: 'NOT_FOUND' });
    const [removed] = await server.db.query(`SELECT actor_id FROM server_audit WHERE kind = 'codes.key-removed'`);
    expect(text(removed ?? {}, 'actor_id')).toBe(tech.user.id);
    // A group turned off: every key of it goes, asked by someone who may edit there; anyone else's ask is left alone,
    // and so is anyone's while the server holds the group's record as on (a desktop that does not know the setting).
    expect(await seal(tech, entry, totp(secret))).toMatchObject({ ok: true });
    expect(await codesOnly.client.ok('codesSeal', { vault, records: [], groupsOff: [group] })).toEqual({ stored: 0, removed: 0 });
    expect(await tech.client.ok('codesSeal', { vault, records: [], groupsOff: [group] })).toEqual({ stored: 0, removed: 0 });
    expect((await codesOnly.client.ok('codes', { vault, entry })).code).toMatch(/^\d{6}$/);
    // Off on the server (its record said so; keys left from before schema 16 stay until someone asks).
    await server.db.transaction((tx) => setServerCodeGroup(tx, vault, group, false));
    expect(await codesOnly.client.fails('codes', { vault, entry })).toMatchObject({ code: 'NOT_FOUND' });
    // Three keys of the group (two entries, and the stale one of the entry moved out above); none of
    // otherGroup, where tech is no member.
    expect(await tech.client.ok('codesSeal', { vault, records: [], groupsOff: [group, otherGroup] })).toEqual({ stored: 0, removed: 3 });
    expect(await codesOnly.client.fails('codes', { vault, entry })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await codesOnly.client.fails('codes', { vault, entry: wideEntry })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await tech.client.fails('codesSeal', { vault, records: [] })).toMatchObject({ code: 'INVALID_INPUT' });
  });
});
