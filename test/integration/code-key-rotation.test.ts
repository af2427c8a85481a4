// Rotating the team server's code key (#15): a real `crewvault server` process (the built CLI) on a
// private PostgreSQL, `crewvault server code-key rotate | delete-old` run as an administrator runs
// them (the built CLI, its own process), an owner's desktop (a router over a real vault file, its
// session in a private Secret Service) that holds a "server computes codes" group's keys, and a
// codes-only member asking the server for codes over HTTP. Codes stay oathtool's across two
// rotations; the owner's desktop, signed in all along, seals the group's OTP key again to the new
// key at its next sync; an old key goes only once nothing stored needs it (or forced, naming the
// group); a seal made to a deleted key no longer opens; the key file stays 0600.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntrySummary, GroupSummary } from '../../shared/model';
import { TeamClient } from '../../electron/team/client';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { openPostgres, text, type Database as ServerDatabase } from '../../server/store/db';
import { putGroup, putMembership, putPerson } from '../../server/store/membership';
import { crewvault } from '../support/cli';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { CONFIRMED, ok } from '../support/router';
import { freePort, ServerProcesses, splitDatabaseUrl, type ServerProcess } from '../support/server-process';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ';
const OWNER_SERVER_PASSWORD = 'alice on the team server 1';
const CODY_SERVER_PASSWORD = 'cody on the team server 1';

