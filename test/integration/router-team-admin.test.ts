// The router's teamAdmin.* calls (the desktop's server administration screens) against a real
// team server (server/main.ts on PGlite) on loopback, three desktops (an owner, an admin, a
// member) each with its own vault, config folder and keychain service in a private Secret
// Service, signed in through team.connect as the Team server screen does. The server's clock is
// injected and moved; the desktops' too. What is checked: the server's answers and refusals
// reach the page as it gave them (FORBIDDEN, the fresh-proof MFA_REQUIRED), mfa_reset granted
// by the owner lets the admin reset a member after a fresh code, and an automation token is
// shown once, never listed, works until revoked and is refused after. And a hostile server (real
// HTTP on the port a real server had) cannot send the page to the vault's sign-in screen with its
// own words, nor hand it names with control or direction characters.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../shared/api/reply';
import { SERVER_ROUTES, type AutomationTokenView, type MfaUserView } from '../../shared/api/server-contract';
import type { TeamAdminOverview } from '../../shared/api/team-admin-contract';
import type { TeamStatus } from '../../shared/api/team-contract';
import { TeamClient } from '../../electron/team/client';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { startServer, type RunningServer } from '../../server/main';
import { authenticatorCode, testClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { errorCode, ok } from '../support/router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'a long team password 1';
const FRESH_PROOF_MS = 5 * 60_000;
let keyring: PrivateKeyring;
let home: string;
let server: RunningServer;
const clock = testClock();
let desks = 0;

/** A desktop: its own vault (its owner signed in), config folder and keychain service. */
async function desktop() {
  const dir = path.join(home, `desktop-${desks++}`);
  const router = new Router({
    vaultPath: path.join(dir, 'vault.crewvault'), clock: manualClock(), clipboard: { kind: 'page' }, kdf: FAST_KDF,
    team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: `crewvault-router-team-admin-${desks}` }, path.join(dir, 'config')) },
  });
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  return router;
}

function refusal(reply: Reply<unknown>): { code: string; message: string } | undefined {
  return reply.ok ? undefined : { code: reply.error.code, message: reply.error.message };
}

/** A route called with an automation token, as a script would. */
async function withToken(token: string): Promise<{ status: number; code: string | undefined }> {
  const spec = SERVER_ROUTES.syncPull;
  const response = await fetch(`${server.url}${spec.path}`, {
    method: spec.method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ vault: 'a'.repeat(32), since: 0 }), signal: AbortSignal.timeout(20_000),
  });
  const body = await response.json() as { ok: boolean; error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

let owner: Router;
let admin: Router;
let member: Router;
let adminSecret = '';
let memberSecret = '';
const ids = { adam: '', mia: '' };

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env); // keytar finds the bus through the environment
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-router-team-admin-'));
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: clock.now, version: 'test' });
  const invite = readFileSync(server.ownerInviteFile ?? '', 'utf8').trim();
  // Olive, the server's owner, registers from her desktop's Team server screen.
  owner = await desktop();
  ok(await owner.call('team.connect', { url: server.url, username: 'olive', password: SERVER_PASSWORD, invite }));
  // She invites Adam (admin) and Mia (member); each sets an authenticator up, as another desktop of theirs would.
  const helper = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'device-olive-helper-000000');
  await helper.login('olive', SERVER_PASSWORD);
  for (const [name, role] of [['adam', 'admin'], ['mia', 'member']] as const) {
    const { invite: theirs, userId } = await helper.call('inviteCreate', { username: name, role });
    ids[name] = userId;
    const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, `device-${name}-helper-0000000`);
    await client.register(theirs, name, SERVER_PASSWORD, undefined);
    await client.login(name, SERVER_PASSWORD);
    const { secret } = await client.call('mfaEnrolStart', {});
    await client.call('mfaEnrolConfirm', { code: authenticatorCode(secret, clock.now()) });
    if (name === 'adam') {
      adminSecret = secret;
      await client.call('deviceTrust', {}); // a device of his the owner will see, and forget
    }
    else memberSecret = secret;
  }
  clock.advance(60_000);
  admin = await desktop();
  member = await desktop();
  for (const [router, name, secret] of [[admin, 'adam', adminSecret], [member, 'mia', memberSecret]] as const) {
    const asked = ok(await router.call('team.connect', { url: server.url, username: name, password: SERVER_PASSWORD })) as TeamStatus;
    expect(asked.signIn?.step).toBe('code');
    const done = ok(await router.call('team.secondStep', { kind: 'code', code: authenticatorCode(secret, clock.now()) })) as TeamStatus;
    expect(done.connected?.user).toBe(name);
  }
}, 180_000);

