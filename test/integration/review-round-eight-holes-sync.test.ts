// Review round eight HOLE (the move's confirmation, electron/team/desk.ts sync/round): the door asks
// before team.move, but team.sync on a vault never moved pushes every record all the same
// (syncOnce without move: firstSync finds nothing, then outgoing(false) is everything not yet
// agreed, which on a never-moved vault is the whole vault). A compromised page connects (a pin the
// person confirmed, or any authority-vouched / loopback server, which needs no question at all)
// and calls team.sync: the vault's sealed records reach the server the port refused to move to.
// Asserts the SAFE behaviour: a sync of a never-moved vault asks the door as a move does, and with
// its no nothing is pushed (no push request, nothing stored).
// Run: cp /tmp/review8-holes/sync-moves-unconfirmed.test.ts /work/main/test/integration/zz-r8-sync-moves.test.ts
//      && npx vitest run test/integration/zz-r8-sync-moves.test.ts ; rm test/integration/zz-r8-sync-moves.test.ts
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrustConfirmations, type TrustQuestion } from '../../electron/team/confirm';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { startServer, type RunningServer } from '../../server/main';
import { testClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { errorCode, ok } from '../support/router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'alice on the team server 1';
let keyring: PrivateKeyring;
let home: string;
let fingerprint = '';
let server: RunningServer;
const logs: string[] = [];

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-trust-confirm-'));
  const cert = path.join(home, 'server.pem');
  const key = path.join(home, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=crewvault test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim().split('=')[1] ?? '';
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', tlsCert: cert, tlsKey: key, now: testClock().now, version: 'test', log: { write: (line) => { logs.push(line); } } });
}, 60_000);
afterAll(async () => {
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** A port whose answer the test sets, keeping every question it was asked. */
function port(answer: boolean): TrustConfirmations & { answer: boolean; readonly asked: TrustQuestion[] } {
  const asked: TrustQuestion[] = [];
  const held = { answer, asked, confirm: (q: TrustQuestion) => { asked.push(q); return Promise.resolve(held.answer); } };
  return held;
}

let desktops = 0;
async function desktop(confirm: TrustConfirmations | undefined) {
  const dir = path.join(home, `desktop-${desktops++}`);
  const router = new Router({
    vaultPath: path.join(dir, 'vault.crewvault'), clock: manualClock(), clipboard: { kind: 'page' }, kdf: FAST_KDF,
    team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: `crewvault-trust-confirm-${desktops}` }, path.join(dir, 'config')), ...(confirm ? { confirm } : {}) },
  });
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  return { router, servers: path.join(dir, 'config', 'servers.json'), file: path.join(dir, 'vault.crewvault') };
}



describe('HOLE: team.sync moves a vault the door refused to move', () => {
  it('a never-moved vault sends nothing to the server on team.sync when the move was refused', async () => {
    const url = server.url;
    const invite = readFileSync(server.ownerInviteFile ?? '', 'utf8').trim();
    const asker = port(true);
    const { router, file } = await desktop(asker);
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite }));
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));
    asker.answer = false;
    expect(errorCode(await router.call('team.move', { confirm: true }))).toBe('FORBIDDEN');
    expect(await server.database.query('SELECT 1 FROM sync_records')).toHaveLength(0);
    // The server the page chose is the page's (here: a database row saying it holds this vault, as
    // any server that wants the records would answer). The page, refused the move, asks for a sync.
    const db = new Database(file, { readonly: true });
    const vaultId = (db.prepare("SELECT value FROM meta WHERE key = 'vault_id'").get() as { value: string }).value;
    db.close();
    const [alice] = await server.database.query("SELECT id FROM users WHERE username = 'alice'");
    await server.database.query('INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ($1, 0, $2, 0)', [vaultId, alice?.id]);
    const pushesBefore = logs.filter((l) => l.includes('/v1/sync/push')).length;
    const synced = await router.call('team.sync', {});
    const stored = await server.database.query('SELECT kind FROM sync_records');
    expect({
      stored: stored.length, pushes: logs.filter((l) => l.includes('/v1/sync/push')).length - pushesBefore, asked: asker.asked.map((q) => q.kind), synced: JSON.stringify(synced).slice(0, 200),
    }).toEqual({ stored: 0, pushes: 0, asked: ['pin-certificate', 'move-vault', 'move-vault'], synced: expect.any(String) as string });
  }, 60_000);
});