let keyring: PrivateKeyring;
let cluster: TestPostgres;
let home: string;
let dataDir: string;
let database: { readonly database: string; readonly password: string };
let db: ServerDatabase;
let server: ServerProcess;
const processes = new ServerProcesses();

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-code-key-rotation-'));
  dataDir = path.join(home, 'server');
  cluster = await startTestPostgres();
  const url = await cluster.createDatabase();
  database = splitDatabaseUrl(url);
  db = openPostgres(url);
  server = await processes.start({ ...database, dataDir, port: await freePort() });
}, 90_000);
afterAll(async () => {
  await processes.killAll();
  await db?.close();
  await cluster?.stop();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** oathtool's code for SECRET in the time step the server says it computed (the key on stdin, never in the arguments). */
function oathtool(step: number): string {
  const at = new Date(step * 30_000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '-b', '--now', at, '-'], { input: SECRET, encoding: 'utf8' }).trim();
}

/** `crewvault server code-key …` as the administrator runs it on the server's machine. */
function codeKey(...args: string[]): { status: number | null; stdout: string } {
  const out = crewvault(['server', 'code-key', ...args, '--data', dataDir, '--database', database.database], { env: { PGPASSWORD: database.password } });
  expect(out.stderr).not.toMatch(/PRIVATE|pkcs8/i);
  return { status: out.status, stdout: out.stdout };
}

function keyFile(): { mode: number; current: string; retiring: number } {
  const file = path.join(dataDir, 'server-code-key.json');
  const body = JSON.parse(readFileSync(file, 'utf8')) as { current?: string; codeKey?: string; retiring?: string[] };
  return { mode: statSync(file).mode & 0o777, current: body.current ?? body.codeKey ?? '', retiring: body.retiring?.length ?? 0 };
}

function vaultFacts(file: string, groupId: number): { vault: string; group: string; keyVersion: number; users: Map<string, string> } {
  const vaultDb = new Database(file, { readonly: true });
  try {
    const hex = (b: Buffer): string => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const vault = (vaultDb.prepare("SELECT value FROM meta WHERE key = 'vault_id'").get() as { value: string }).value;
    const group = vaultDb.prepare('SELECT uid, key_version FROM access_groups WHERE id = ?').get(groupId) as { uid: Buffer; key_version: number };
    const users = new Map((vaultDb.prepare('SELECT name, uid FROM users').all() as Array<{ name: string; uid: Buffer }>).map((u) => [u.name, hex(u.uid)]));
    return { vault, group: hex(group.uid), keyVersion: group.key_version, users };
  } finally {
    vaultDb.close();
  }
}

describe('rotating the server\'s code key', () => {
  it('keeps codes coming across two rotations, seals again at the next sync, and deletes an old key only when nothing needs it', async () => {
    const dir = path.join(home, 'desktop');
    const vaultPath = path.join(dir, 'vault.crewvault');
    const clock = manualClock(Date.now());
    const router = new Router({
      vaultPath, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF,
      team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-code-key-rotation-test' }, path.join(dir, 'config')), confirm: CONFIRMED },
    });
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('users.create', { username: 'cody', role: 'codes_only', password: 'cody one-time' }));
    const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'cody' })));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', groupId: night.id, otp: { secret: SECRET } })) as EntrySummary;
    ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id: night.id, on: true })));

    // The owner moves the vault onto the server (its round seals the key to the first code key) and invites cody.
    const invite = readFileSync(path.join(dataDir, 'owner-invite.txt'), 'utf8').trim();
    ok(await router.call('team.connect', { url: server.url, username: 'alice', password: OWNER_SERVER_PASSWORD, invite }));
    ok(await router.call('team.move', { confirm: true }));
    const admin = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'code-key-owner-script');
    await admin.login('alice', OWNER_SERVER_PASSWORD);
    const codyInvite = (await admin.call('inviteCreate', { username: 'cody', role: 'member' })).invite;
    const cody = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'code-key-cody-device');
    await cody.register(codyInvite, 'cody', CODY_SERVER_PASSWORD, undefined);
    await cody.login('cody', CODY_SERVER_PASSWORD);
    const facts = vaultFacts(vaultPath, night.id);
    const accounts = new Map((await db.query('SELECT id, username FROM users')).map((r) => [text(r, 'username'), text(r, 'id')]));
    await db.transaction(async (tx) => {
      await putPerson(tx, facts.vault, { vaultUser: facts.users.get(OWNER) ?? '', accountId: accounts.get('alice') ?? '', role: 'owner', disabled: false });
      await putPerson(tx, facts.vault, { vaultUser: facts.users.get('cody') ?? '', accountId: accounts.get('cody') ?? '', role: 'codes_only', disabled: false });
      await putGroup(tx, facts.vault, { groupId: facts.group, keyVersion: facts.keyVersion, deleted: false });
      await putMembership(tx, facts.vault, { groupId: facts.group, vaultUser: facts.users.get('cody') ?? '', keyVersion: facts.keyVersion, isLead: false, wrapped: 'AAAA' });
    });
    const [entryId] = (await db.query('SELECT entry_id FROM server_code_keys')).map((r) => text(r, 'entry_id'));
    // The server runs on the real clock and allows 5 codes of an entry a time step: this test asks more, so it starts each count anew.
    const askCode = async (): Promise<void> => {
      await db.query('DELETE FROM code_throttle');
      const out = await cody.call('codes', { vault: facts.vault, entry: entryId ?? '' });
      expect(out.code).toBe(oathtool(out.step));
    };
    const seal = async (): Promise<{ sealed: string; codeKey: string | null }> => {
      const [row] = await db.query('SELECT sealed, code_key FROM server_code_keys');
      return { sealed: text(row ?? {}, 'sealed'), codeKey: row?.code_key === null ? null : text(row ?? {}, 'code_key') };
    };
    const published = async (): Promise<string> => (await new TeamClient(new URL(server.url), { kind: 'loopback' }, 'code-key-look-device').call('codesKey', undefined)).fingerprint;

    const first = await published();
    const sealedFirst = await seal();
    expect(sealedFirst.codeKey).toBe(first);
    await askCode();
    expect(keyFile().mode).toBe(0o600);

    // Rotated: the running server hands out the new key at once, and still opens what was sealed to the old one.
    const firstPublic = serverCodePublicKey((await admin.call('codesKey', undefined)).publicKey);
    const rotated = codeKey('rotate');
    expect(rotated.status).toBe(0);
    const second = await published();
    expect(second).not.toBe(first);
    expect(rotated.stdout).toContain(`New code key: ${second}`);
    expect(rotated.stdout).toContain(first);
    expect(keyFile()).toMatchObject({ mode: 0o600, retiring: 1 });
    await askCode();
    // A seal made to the retiring key (a desktop that fetched it before the rotation) is refused: nothing new is sealed to a key being retired.
    const stale = sealCodeKeyForServer(firstPublic, { vault: facts.vault, entry: entryId ?? '', group: facts.group, keyVersion: facts.keyVersion }, { kind: 'totp', secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 });
    await expect(admin.call('codesSeal', { vault: facts.vault, records: [{ kind: 'server_code', entry: entryId ?? '', group: facts.group, keyVersion: facts.keyVersion, sealed: stale }] })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await seal()).sealed).toBe(sealedFirst.sealed);

    // The old key is still needed: delete-old keeps it and names the group.
    const refused = codeKey('delete-old');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`group ${facts.group}: 1 key sealed to ${first}`);
    await askCode();

    // A second rotation while the first is pending: both old keys kept, codes still come.
    expect(codeKey('rotate').status).toBe(0);
    const third = await published();
    expect(new Set([first, second, third]).size).toBe(3);
    expect(keyFile()).toMatchObject({ mode: 0o600, retiring: 2 });
    await askCode();

    // The owner's desktop, signed in all along, syncs: it sees the new key and seals the group's key to it.
    ok(await router.call('team.sync', {}));
    const sealedThird = await seal();
    expect(sealedThird.codeKey).toBe(third);
    expect(sealedThird.sealed).not.toBe(sealedFirst.sealed);
    await askCode();

    // Nothing needs the old keys now: both go, the file keeps the current one only, still 0600.
    const deleted = codeKey('delete-old');
    expect(deleted.status).toBe(0);
    expect(deleted.stdout).toContain(first);
    expect(deleted.stdout).toContain(second);
    expect(keyFile()).toMatchObject({ mode: 0o600, retiring: 0 });
    await askCode();

    // What was sealed to a deleted key opens no more, whatever key its row names.
    await db.query('UPDATE server_code_keys SET sealed = $1, code_key = $2', [sealedFirst.sealed, first]);
    await db.query('DELETE FROM code_throttle');
    await expect(cody.call('codes', { vault: facts.vault, entry: entryId ?? '' })).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    await db.query('UPDATE server_code_keys SET code_key = $1', [third]);
    await db.query('DELETE FROM code_throttle');
    await expect(cody.call('codes', { vault: facts.vault, entry: entryId ?? '' })).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    await db.query('UPDATE server_code_keys SET sealed = $1, code_key = $2', [sealedThird.sealed, third]);
    await askCode();

    // Forced: rotated and deleted before any desktop sealed again; the group is named and its codes stop until the owner syncs.
    expect(codeKey('rotate').status).toBe(0);
    const fourth = await published();
    const forced = codeKey('delete-old', '--force');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain(`group ${facts.group}: 1 key sealed to ${third}`);
    await db.query('DELETE FROM code_throttle');
    await expect(cody.call('codes', { vault: facts.vault, entry: entryId ?? '' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    ok(await router.call('team.sync', {}));
    expect((await seal()).codeKey).toBe(fourth);
    await askCode();
    expect(keyFile()).toMatchObject({ mode: 0o600, retiring: 0 });
    const audited = await db.query("SELECT kind FROM server_audit WHERE kind LIKE 'codes.code-key-%' ORDER BY seq");
    expect(audited.map((r) => text(r, 'kind'))).toEqual(['codes.code-key-rotated', 'codes.code-key-rotated', 'codes.code-key-deleted', 'codes.code-key-rotated', 'codes.code-key-deleted']);
  }, 120_000);
});