afterAll(async () => {
  await owner?.close();
  await admin?.close();
  await member?.close();
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('who may administer, as the server says', () => {
  it('the overview is the server\'s role for each person, and where its e-mail/SMS settings are managed', async () => {
    expect(ok(await owner.call('teamAdmin.overview', {}))).toEqual({ server: server.url, username: 'olive', role: 'owner', serverOnThisComputer: true } satisfies TeamAdminOverview);
    expect((ok(await admin.call('teamAdmin.overview', {})) as TeamAdminOverview).role).toBe('admin');
    expect((ok(await member.call('teamAdmin.overview', {})) as TeamAdminOverview).role).toBe('member');
  });

  it('a member is refused each part with the server\'s own words', async () => {
    expect(refusal(await member.call('teamAdmin.mfaList', {}))).toEqual({ code: 'FORBIDDEN', message: 'Only owners and admins see who has two-step sign-in' });
    expect(refusal(await member.call('teamAdmin.tokens', {}))).toEqual({ code: 'FORBIDDEN', message: 'Only owners and admins see automation tokens' });
    expect(refusal(await member.call('teamAdmin.policy', {}))).toEqual({ code: 'FORBIDDEN', message: 'Only owners and admins see the two-step sign-in policy' });
    expect(refusal(await member.call('teamAdmin.mfaReset', { userId: ids.adam }))).toEqual({ code: 'FORBIDDEN', message: 'Only owners and admins reset someone\'s two-step sign-in' });
    expect(errorCode(await member.call('teamAdmin.devices', { userId: ids.adam }))).toBe('FORBIDDEN');
    expect(refusal(await member.call('teamAdmin.createToken', { name: 'mine', scopes: ['sync.pull'], days: 1 }))).toEqual({ code: 'FORBIDDEN', message: 'Only owners and admins make automation tokens' });
  });

  it('a desktop not signed in to a server, and a locked vault, reach no server', async () => {
    const alone = await desktop();
    expect(errorCode(await alone.call('teamAdmin.mfaList', {}))).toBe('NOT_FOUND');
    ok(await alone.call('session.lock', {}));
    expect(errorCode(await alone.call('teamAdmin.overview', {}))).toBe('LOCKED');
    await alone.close();
  });

  it('bad input is refused before anything is sent', async () => {
    expect(errorCode(await owner.call('teamAdmin.mfaReset', { userId: 'not an id' }))).toBe('INVALID_INPUT');
    expect(errorCode(await owner.call('teamAdmin.createToken', { name: 'x', scopes: ['everything'], days: 1 }))).toBe('INVALID_INPUT');
    expect(errorCode(await owner.call('teamAdmin.createToken', { name: 'x', scopes: ['sync.pull'], days: 366 }))).toBe('INVALID_INPUT');
    expect(errorCode(await owner.call('teamAdmin.setPolicy', { scope: 'global', level: null }))).toBe('INVALID_INPUT');
  });
});

describe('people and MFA', () => {
  it('the owner lists second steps and grants mfa_reset; the admin resets the member after a fresh code', async () => {
    const listed = (ok(await owner.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] }).users;
    expect(listed.find((u) => u.username === 'adam')).toMatchObject({ role: 'admin', authenticator: true, mfaReset: false, recoveryCodesLeft: 10 });
    expect(listed.find((u) => u.username === 'mia')).toMatchObject({ role: 'member', authenticator: true });
    expect(listed.find((u) => u.username === 'olive')).toMatchObject({ role: 'owner', mfaReset: true });
    // Admins see everyone but owners.
    expect((ok(await admin.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] }).users.map((u) => u.username).sort()).toEqual(['adam', 'mia']);

    // Before the grant, the admin may not reset; only an owner grants.
    expect(refusal(await admin.call('teamAdmin.mfaReset', { userId: ids.mia }))?.code).toBe('FORBIDDEN');
    expect(refusal(await admin.call('teamAdmin.grant', { userId: ids.adam, granted: true }))).toEqual({ code: 'FORBIDDEN', message: 'Only owners grant or take back an admin\'s permissions' });
    expect(ok(await owner.call('teamAdmin.grant', { userId: ids.adam, granted: true }))).toEqual({ granted: true, changed: true });
    expect((ok(await owner.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] }).users.find((u) => u.username === 'adam')?.mfaReset).toBe(true);

    // Adam's second step is now older than 5 minutes: the server asks for fresh proof, and nothing changes.
    clock.advance(FRESH_PROOF_MS + 1_000);
    const stale = refusal(await admin.call('teamAdmin.mfaReset', { userId: ids.mia }));
    expect(stale?.code).toBe('MFA_REQUIRED');
    expect((ok(await owner.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] }).users.find((u) => u.username === 'mia')?.authenticator).toBe(true);
    // A wrong code is the server's WRONG_CODE, and still nothing changes.
    const right = authenticatorCode(adminSecret, clock.now());
    expect(errorCode(await admin.call('teamAdmin.mfaReset', { userId: ids.mia, code: right === '000000' ? '111111' : '000000' }))).toBe('WRONG_CODE');
    expect((ok(await owner.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] }).users.find((u) => u.username === 'mia')?.authenticator).toBe(true);
    const reset = ok(await admin.call('teamAdmin.mfaReset', { userId: ids.mia, code: right }));
    expect(reset).toMatchObject({ authenticator: true });
    expect((ok(await owner.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] }).users.find((u) => u.username === 'mia')).toMatchObject({ authenticator: false, recoveryCodesLeft: 0 });
    // Her sessions ended with the reset: her desktop hears so from the server.
    expect(errorCode(await member.call('teamAdmin.overview', {}))).toBe('UNAUTHORIZED');
    // Admins never act on owners, whatever they hold.
    expect(errorCode(await admin.call('teamAdmin.mfaReset', { userId: (listed.find((u) => u.username === 'olive')?.userId ?? '') }))).toBe('FORBIDDEN');
  });

  it('policy: the owner sets a role\'s level and the idle time; an admin reads it and is refused setting it', async () => {
    // Tightening needs no fresh proof.
    expect(ok(await owner.call('teamAdmin.setPolicy', { scope: 'external', level: 'required' }))).toMatchObject({ external: 'required' });
    // Loosening does: the owner has no authenticator and signed in over 5 minutes ago, so the server asks for a fresh sign-in, as it says.
    expect(refusal(await owner.call('teamAdmin.setIdle', { minutes: 45 }))).toEqual({ code: 'UNAUTHORIZED', message: 'Sign in again with your password first (or enter a code): this needs a sign-in from the last 5 minutes' });
    expect(ok(await owner.call('teamAdmin.policy', {}))).toMatchObject({ idleMinutes: 30 });
    ok(await owner.call('team.connect', { url: server.url, username: 'olive', password: SERVER_PASSWORD }));
    expect(ok(await owner.call('teamAdmin.setIdle', { minutes: 45 }))).toMatchObject({ idleMinutes: 45 });
    expect(ok(await admin.call('teamAdmin.policy', {}))).toMatchObject({ external: 'required', idleMinutes: 45 });
    expect(refusal(await admin.call('teamAdmin.setPolicy', { scope: 'member', level: 'required' }))).toEqual({ code: 'FORBIDDEN', message: 'Only owners set the two-step sign-in policy' });
    expect(ok(await owner.call('teamAdmin.setPolicy', { scope: 'external', level: null }))).toMatchObject({ external: null });
  });

  it('devices: the owner sees the admin\'s devices and forgets one, which ends its sessions', async () => {
    const { devices } = ok(await owner.call('teamAdmin.devices', { userId: ids.adam })) as { devices: { deviceId: string; sessions: number }[] };
    expect(devices.find((d) => d.deviceId === 'device-adam-helper-0000000')).toMatchObject({ sessions: 1 });
    const forgot = ok(await owner.call('teamAdmin.forgetDevice', { userId: ids.adam, deviceId: 'device-adam-helper-0000000' })) as { removed: boolean; endedSessions: number };
    expect(forgot).toEqual({ removed: true, endedSessions: 1 });
    const after = (ok(await owner.call('teamAdmin.devices', { userId: ids.adam })) as { devices: { deviceId: string }[] }).devices;
    expect(after.map((d) => d.deviceId)).not.toContain('device-adam-helper-0000000');
  });
});

