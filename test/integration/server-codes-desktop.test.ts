// Server-computed codes end to end (#15): one desktop (a router over a real vault file, sessions in
// a private Secret Service) and a real team server (server/main.ts on PGlite) on loopback. The
// owner sets a group to "server computes codes" and moves the vault onto the server: the round
// hands the server the entry's TOTP key sealed to its code key. A codes-only member of the
// group, signed in to the server as themselves, gets the entry's code from the server (as oathtool
// computes it from the test's own key at the server's time) and never holds the key: the vault
// file, read as stored, wraps no secret key of the group for them, and their desktop cannot reveal
// it. The server audits the code with its step. Membership on the server is set through its store
// (the people and groups records travel with the membership work, not this test's subject).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamStatus } from '../../shared/api/team-contract';
import type { EntrySummary, GroupSummary } from '../../shared/model';
import { TeamClient } from '../../electron/team/client';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { startServer, type RunningServer } from '../../server/main';
import { text } from '../../server/store/db';
import { putGroup, putMembership, putPerson } from '../../server/store/membership';
import { testClock, type TestClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { CONFIRMED, errorCode, ok } from '../support/router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ';
const OWNER_SERVER_PASSWORD = 'alice on the team server 1';
const CODY_SERVER_PASSWORD = 'cody on the team server 1';

let keyring: PrivateKeyring;
let home: string;
let server: RunningServer;
let clock: TestClock;

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-server-codes-'));
  clock = testClock();
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: clock.now, version: 'test' });
}, 60_000);
afterAll(async () => {
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** What oathtool says for SECRET at `nowMs` (the key on stdin, never in the arguments). */
function oathtool(nowMs: number): string {
  const at = new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '-b', '--now', at, '-'], { input: SECRET, encoding: 'utf8' }).trim();
}

function vaultFacts(file: string, groupId: number): { vault: string; group: string; keyVersion: number; users: Map<string, string>; codySecret: boolean } {
  const db = new Database(file, { readonly: true });
  try {
    const hex = (b: Buffer): string => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const vault = (db.prepare("SELECT value FROM meta WHERE key = 'vault_id'").get() as { value: string }).value;
    const group = db.prepare('SELECT uid, key_version FROM access_groups WHERE id = ?').get(groupId) as { uid: Buffer; key_version: number };
    const users = new Map((db.prepare('SELECT name, uid FROM users').all() as Array<{ name: string; uid: Buffer }>).map((u) => [u.name, hex(u.uid)]));
    const cody = db.prepare(`SELECT gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE u.name = 'cody' AND gk.group_id = ?`).get(groupId) as { secret: number };
    return { vault, group: hex(group.uid), keyVersion: group.key_version, users, codySecret: cody.secret === 1 };
  } finally {
    db.close();
  }
}

