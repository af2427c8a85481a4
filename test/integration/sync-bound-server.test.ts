// A vault leaves for a server only through a confirmed move (#15, review round eight hole 1, the
// class): the vault file keeps the one server it was moved to or filled from (ReplicaService
// .teamServer), and a sync to any other pushes nothing, from every door: `crewvault sync` (whose
// default server is the last one signed in to, which the desktop's page can choose, as desktop and
// CLI share servers.json) and the desktop's team.sync, which for the owner asks the door's move
// question instead. Two real team servers on loopback (PGlite, real HTTP): A, the team's; B, one
// the page chose, which even says it holds the vault (a sync_vaults row, as any server wanting the
// records would answer). Real vault files, the CLI's code in-process, a real Router.
// Must never: pass when a push reaches B (each case counts B's stored records and push requests).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamStatus } from '../../shared/api/team-contract';
import type { TrustConfirmations, TrustQuestion } from '../../electron/team/confirm';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { errorCode, ok } from '../support/router';
import { runScripted } from '../support/scripted-cli';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'alice on the team server 1';
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
let keyring: PrivateKeyring;
let home: string;
let a: RunningServer;
let b: RunningServer;
const logsB: string[] = [];

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-bound-server-'));
  a = await startServer({ dataDir: path.join(home, 'server-a'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  b = await startServer({ dataDir: path.join(home, 'server-b'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test', log: { write: (line) => { logsB.push(line); } } });
  // alice's account on each server, registered with its owner invite from a computer of their own.
  for (const server of [a, b]) {
    const registered = await runScripted(['login', server.url, '--user', 'alice', '--invite-file', server.ownerInviteFile ?? ''], [SERVER_PASSWORD], clock,
      { CREWVAULT_CONFIG: path.join(home, `register-${server.url.length}-${logsB.length}`), CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-bound-register' });
    if (registered.code !== 'ok') throw new Error(`registering alice: ${registered.stderr}`);
  }
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

const pushesToB = (): number => logsB.filter((line) => line.includes('/v1/sync/push')).length;
const storedOn = async (server: RunningServer): Promise<number> => (await server.database.query('SELECT 1 FROM sync_records')).length;

/** B says it holds `file`'s vault, as a server that wants its records would. */
async function bClaims(file: string): Promise<void> {
  const db = new Database(file, { readonly: true });
  const vaultId = (db.prepare("SELECT value FROM meta WHERE key = 'vault_id'").get() as { value: string }).value;
  db.close();
  const [alice] = await b.database.query("SELECT id FROM users WHERE username = 'alice'");
  await b.database.query('INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ($1, 0, $2, 0) ON CONFLICT DO NOTHING', [vaultId, alice?.id]);
}

describe('crewvault sync pushes only to the server the vault was moved to', () => {
  it('a vault never moved, or moved elsewhere, sends B nothing; --move binds it; naming A syncs', async () => {
    const file = path.join(home, 'cli.crewvault');
    const made = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await made.createEntries([{ customer: 'Acme', title: 'Firewall', password: 'fw-1' }]);
    await made.close();
    const env = { CREWVAULT_CONFIG: path.join(home, 'cli-config'), CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-bound-cli' };
    const cli = (args: readonly string[], answers: readonly string[]) => runScripted([...args, ...(args[0] === 'sync' ? ['--vault', file] : [])], answers, clock, env);

    expect((await cli(['login', a.url, '--user', 'alice'], [SERVER_PASSWORD])).code).toBe('ok');
    // Never moved: a plain sync to A (which does not hold it) stores nothing.
    expect({ code: (await cli(['sync'], [PASSWORD])).code, stored: await storedOn(a) }).toEqual({ code: 'NOT_FOUND', stored: 0 });
    // Someone signs in to B on this computer (the desktop's page can: the CLI's default is the last
    // server signed in to), and B says it holds the vault: still nothing reaches it.
    expect((await cli(['login', b.url, '--user', 'alice'], [SERVER_PASSWORD])).code).toBe('ok');
    await bClaims(file);
    let before = pushesToB();
    const unmoved = await cli(['sync'], [PASSWORD]);
    expect({ code: unmoved.code, pushes: pushesToB() - before, stored: await storedOn(b) }).toEqual({ code: 'FORBIDDEN', pushes: 0, stored: 0 });
    expect(unmoved.message).toContain(`never moved to ${new URL(b.url).host}`);

    // Its owner moves it to A, by name: from now on it syncs with A.
    expect((await cli(['sync', a.url, '--move'], [PASSWORD])).code).toBe('ok');
    expect(await storedOn(a)).toBeGreaterThan(1);
    before = pushesToB();
    const elsewhere = await cli(['sync'], [PASSWORD]);
    expect({ code: elsewhere.code, pushes: pushesToB() - before, stored: await storedOn(b) }).toEqual({ code: 'FORBIDDEN', pushes: 0, stored: 0 });
    expect(elsewhere.message).toContain(`syncs with ${new URL(a.url).host}, not ${new URL(b.url).host}`);
    // A, named, still syncs (a change made since goes there).
    const edited = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    await edited.createEntry({ customer: 'Acme', title: 'Printer', password: 'pr-1' });
    await edited.close();
    const named = await cli(['sync', a.url, '--json'], [PASSWORD]);
    expect(named.code).toBe('ok');
    expect((JSON.parse(named.stdout) as { pushed: number }).pushed).toBeGreaterThan(0);
    expect(await storedOn(b)).toBe(0);
  }, 60_000);
});

describe('the desktop\'s team.sync pushes only to the server the vault was moved to', () => {
  it('a vault moved to A, synced on B the page signed in to: the door is asked for a move, and its no sends B nothing', async () => {
    const asked: TrustQuestion[] = [];
    const door = { answer: true };
    const confirm: TrustConfirmations = { confirm: (q) => { asked.push(q); return Promise.resolve(door.answer); } };
    const dir = path.join(home, 'desktop');
    const router = new Router({
      vaultPath: path.join(dir, 'vault.crewvault'), clock, clipboard: { kind: 'page' }, kdf: FAST_KDF,
      team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-bound-desktop' }, path.join(dir, 'config')), confirm },
    });
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));
    // A loopback server needs no certificate question; the move to A asks, and the door says yes.
    ok(await router.call('team.connect', { url: a.url, username: 'alice', password: SERVER_PASSWORD }));
    expect((ok(await router.call('team.move', { confirm: true })) as TeamStatus).lastSync).toMatchObject({ ok: true, moved: true });
    expect(asked.map((q) => q.kind)).toEqual(['move-vault']);

    // The page signs in to B (its account there) and asks for a sync; B says it holds the vault.
    ok(await router.call('team.connect', { url: b.url, username: 'alice', password: SERVER_PASSWORD }));
    await bClaims(path.join(dir, 'vault.crewvault'));
    door.answer = false;
    const before = pushesToB();
    const storedBefore = await storedOn(b);
    const synced = await router.call('team.sync', {});
    expect({ code: errorCode(synced), pushes: pushesToB() - before, stored: (await storedOn(b)) - storedBefore, asked: asked.map((q) => q.kind) })
      .toEqual({ code: 'FORBIDDEN', pushes: 0, stored: 0, asked: ['move-vault', 'move-vault'] });
    expect(asked[1]?.kind === 'move-vault' ? new URL(asked[1].server).host : '').toBe(new URL(b.url).host);
  }, 60_000);
});