describe('automation tokens', () => {
  it('is shown once, never listed, works until revoked, and is refused after', async () => {
    // Making a token needs a sign-in from the last 10 minutes: the owner's is (policy, above).
    const made = ok(await owner.call('teamAdmin.createToken', { name: 'nightly backup', scopes: ['sync.pull'], days: 30 })) as { token: string; view: AutomationTokenView; warning: string };
    expect(made.token).toMatch(/^cvt_[A-Za-z0-9_-]{40,}$/);
    expect(made.warning).toContain('without a second step');
    expect(made.view).toMatchObject({ name: 'nightly backup', scopes: ['sync.pull'], vaults: null, revokedAt: null, createdBy: { username: 'olive' } });
    expect(await withToken(made.token)).toEqual({ status: 404, code: 'NOT_FOUND' }); // it reaches pull; this server holds no such vault

    const listedByOwner = ok(await owner.call('teamAdmin.tokens', {})) as { tokens: AutomationTokenView[] };
    const listedByAdmin = ok(await admin.call('teamAdmin.tokens', {})) as { tokens: AutomationTokenView[] };
    expect(listedByOwner.tokens.map((t) => t.id)).toContain(made.view.id);
    expect(JSON.stringify(listedByOwner) + JSON.stringify(listedByAdmin)).not.toContain(made.token);

    expect(errorCode(await admin.call('teamAdmin.revokeToken', { id: made.view.id }))).toBe('FORBIDDEN'); // admins never revoke an owner's token
    expect(ok(await owner.call('teamAdmin.revokeToken', { id: made.view.id }))).toEqual({ revoked: true });
    expect(await withToken(made.token)).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect(ok(await owner.call('teamAdmin.revokeToken', { id: made.view.id }))).toEqual({ revoked: false });
    expect((ok(await owner.call('teamAdmin.tokens', {})) as { tokens: AutomationTokenView[] }).tokens.find((t) => t.id === made.view.id)?.revokedAt).toBe(clock.now());
  });
});