describe('server-computed codes on a desktop', () => {
  it('give a codes-only member the code from the server, and never the key', async () => {
    const dir = path.join(home, 'desktop');
    const vaultPath = path.join(dir, 'vault.crewvault');
    const router = new Router({
      vaultPath, clock: manualClock(clock.now()), clipboard: { kind: 'page' }, kdf: FAST_KDF,
      team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-server-codes-test' }, path.join(dir, 'config')), confirm: CONFIRMED },
    });
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('users.create', { username: 'cody', role: 'codes_only', password: 'cody one-time' }));
    ok(await router.call('session.signIn', { username: 'cody', password: 'cody one-time' }));
    ok(await router.call('session.changePassword', { current: 'cody one-time', next: 'cody password' }));
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'cody' })));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', groupId: night.id, otp: { secret: SECRET } })) as EntrySummary;
    expect(ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id: night.id, on: true })))).toMatchObject({ serverCodes: true });

    // The owner moves the vault onto the server and makes cody an account there.
    const invite = readFileSync(server.ownerInviteFile ?? '', 'utf8').trim();
    expect(ok(await router.call('team.connect', { url: server.url, username: 'alice', password: OWNER_SERVER_PASSWORD, invite })) as TeamStatus).toMatchObject({ connected: { user: 'alice' } });
    ok(await router.call('team.move', { confirm: true }));
    const admin = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'server-codes-owner-script');
    await admin.login('alice', OWNER_SERVER_PASSWORD);
    const codyInvite = (await admin.call('inviteCreate', { username: 'cody', role: 'member' })).invite;

    // The server's membership (what the membership records will carry): alice the owner, cody a codes-only member of the group.
    const facts = vaultFacts(vaultPath, night.id);
    expect(facts.codySecret).toBe(false);
    const accounts = new Map((await server.database.query('SELECT id, username FROM users')).map((r) => [text(r, 'username'), text(r, 'id')]));
    ok(await router.call('session.signIn', { username: 'cody', password: 'cody password' }));
    expect(ok(await router.call('team.connect', { url: server.url, username: 'cody', password: CODY_SERVER_PASSWORD, invite: codyInvite })) as TeamStatus).toMatchObject({ connected: { user: 'cody' } });
    const codyAccount = (await server.database.query("SELECT id FROM users WHERE username = 'cody'")).map((r) => text(r, 'id'))[0] ?? '';
    await server.database.transaction(async (tx) => {
      await putPerson(tx, facts.vault, { vaultUser: facts.users.get(OWNER) ?? '', accountId: accounts.get('alice') ?? '', role: 'owner', disabled: false });
      await putPerson(tx, facts.vault, { vaultUser: facts.users.get('cody') ?? '', accountId: codyAccount, role: 'codes_only', disabled: false });
      await putGroup(tx, facts.vault, { groupId: facts.group, keyVersion: facts.keyVersion, deleted: false });
      await putMembership(tx, facts.vault, { groupId: facts.group, vaultUser: facts.users.get('cody') ?? '', keyVersion: facts.keyVersion, isLead: false, wrapped: 'AAAA' });
    });

    // The move's round handed the server the entry's key, sealed, once.
    const stored = await server.database.query('SELECT entry_id, sealed FROM server_code_keys');
    expect(stored).toHaveLength(1);
    expect(text(stored[0] ?? {}, 'sealed')).not.toContain(SECRET);
    expect(await server.database.query("SELECT count(*)::int AS n FROM server_audit WHERE kind = 'codes.key-sealed'")).toEqual([{ n: 1 }]);

    ok(await router.call('session.signIn', { username: 'cody', password: 'cody password' }));
    clock.advance(12_000);
    const code = ok(await router.call('otp.code', { id: entry.id })) as { code: string; kind: string };
    expect(code).toMatchObject({ kind: 'totp', code: oathtool(clock.now()) });
    expect(errorCode(await router.call('secrets.reveal', { id: entry.id, what: 'otpSecret' }))).toBe('FORBIDDEN');
    expect(vaultFacts(vaultPath, night.id).codySecret).toBe(false);
    const audited = await server.database.query("SELECT actor_id, detail FROM server_audit WHERE kind = 'codes.computed'");
    expect(audited.map((r) => [text(r, 'actor_id'), (JSON.parse(text(r, 'detail')) as { step: number }).step])).toEqual([[codyAccount, Math.floor(clock.now() / 30_000)]]);

    // The setting travels in the group's signed record: the owner turns it off, syncs, and the server
    // drops the group's keys because the record says so (review round five: not on a desktop's say-so).
    expect(await server.database.query('SELECT group_id FROM server_code_groups')).toHaveLength(1);
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id: night.id, on: false })))).toMatchObject({ serverCodes: false });
    ok(await router.call('team.connect', { url: server.url, username: 'alice', password: OWNER_SERVER_PASSWORD }));
    ok(await router.call('team.sync', {}));
    expect(await server.database.query('SELECT group_id FROM server_code_groups')).toHaveLength(0);
    expect(await server.database.query('SELECT entry_id FROM server_code_keys')).toHaveLength(0);
  }, 60_000);
});
