// `crewvault team token|mfa|devices|forget` and `crewvault server admin status|smtp|sms` against a
// real team server (server/main.ts on PGlite, listening on loopback), each person signed in
// with `crewvault login` and their session in a private Secret Service, the server's clock
// injected. Real SMTP (mailbox.ts) and a real SMS provider endpoint (sms-provider.ts) on
// loopback receive the "Test service" sends. What the server refuses (roles, mfa_reset, stale
// proof) reaches the person as one line with its code; a secret is never an argument and never
// printed back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { SERVER_ROUTES } from '../../shared/api/server-contract';
import { startServer, type RunningServer } from '../../server/main';
import { startMailbox, type Mailbox } from '../server/mailbox';
import { startSmsProvider, type SmsProvider } from '../server/sms-provider';
import { authenticatorCode, testClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { runScripted, type CliOutcome, type ScriptedAnswer } from '../support/scripted-cli';
import { holdsSecret } from '../support/secrets';

const KEYCHAIN = 'crewvault-team-admin-test';
const PASSWORD = 'a long team password 1';
const FIVE_MINUTES = 5 * 60_000;
const dirs: string[] = [];
let keyring: PrivateKeyring;
let server: RunningServer;
let mailbox: Mailbox;
let sms: SmsProvider;
const clock = testClock();

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crewvault-team-admin-'));
  dirs.push(dir);
  return dir;
}

/** One person's computer: their own config folder, the shared test keychain service. */
function computer(): NodeJS.ProcessEnv {
  return { CREWVAULT_CONFIG: tempDir(), CREWVAULT_KEYCHAIN_SERVICE: KEYCHAIN };
}

const owner = computer();
const admin = computer();
const member = computer();
let adminSecret = '';
let adminDevice = '';

function cli(env: NodeJS.ProcessEnv, args: readonly string[], answers: readonly ScriptedAnswer[] = []): Promise<CliOutcome> {
  return runScripted(args, answers, clock, env);
}

/** Someone the owner invites (through the desktop's client), registered with the real client. */
async function invited(ownerClient: TeamClient, username: string, role: 'admin' | 'member'): Promise<TeamClient> {
  const { invite } = await ownerClient.call('inviteCreate', { username, role });
  const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, `device-${username}-0000000000`);
  await client.register(invite, username, PASSWORD, undefined);
  await client.login(username, PASSWORD);
  return client;
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  mailbox = await startMailbox();
  sms = await startSmsProvider();
  const dataDir = path.join(tempDir(), 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: clock.now, version: 'test' });
  // The owner runs server admin on the server's machine, as its user: its data folder is theirs to read.
  owner.CREWVAULT_SERVER_DATA = dataDir;
  const inviteFile = server.ownerInviteFile ?? '';
  expect((await cli(owner, ['login', server.url, '--user', 'olive', '--invite-file', inviteFile], [PASSWORD])).code).toBe('ok');
  const ownerClient = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'device-olive-helper-000000');
  await ownerClient.login('olive', PASSWORD);
  // Adam, an admin with an authenticator, trusts the computer he set it up on.
  const adamHelper = await invited(ownerClient, 'adam', 'admin');
  const { secret } = await adamHelper.call('mfaEnrolStart', {});
  await adamHelper.call('mfaEnrolConfirm', { code: authenticatorCode(secret, clock.now()) });
  await adamHelper.call('deviceTrust', {});
  adminSecret = secret;
  adminDevice = adamHelper.deviceId;
  await invited(ownerClient, 'mia', 'member');
  clock.advance(30_000);
  expect((await cli(admin, ['login', server.url, '--user', 'adam', '--code', '-'], [PASSWORD, authenticatorCode(adminSecret, clock.now())])).code).toBe('ok');
  expect((await cli(member, ['login', server.url, '--user', 'mia'], [PASSWORD])).code).toBe('ok');
}, 180_000);