describe('a hostile server where the signed-in one was (real HTTP on its port, its answers chosen by the test)', () => {
  it('cannot send the page to the vault\'s sign-in or change-password screen with words of its own, nor show unprintable names', async () => {
    const second = await startServer({ dataDir: path.join(home, 'server-2'), listen: '127.0.0.1:0', now: clock.now, version: 'test' });
    const router = await desktop();
    ok(await router.call('team.connect', { url: second.url, username: 'olive', password: SERVER_PASSWORD, invite: readFileSync(second.ownerInviteFile ?? '', 'utf8').trim() }));
    const port = Number(new URL(second.url).port);
    await second.close();
    let answer = '';
    const hostile = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => hostile.listen(port, '127.0.0.1', resolve));
    try {
      const said = 'Your vault was locked by IT.\u001b[2J Type your vault password at https://evil.example';
      for (const code of ['LOCKED', 'PASSWORD_CHANGE_REQUIRED'] as const) {
        answer = JSON.stringify({ ok: false, error: { code, message: said } });
        for (const [method, input] of [['teamAdmin.overview', {}], ['teamAdmin.mfaList', {}], ['teamAdmin.mfaReset', { userId: 'a'.repeat(32), code: '123456' }]] as const) {
          const reply = await router.call(method, input);
          expect(errorCode(reply), `${method} ${code}`).toBe('SERVER_UNREACHABLE');
          if (!reply.ok) expect(reply.error.message).not.toMatch(/\p{C}/u);
        }
        expect((ok(await router.call('session.state', {})) as { user: unknown }).user, 'the vault stays signed in').not.toBeNull();
      }
      const view: MfaUserView = {
        userId: 'b'.repeat(32), username: 'ev\u202eil\u001b[2Jname', role: 'member', external: false, policy: 'optional', authenticator: false, email: false, sms: false,
        recoveryCodesLeft: 0, trustedDevices: 0, mfaReset: false,
      };
      answer = JSON.stringify({ ok: true, value: { users: [view] } });
      const { users } = ok(await router.call('teamAdmin.mfaList', {})) as { users: MfaUserView[] };
      expect(users.map((u) => u.username)).toEqual(['ev il [2Jname']); // no escape or direction character left
    } finally {
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
      await router.close();
    }
  });
});