afterAll(async () => {
  await server?.close();
  await mailbox?.close();
  await sms?.close();
  keyring?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

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

describe('crewvault team token', () => {
  it('makes a token shown once with the MFA warning, lists it without the token, and revokes it so it stops working', async () => {
    await cli(owner, ['login', server.url], [PASSWORD]);
    const made = await cli(owner, ['team', 'token', 'create', '--name', 'nightly backup', '--scope', 'sync.pull', '--days', '30']);
    expect(made.code).toBe('ok');
    const token = made.stdout.trim();
    expect(token).toMatch(/^cvt_[A-Za-z0-9_-]{40,}$/);
    expect(made.stderr).toContain('crewvault: WARNING: This token signs in without a second step (MFA)');
    expect(made.stderr).not.toContain(token);
    // It reaches pull (this server holds no such vault), and only pull.
    expect(await withToken(token)).toEqual({ status: 404, code: 'NOT_FOUND' });
    const listed = await cli(owner, ['team', 'token', 'list', '--json']);
    const { tokens } = JSON.parse(listed.stdout) as { tokens: { id: string; name: string; scopes: string[]; revokedAt: number | null; lastUsedAt: number | null }[] };
    const view = tokens.find((t) => t.name === 'nightly backup');
    expect(view).toMatchObject({ scopes: ['sync.pull'], revokedAt: null, lastUsedAt: clock.now() });
    expect(listed.stdout + (await cli(owner, ['team', 'token', 'list'])).stdout).not.toContain(token);
    expect((await cli(owner, ['team', 'token', 'list'])).stdout).toMatch(new RegExp(`^${view?.id ?? '-'}  nightly backup  \\[sync.pull\\]  all vaults  by olive  until \\d{4}-\\d\\d-\\d\\d  last used `, 'm'));
    // The token itself given where its id belongs is refused without being echoed.
    const wrong = await cli(owner, ['team', 'token', 'revoke', token]);
    expect([wrong.status, wrong.code]).toEqual([2, 'USAGE']);
    expect(wrong.stderr).not.toContain(token);
    expect((await cli(owner, ['team', 'token', 'revoke', view?.id ?? ''])).stdout).toBe(`Token ${view?.id ?? ''} revoked: it no longer works.\n`);
    expect(await withToken(token)).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect((await cli(owner, ['team', 'token', 'revoke', view?.id ?? ''])).stdout).toBe(`Token ${view?.id ?? ''} was already revoked.\n`);
  });

  it('refuses a member, a scope that does not exist, and a token without an expiry', async () => {
    expect(await cli(member, ['team', 'token', 'list'])).toMatchObject({ status: 1, code: 'FORBIDDEN', message: 'Only owners and admins see automation tokens' });
    expect(await cli(owner, ['team', 'token', 'create', '--name', 'x', '--scope', 'everything', '--days', '1'])).toMatchObject({ status: 2, code: 'USAGE' });
    expect(await cli(owner, ['team', 'token', 'create', '--name', 'x', '--scope', 'sync.pull'])).toMatchObject({ status: 2, code: 'USAGE', message: expect.stringContaining('--days') as string });
    expect(await cli(owner, ['team', 'token', 'create', '--name', 'x', '--scope', 'sync.pull', '--days', '400'])).toMatchObject({ status: 1, code: 'INVALID_INPUT' });
  });
});

describe('crewvault team mfa', () => {
  it('lists who has which second steps and who may reset them', async () => {
    const out = await cli(owner, ['team', 'mfa', 'list', '--json']);
    const { users } = JSON.parse(out.stdout) as { users: { username: string; role: string; authenticator: boolean; mfaReset: boolean }[] };
    expect(users.map((u) => [u.username, u.role, u.authenticator, u.mfaReset]).sort()).toEqual([
      ['adam', 'admin', true, false], ['mia', 'member', false, false], ['olive', 'owner', false, true],
    ]);
    expect((await cli(owner, ['team', 'mfa', 'list'])).stdout).toContain('adam (admin)  policy optional  authenticator  recovery codes left 10  trusted devices 1\n');
    expect(await cli(member, ['team', 'mfa', 'list'])).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('lets the admin reset a member only after an owner grants it, with a fresh code given as "-"', async () => {
    expect(await cli(admin, ['team', 'mfa', 'reset', 'mia'])).toMatchObject({
      status: 1, code: 'FORBIDDEN', message: 'Resetting someone\'s two-step sign-in needs its own permission: an owner grants it (crewvault team mfa grant)',
    });
    await cli(owner, ['login', server.url], [PASSWORD]);
    expect((await cli(owner, ['team', 'mfa', 'grant', 'adam'])).stdout).toBe('adam may reset others\' two-step sign-in.\n');
    expect((await cli(owner, ['team', 'mfa', 'grant', 'ADAM'])).stdout).toBe('adam may reset others\' two-step sign-in (already so).\n');
    // Adam's sign-in is older than five minutes now: the server asks for a code, which "-" reads.
    clock.advance(FIVE_MINUTES + 30_000);
    expect(await cli(admin, ['team', 'mfa', 'reset', 'mia'])).toMatchObject({ status: 1, code: 'MFA_REQUIRED' });
    const reset = await cli(admin, ['team', 'mfa', 'reset', 'mia', '--code', '-'], [authenticatorCode(adminSecret, clock.now())]);
    // Two sessions: the helper client's that registered her, and her CLI's.
    expect(reset.stdout).toBe('Reset mia\'s two-step sign-in: no authenticator was set, 0 trusted device(s) forgotten, 2 session(s) ended. They set it up again at their next sign-in where the policy asks.\n');
    // Mia's kept session ended on the server.
    expect(await cli(member, ['whoami'])).toMatchObject({ status: 1, code: 'UNAUTHORIZED' });
    // An admin does not see owners, so an owner's name is unknown to them; by id the server refuses.
    expect(await cli(admin, ['team', 'mfa', 'reset', 'olive'])).toMatchObject({ status: 1, code: 'NOT_FOUND' });
    const { users } = JSON.parse((await cli(owner, ['team', 'mfa', 'list', '--json'])).stdout) as { users: { userId: string; username: string }[] };
    const olive = users.find((u) => u.username === 'olive')?.userId ?? '';
    expect(await cli(admin, ['team', 'mfa', 'reset', olive])).toMatchObject({ code: 'FORBIDDEN', message: 'An owner\'s two-step sign-in is never reset by someone else' });
    expect(await cli(admin, ['team', 'mfa', 'reset', 'nobody-here'])).toMatchObject({ status: 1, code: 'NOT_FOUND' });
    // Taken back after the owner's fresh sign-in; a stale one is refused first.
    expect(await cli(owner, ['team', 'mfa', 'ungrant', 'adam'])).toMatchObject({ code: 'UNAUTHORIZED' });
    await cli(owner, ['login', server.url], [PASSWORD]);
    expect((await cli(owner, ['team', 'mfa', 'ungrant', 'adam', '--json'])).stdout).toMatch(/"permission":"mfa_reset","granted":false,"changed":true/);
    expect(await cli(admin, ['team', 'mfa', 'reset', 'mia'])).toMatchObject({ code: 'FORBIDDEN' });
    expect(await cli(admin, ['team', 'mfa', 'grant', 'adam'])).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners grant or take back an admin\'s permissions' });
  });

  it('takes a code only through "-": one given as an argument (seen in ps and shell history) is refused unechoed and never sent', async () => {
    clock.advance(30_000);
    const code = authenticatorCode(adminSecret, clock.now());
    for (const args of [['team', 'mfa', 'reset', 'mia', '--code', code], ['team', 'mfa', 'grant', 'adam', `--code=${code}`]]) {
      const given = await cli(admin, args);
      expect([given.status, given.code]).toEqual([2, 'USAGE']);
      expect(holdsSecret(given.stderr + given.stdout, code)).toBe(false);
    }
    // Not spent on the server either: the same code read through "-" is still good (Adam holds no grant now).
    expect(await cli(admin, ['team', 'mfa', 'reset', 'mia', '--code', '-'], [code])).toMatchObject({ status: 1, code: 'FORBIDDEN' });
  });

  it('shows and sets the policy, per role and the idle time', async () => {
    expect((await cli(owner, ['team', 'mfa', 'policy'])).stdout).toBe(
      'MFA policy: optional for everyone; by role: owner -, admin -, member -; external users: -\nA session idle over 30 minutes does its second step again.\n');
    expect((await cli(owner, ['team', 'mfa', 'policy', 'required', '--scope', 'admin', '--json'])).stdout).toContain('"roles":{"owner":null,"admin":"required","member":null}');
    expect((await cli(owner, ['team', 'mfa', 'policy', '--idle', '15'])).stdout).toContain('over 15 minutes');
    expect((await cli(owner, ['team', 'mfa', 'policy', 'none', '--scope', 'admin', '--json'])).stdout).toContain('"admin":null');
    expect(await cli(owner, ['team', 'mfa', 'policy', 'sometimes'])).toMatchObject({ status: 2, code: 'USAGE' });
    expect(await cli(admin, ['team', 'mfa', 'policy', 'off'])).toMatchObject({ status: 1, code: 'FORBIDDEN' });
  });
});

describe('crewvault team devices and forget', () => {
  it('prints what the server says in --json as terminal-safe JSON: control, bidi and line-separator characters escaped, the value unchanged', async () => {
    // A name as a hostile or broken server could send it: right-to-left override, an 8-bit CSI, a line separator.
    const name = 'laptop\u202egnp.exe\u009b2J\u2028end';
    await server.database.query('UPDATE devices SET name = $1 WHERE device_id = $2', [name, adminDevice]);
    const out = await cli(owner, ['team', 'devices', 'adam', '--json']);
    expect(out.code).toBe('ok');
    expect(/[\p{C}\u2028\u2029]/u.test(out.stdout.replace(/\n$/, ''))).toBe(false);
    const { devices } = JSON.parse(out.stdout) as { devices: { deviceId: string; name: string | null }[] };
    expect(devices.find((d) => d.deviceId === adminDevice)?.name).toBe(name);
    expect(/[\p{C}\u2028\u2029]/u.test((await cli(owner, ['team', 'devices', 'adam'])).stdout.replace(/\n/g, ''))).toBe(false);
  });

  it('shows someone\'s devices to an owner and forgets one, ending its sessions', async () => {
    await cli(owner, ['login', server.url], [PASSWORD]);
    const listed = await cli(owner, ['team', 'devices', 'adam', '--json']);
    const { devices } = JSON.parse(listed.stdout) as { devices: { deviceId: string; trustedUntil: number | null; sessions: number }[] };
    expect(devices.find((d) => d.deviceId === adminDevice)).toMatchObject({ trustedUntil: expect.any(Number) as number, sessions: 1 });
    expect(await cli(member, ['team', 'devices', 'adam'])).toMatchObject({ code: expect.stringMatching(/FORBIDDEN|UNAUTHORIZED/) as string });
    expect((await cli(owner, ['team', 'forget', adminDevice, '--user', 'adam'])).stdout).toBe('Device forgotten: it is asked for its e-mailed code again, and 1 session(s) on it ended.\n');
    expect((await cli(owner, ['team', 'forget', adminDevice, '--user', 'adam'])).stdout).toBe('No such device was authorised or trusted: nothing changed.\n');
    expect((await cli(owner, ['team', 'devices'])).stdout).toBe('You have no authorised or trusted devices.\n');
  });
});

describe('crewvault server admin', () => {
  it('says how the server runs, to an owner only, and nothing secret', async () => {
    const out = await cli(owner, ['server', 'admin', 'status', '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({ server: server.url, database: 'pglite', listen: `127.0.0.1:${new URL(server.url).port}`, tls: false, localAdminOnly: true });
    expect((await cli(owner, ['server', 'admin', 'status'])).stdout).toContain('  server settings from this machine only: on\n');
    expect(await cli(admin, ['server', 'admin', 'status', '--data', owner.CREWVAULT_SERVER_DATA ?? ''])).toMatchObject({ status: 1, code: 'FORBIDDEN' });
    // Without the data folder's key (another folder: not this server's machine, or not its user) nothing is asked of the server.
    const elsewhere = tempDir();
    expect(await cli(owner, ['server', 'admin', 'status', '--data', elsewhere])).toMatchObject({
      status: 1, code: 'NOT_FOUND', message: `cannot read ${path.join(elsewhere, 'local-admin.key')}: run this on the server's machine as the user it runs as, with the --data folder it was given`,
    });
  });

  it('sets SMTP with the password read from stdin, never shown, and sends a test e-mail', async () => {
    const refused = await cli(owner, ['server', 'admin', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(mailbox.port), '--security', 'none', '--from', 'vault@example.test', '--smtp-user', mailbox.username, '--password', mailbox.password]);
    expect([refused.status, refused.code]).toEqual([2, 'USAGE']);
    expect(refused.stderr).not.toContain(mailbox.password);
    const set = await cli(owner, ['server', 'admin', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(mailbox.port), '--security', 'none', '--from', 'vault@example.test', '--smtp-user', mailbox.username, '--password', '-'], [mailbox.password]);
    expect(set.stdout).toBe(`SMTP: 127.0.0.1:${mailbox.port} (none), from vault@example.test, as ${mailbox.username}, password set\n`);
    expect(JSON.parse((await cli(owner, ['server', 'admin', 'smtp', 'show', '--json'])).stdout)).toEqual({
      smtp: { host: '127.0.0.1', port: mailbox.port, security: 'none', username: mailbox.username, from: 'vault@example.test', passwordSet: true },
    });
    expect((await cli(owner, ['server', 'admin', 'smtp', 'test', '--to', 'olive@example.test'])).stdout).toBe('Test e-mail sent.\n');
    expect(mailbox.lastTo('olive@example.test')?.raw).toContain('Its SMTP settings work');
    expect(await cli(admin, ['server', 'admin', 'smtp', 'show', '--data', owner.CREWVAULT_SERVER_DATA ?? ''])).toMatchObject({ code: 'FORBIDDEN', message: 'Only owners manage the server\'s e-mail and SMS settings' });
  });

  it('sets SMS with Q360\'s fields, the API key read like a password, and "Test service" sends through the provider', async () => {
    const base = ['server', 'admin', 'sms', 'set', '--service', 'clicksend', '--sms-user', sms.username, '--sender', '+15550100', '--base-url', sms.baseUrl];
    expect(await cli(owner, [...base, '--api-key', '-', '--code-minutes', '4'], [sms.apiKey])).toMatchObject({ status: 1, code: 'INVALID_INPUT', message: 'codeExpiryMinutes: a code lives at least 5 minutes' });
    expect(await cli(owner, ['server', 'admin', 'sms', 'show'])).toMatchObject({ stdout: 'SMS: not set (the server sends no text messages)\n' });
    const set = await cli(owner, [...base, '--api-key', '-'], [sms.apiKey]);
    expect(set.stdout).toBe(`SMS: clicksend as ${sms.username}, sender +15550100, API key set\n  codes live 5 minutes; "trust this device" lasts 48 hours; provider at ${sms.baseUrl}\n`);
    expect(set.stdout + set.stderr).not.toContain(sms.apiKey);
    expect((await cli(owner, ['server', 'admin', 'sms', 'test', '--phone', '+447700900123'])).stdout).toBe('Test text message sent.\n');
    expect(sms.sent.at(-1)).toMatchObject({ service: 'clicksend', text: expect.stringContaining('Your SMS settings work') as string });
    expect(readFileSync(path.join(owner.CREWVAULT_CONFIG ?? '', 'servers.json'), 'utf8')).not.toContain(sms.apiKey);
  });
});

describe('usage and completion', () => {
  it('completes team\'s and server admin\'s words from their usage, which says how server admin signs in', async () => {
    const bash = (await cli(owner, ['completion', 'bash'])).stdout;
    expect(bash).toMatch(/^\s+team\) subs='token mfa devices forget key'; opts='[^']*--for-vault[^']*'/m);
    // server's words are admin and code-key (the code key's rotation, dea7a2d), both read from its usage.
    expect(bash).toMatch(/^\s+server\) subs='admin code-key'; opts='[^']*--allow-remote-admin[^']*--api-key[^']*--force[^']*'/m);
    // No vault option leaks into team's (its --for-vault is a vault id on the server, not a file).
    expect(/^\s+team\) [^\n]*'--as /m.test(bash)).toBe(false);
    const help = (await cli(owner, ['server', '--help'])).stdout;
    expect(help).toContain('crewvault login http://127.0.0.1:PORT');
    expect(help).toContain('comes from 127.0.0.1 or ::1 (unless it runs --allow-remote-admin)');
  });
});
