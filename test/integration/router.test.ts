// The router over a real vault: input parsed from unknown, session and role checked, every
// reply { ok, value | error }, bad input changing nothing, idle lock on an injected clock.
import { describe, expect, it } from 'vitest';
import { CONTRACT, METHOD_NAMES, type MethodName, type SessionState } from '../../shared/api/contract';
import type { Reply } from '../../shared/api/reply';
import { ClipboardGuard } from '../../shared/clipboard';
import { ROLE_PERMISSIONS } from '../../shared/policy';
import { errorCode, newRouter, ok } from '../support/router';
import { FAST_KDF, OWNER, PASSWORD } from '../support/vault';
import { Vault } from '../../electron/vault/vault';
import { Router } from '../../electron/router';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withBase } from '../support/base-revision';

const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** A valid input for every method, so each refusal below is about one thing only. */
const VALID: { readonly [M in MethodName]: unknown } = {
  'session.state': {},
  'vault.create': { username: 'bob', password: 'another password' },
  'vault.open': { path: '/nonexistent/elsewhere.crewvault' },
  'vault.pick': {},
  'ui.settings': {},
  'ui.setTheme': { theme: 'dark' },
  'session.signIn': { username: OWNER, password: PASSWORD },
  'session.lock': {},
  'session.changePassword': { current: PASSWORD, next: 'a brand new password' },
  'session.verifyCode': { code: '123456' },
  'mfa.status': {},
  'mfa.begin': {},
  'mfa.confirm': { code: '123456' },
  'mfa.disable': { password: PASSWORD },
  'mfa.regenerate': { password: PASSWORD },
  'mfa.setPolicy': { level: 'required', baseRevision: 0 },
  'mfa.reset': { username: 'bob', password: PASSWORD },
  'mfa.emergency': { username: 'bob' },
  'mfa.showKey': { password: PASSWORD },
  'mfa.policy': {},
  'mfa.devices': {},
  'mfa.forgetDevice': { id: 1 },
  'settings.update': { trustDeviceDays: 7, baseRevision: 0 },
  'customers.list': {},
  'entries.list': {},
  'entries.get': { id: 1 },
  'entries.create': { customer: 'Acme', title: 'New' },
  'entries.update': { id: 1, baseRevision: 1, changes: { title: 'Renamed' } },
  'entries.delete': { id: 1, baseRevision: 1 },
  'otp.code': { id: 1 },
  'secrets.reveal': { id: 1, what: 'password' },
  'secrets.copy': { id: 1, what: 'otpCode' },
  'clipboard.copy': { text: 'ABCDE-FGHIJ' },
  'url.open': { id: 1 },
  'audit.list': {},
  'audit.export': {},
  'groups.list': {},
  'groups.create': { name: 'Night shift' },
  'groups.members': { id: 1 },
  'groups.grant': { id: 1, username: 'bob', baseRevision: 1 },
  'groups.revoke': { id: 1, username: 'bob', baseRevision: 1 },
  'groups.candidates': { id: 1 },
  'groups.setLead': { id: 1, username: 'bob', lead: true, baseRevision: 1 },
  'groups.rename': { id: 1, name: 'Day shift', baseRevision: 1 },
  'groups.delete': { id: 1, baseRevision: 1 },
  'groups.setServerCodes': { id: 1, on: true, baseRevision: 1 },
  'groups.rotateKey': { id: 1 },
  'entries.move': { id: 1, groupId: 1, baseRevision: 1 },
  'users.list': {},
  'users.create': { username: 'bob', role: 'technician', password: 'bob password' },
  'users.disable': { username: 'bob', baseRevision: 1 },
  'users.setRole': { username: 'bob', role: 'auditor', baseRevision: 1 },
  'users.resetPassword': { username: 'bob', password: 'new bob password', baseRevision: 1 },
  'roles.list': {},
  'roles.define': { name: 'Night shift', permissions: ['entries.view', 'otp.view'], baseRevision: 0 },
  'import.begin': { size: 10 },
  'import.chunk': { uploadId: '0'.repeat(32), offset: 0, data: 'AAAA' },
  'import.preview': { uploadId: '0'.repeat(32) },
  'import.commit': { uploadId: '0'.repeat(32), groupId: 1 },
  'import.cancel': { uploadId: '0'.repeat(32) },
  'vault.backup': { path: '/nonexistent/b.cvbackup', password: PASSWORD, backupPassword: 'backup password', backupPasswordAgain: 'backup password' },
  'vault.export': { format: 'otpauth', path: '/nonexistent/e.txt', password: PASSWORD, plaintext: true },
  // The team server's calls: test/integration/router-team.test.ts.
  'team.status': {},
  'team.connect': { url: 'https://10.255.255.1:1', username: 'alice', password: 'server password' },
  'team.secondStep': { kind: 'code', code: '123456' },
  'team.enrolStart': {},
  'team.enrolConfirm': { code: '123456' },
  'team.emailSend': {},
  'team.cancel': {},
  'team.sync': {},
  'team.move': { confirm: true },
  'team.live': { on: false },
  'team.signOut': {},
  // The server administration screens: test/integration/router-team-admin.test.ts.
  'teamAdmin.overview': {},
  'teamAdmin.mfaList': {},
  'teamAdmin.mfaReset': { userId: '0'.repeat(32), code: '123456' },
  'teamAdmin.grant': { userId: '0'.repeat(32), granted: true },
  'teamAdmin.external': { userId: '0'.repeat(32), external: true },
  'teamAdmin.policy': {},
  'teamAdmin.setPolicy': { scope: 'member', level: 'required' },
  'teamAdmin.setIdle': { minutes: 30 },
  'teamAdmin.devices': { userId: '0'.repeat(32) },
  'teamAdmin.forgetDevice': { userId: '0'.repeat(32), deviceId: 'device-0000000000000' },
  'teamAdmin.tokens': {},
  'teamAdmin.createToken': { name: 'nightly backup', scopes: ['sync.pull'], days: 30 },
  'teamAdmin.revokeToken': { id: '0'.repeat(32) },
};

/** Inputs each method must refuse with INVALID_INPUT. */
const INVALID: ReadonlyArray<unknown> = ['a string', 42, [], { unexpected: true }, { id: 'one' }, { id: -1 }, { id: 1.5 }];

async function signedInRouter() {
  const setup = newRouter();
  ok(await setup.router.call('vault.create', { username: OWNER, password: PASSWORD }));
  const entry = ok(await setup.router.call('entries.create', {
    customer: 'Acme Corp', title: 'M365 admin', username: 'admin@acme.com', password: 'hunter2!', otp: { uri: `otpauth://totp/Microsoft:admin?secret=${RFC}&digits=8` },
  })) as { id: number };
  return { ...setup, entryId: entry.id };
}

async function snapshot(router: ReturnType<typeof newRouter>['router']): Promise<string> {
  const entries = ok(await router.call('entries.list', {}));
  const audit = ok(await router.call('audit.list', {})) as unknown[];
  return JSON.stringify({ entries, auditRows: audit.length });
}

describe('the router', () => {
  it('handles exactly the contract', async () => {
    const { router } = newRouter();
    expect(errorCode(await router.call('entries.dropTable', {}))).toBe('UNKNOWN_METHOD');
    expect(errorCode(await router.call('__proto__', {}))).toBe('UNKNOWN_METHOD');
    expect(Object.keys(VALID).sort()).toEqual([...METHOD_NAMES].sort());
  });

  it.each(METHOD_NAMES)('refuses bad input to %s with INVALID_INPUT and changes nothing', async (method) => {
    const { router } = await signedInRouter();
    const before = await snapshot(router);
    for (const input of INVALID) {
      if (CONTRACT[method].input.safeParse(input).success) continue;
      const reply = await router.call(method, input);
      expect(errorCode(reply), JSON.stringify(input)).toBe('INVALID_INPUT');
      if (!reply.ok) expect(reply.error.message).not.toMatch(/hunter2|GEZD/);
    }
    expect(await snapshot(router)).toBe(before);
  });

  it('refuses bad values inside valid shapes with a clear message, changing nothing', async () => {
    const { router, entryId } = await signedInRouter();
    const before = await snapshot(router);
    const cases: Array<[MethodName, unknown, string]> = [
      ['entries.create', { customer: 'Acme', title: 'x'.repeat(201) }, 'INVALID_INPUT'],
      ['entries.create', { customer: '', title: 'x' }, 'INVALID_INPUT'],
      ['entries.create', { customer: 'Acme', title: 'x', otp: { secret: 'ABC0DEFG' } }, 'INVALID_SECRET'],
      ['entries.create', { customer: 'Acme', title: 'x', otp: { uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5' } }, 'INVALID_URI'],
      ['entries.create', { customer: 'Acme', title: 'x', otp: { secret: 'JBSWY3DPEHPK3PXP', digits: 9 } }, 'INVALID_INPUT'],
      ['entries.update', { id: entryId, baseRevision: 1, changes: { otp: { secret: 'JBSWY3DPEHPK3PX1' } } }, 'INVALID_SECRET'],
      ['entries.get', { id: 999 }, 'NOT_FOUND'],
      ['secrets.reveal', { id: entryId, what: 'everything' }, 'INVALID_INPUT'],
    ];
    for (const [method, input, code] of cases) {
      const reply = await router.call(method, input);
      expect(errorCode(reply), `${method} ${JSON.stringify(input)}`).toBe(code);
    }
    expect(await snapshot(router)).toBe(before);
  });

  it('answers LOCKED for every non-public method without a session', async () => {
    const { router } = await signedInRouter();
    ok(await router.call('session.lock', {}));
    for (const method of METHOD_NAMES) {
      if (CONTRACT[method].access === 'public') continue;
      expect(errorCode(await router.call(method, VALID[method])), method).toBe('LOCKED');
    }
  });

  it('locks after the idle minutes, counting only calls a person makes', async () => {
    const { router, clock, entryId } = await signedInRouter();
    clock.advance(9 * 60_000);
    ok(await router.call('otp.code', { id: entryId })); // polling does not count as activity
    clock.advance(60_000);
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
    expect((ok(await router.call('session.state', {})) as { user: unknown }).user).toBeNull();

    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    clock.advance(9 * 60_000);
    ok(await router.call('entries.list', {})); // a person's call resets the timer
    clock.advance(9 * 60_000);
    ok(await router.call('entries.list', {}));
    router.lock(); // what Electron does on lock-screen and suspend
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
  });

  it('never locks for idleness in the middle of a call a person made in time; the call\'s end starts the idle minutes again', async () => {
    // The door's own work (the system browser starting) takes 2 minutes on the hand-moved clock,
    // with the door's idle timer firing meanwhile: the call began 9 minutes into a 10-minute lock.
    let during = (): Promise<void> => Promise.resolve();
    const setup = newRouter(undefined, { openExternal: () => during() });
    const { router, clock } = setup;
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme Corp', title: 'Portal', url: 'https://portal.example' })) as { id: number };
    clock.advance(9 * 60_000);
    during = async () => {
      for (let i = 0; i < 8; i++) {
        clock.advance(15_000);
        await router.checkIdle();
      }
    };
    expect(ok(await router.call('url.open', { id: entry.id }))).toEqual({ opened: true });
    // 11 minutes since sign-in, none since the call ended.
    clock.advance(9 * 60_000);
    await router.checkIdle();
    ok(await router.call('entries.list', {}));
    clock.advance(10 * 60_000);
    await router.checkIdle();
    expect(errorCode(await router.call('entries.list', {}))).toBe('LOCKED');
  });

  it('a call holds the idle lock off for one more idle period at most: a wait nobody answers does not keep the vault open', async () => {
    let during = (): Promise<void> => Promise.resolve();
    const { router, clock } = newRouter(undefined, { openExternal: () => during() });
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme Corp', title: 'Portal', url: 'https://portal.example' })) as { id: number };
    // The door's work (an OS prompt, say) goes on for 25 minutes; the door's timer fires every 15 s.
    let lockedAfter: number | undefined;
    during = async () => {
      for (let waited = 15_000; waited <= 25 * 60_000; waited += 15_000) {
        clock.advance(15_000);
        await router.checkIdle();
        if (lockedAfter === undefined && (ok(await router.call('session.state', {})) as SessionState).user === null) lockedAfter = waited;
      }
    };
    await router.call('url.open', { id: entry.id });
    expect(lockedAfter).toBe(20 * 60_000);
  });

  it('a save dialog left open past the idle minutes locks the vault, and the export then writes nothing; answered in time, it is written', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'crewvault-dialog-'));
    let answer = (suggested: string): Promise<string | undefined> => Promise.resolve(path.join(folder, suggested));
    const setup = newRouter(undefined, { pickSaveFile: (suggested) => answer(suggested) });
    const { router, clock } = setup;
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme Corp', title: 'VPN', otp: { uri: `otpauth://totp/VPN?secret=${RFC}` } }));
    const exportInput = { format: 'otpauth', password: PASSWORD, plaintext: true };
    answer = async (suggested) => {
      for (let i = 0; i < 40; i++) {
        clock.advance(15_000);
        await router.checkIdle();
      }
      return path.join(folder, `late-${suggested}`);
    };
    expect(errorCode(await router.call('vault.export', exportInput))).toBe('LOCKED');
    expect(readdirSync(folder)).toEqual([]);
    expect((ok(await router.call('session.state', {})) as SessionState).user).toBeNull();

    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    answer = async (suggested) => {
      for (let i = 0; i < 36; i++) {
        clock.advance(15_000);
        await router.checkIdle();
      }
      return path.join(folder, suggested);
    };
    expect(ok(await router.call('vault.export', exportInput))).toMatchObject({ entries: 1 });
    expect(readdirSync(folder)).toEqual(['crewvault-export.txt']);
    ok(await router.call('entries.list', {}));
  });

  it('a dialog still open from a session the idle lock ended does not make the next session\'s working call look idle', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'crewvault-dialog-'));
    let release: (file: string | undefined) => void = () => undefined;
    let idled = false;
    let during = (): Promise<void> => Promise.resolve();
    const { router, clock } = newRouter(undefined, {
      openExternal: () => during(),
      pickSaveFile: async () => {
        for (let i = 0; i < 44; i++) {
          clock.advance(15_000);
          await router.checkIdle();
        }
        idled = true;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    });
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme Corp', title: 'Portal', url: 'https://portal.example' })) as { id: number };
    const exporting = router.call('vault.export', { format: 'otpauth', password: PASSWORD, plaintext: true });
    await expect.poll(() => idled).toBe(true);
    expect((ok(await router.call('session.state', {})) as SessionState).user).toBeNull();
    // Signed in again, the first session's dialog still open: a call of this one works for 11 minutes.
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    during = async () => {
      for (let i = 0; i < 44; i++) {
        clock.advance(15_000);
        await router.checkIdle();
      }
    };
    expect(ok(await router.call('url.open', { id: entry.id }))).toEqual({ opened: true });
    ok(await router.call('entries.list', {}));
    // The first session's call ends 9 minutes later: not this session's use, so its 10 minutes run from its own last call.
    clock.advance(9 * 60_000);
    release(path.join(folder, 'late.txt'));
    expect(errorCode(await exporting)).toBe('LOCKED');
    expect(readdirSync(folder)).toEqual([]);
    clock.advance(60_000);
    await router.checkIdle();
    expect((ok(await router.call('session.state', {})) as SessionState).user).toBeNull();
  });

  it('signs in, gives codes computed in the main process, reveals and copies with audit', async () => {
    const { router, clock, entryId } = await signedInRouter();
    clock.set(1111111109_250);
    expect(ok(await router.call('otp.code', { id: entryId }))).toEqual({ kind: 'totp', code: '07081804', next: '14050471', period: 30, remainingMs: 750 });
    const list = JSON.stringify(ok(await router.call('entries.list', {}))) + JSON.stringify(ok(await router.call('entries.get', { id: entryId })));
    expect(list).not.toContain('hunter2');
    expect(list).not.toContain(RFC);
    expect(ok(await router.call('secrets.reveal', { id: entryId, what: 'password' }))).toEqual({ password: 'hunter2!' });
    expect(ok(await router.call('secrets.reveal', { id: entryId, what: 'otpSecret' }))).toMatchObject({ otpSecret: 'GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ' });
    expect(ok(await router.call('secrets.copy', { id: entryId, what: 'password' }))).toEqual({ value: 'hunter2!', clearAfterSeconds: 30 });
    const actions = (ok(await router.call('audit.list', {})) as Array<{ action: string }>).map((r) => r.action);
    expect(actions.slice(-4)).toEqual(['otp.code', 'password.reveal', 'otp.reveal_secret', 'password.copy']);
  });

  it('opens another vault file by full path, remembering it, and refuses a file that is not a vault', async () => {
    const remembered: string[] = [];
    const first = newRouter();
    const { router } = first;
    const other = newRouter();
    ok(await other.router.call('vault.create', { username: 'zoe', password: 'zoe password' }));
    await other.router.close();
    const withMemory = new Router({ vaultPath: first.vaultPath, clock: first.clock, clipboard: { kind: 'page' }, kdf: FAST_KDF, onVaultOpened: (file) => remembered.push(file) });
    expect(errorCode(await withMemory.call('vault.open', { path: 'relative.crewvault' }))).toBe('INVALID_INPUT');
    const notVault = path.join(path.dirname(first.vaultPath), 'notes.txt');
    writeFileSync(notVault, 'hello');
    expect(errorCode(await withMemory.call('vault.open', { path: notVault }))).toBe('VAULT_CORRUPT');
    const state = ok(await withMemory.call('vault.open', { path: other.vaultPath })) as { vault: { path: string; exists: boolean } };
    expect(state.vault).toEqual({ path: other.vaultPath, exists: true, canPick: false });
    expect(remembered).toEqual([other.vaultPath]);
    ok(await withMemory.call('session.signIn', { username: 'zoe', password: 'zoe password' }));
    expect(errorCode(await withMemory.call('vault.pick', {}))).toBe('INVALID_INPUT'); // no dialog at this door
    await withMemory.close();
    await router.close();
  });

  it('opens the file the door\'s native dialog picks; a cancelled dialog changes nothing', async () => {
    const other = newRouter();
    ok(await other.router.call('vault.create', { username: 'zoe', password: 'zoe password' }));
    await other.router.close();
    const first = newRouter();
    const answers: Array<string | undefined> = [undefined, other.vaultPath];
    const router = new Router({ vaultPath: first.vaultPath, clock: first.clock, clipboard: { kind: 'page' }, kdf: FAST_KDF, pickVaultFile: () => Promise.resolve(answers.shift()) });
    const cancelled = ok(await router.call('vault.pick', {})) as SessionState;
    expect(cancelled.vault).toEqual({ path: first.vaultPath, exists: false, canPick: true });
    const picked = ok(await router.call('vault.pick', {})) as SessionState;
    expect(picked.vault).toEqual({ path: other.vaultPath, exists: true, canPick: true });
    ok(await router.call('session.signIn', { username: 'zoe', password: 'zoe password' }));
    await router.close();
  });

  it('refuses a wrong password, an existing vault and keeps errors free of secrets', async () => {
    const { router } = await signedInRouter();
    ok(await router.call('session.lock', {}));
    const wrong = await router.call('session.signIn', { username: OWNER, password: 'not it' });
    expect(errorCode(wrong)).toBe('WRONG_PASSWORD');
    expect(errorCode(await router.call('vault.create', { username: 'eve', password: 'whatever123' }))).toBe('VAULT_EXISTS');
  });

  it('says how long a sign-in wait runs, in seconds, so the lock screen can count it down', async () => {
    const { router, clock } = await signedInRouter();
    ok(await router.call('session.lock', {}));
    // Three wrong passwords are free; the third starts a 1 s wait, and says so.
    expect(await router.call('session.signIn', { username: OWNER, password: 'not it' })).toEqual({ ok: false, error: { code: 'WRONG_PASSWORD', message: 'Wrong user name or password.' } });
    expect(await router.call('session.signIn', { username: OWNER, password: 'not it' })).toEqual({ ok: false, error: { code: 'WRONG_PASSWORD', message: 'Wrong user name or password.' } });
    expect(await router.call('session.signIn', { username: OWNER, password: 'not it' }))
      .toEqual({ ok: false, error: { code: 'WRONG_PASSWORD', message: 'Wrong user name or password.', retryAfterSeconds: 1 } });
    clock.advance(400);
    expect(await router.call('session.signIn', { username: OWNER, password: PASSWORD }))
      .toEqual({ ok: false, error: { code: 'TOO_MANY_ATTEMPTS', message: 'Too many failed sign-in attempts: try again in 1 s.', retryAfterSeconds: 1 } });
    clock.advance(600);
    // The fourth wrong one doubles it; an unknown name is answered alike.
    expect(await router.call('session.signIn', { username: OWNER, password: 'not it' })).toMatchObject({ ok: false, error: { retryAfterSeconds: 2 } });
    expect(await router.call('session.signIn', { username: OWNER, password: PASSWORD })).toMatchObject({ ok: false, error: { code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: 2 } });
    for (let i = 0; i < 3; i++) expect(errorCode(await router.call('session.signIn', { username: 'nobody', password: 'x' }))).toBe('WRONG_PASSWORD');
    expect(await router.call('session.signIn', { username: 'nobody', password: 'x' })).toMatchObject({ ok: false, error: { code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: 1 } });
    clock.advance(2000);
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
  });

  it('replaces a one-time password right after signing in with it, without asking for it again; later, the current one is asked', async () => {
    const { router, clock } = await signedInRouter();
    ok(await router.call('users.create', { username: 'bob', role: 'technician', password: 'bob one-time' }));
    ok(await router.call('session.signIn', { username: 'bob', password: 'bob one-time' }));
    // The one-time password again is no new password (found out by the vault, not the page).
    expect(await router.call('session.changePassword', { next: 'bob one-time' })).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: 'The new password must differ from the one-time password.' } });
    expect(ok(await router.call('session.changePassword', { next: 'bob chose this' }))).toMatchObject({ mustChangePassword: false });
    ok(await router.call('session.signIn', { username: 'bob', password: 'bob chose this' }));
    // A password of one's own is never changed without it.
    expect(await router.call('session.changePassword', { next: 'bob again' })).toEqual({ ok: false, error: { code: 'WRONG_PASSWORD', message: 'Enter your current password.' } });

    // Signed in with a one-time password too long ago: asked, as ever.
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    ok(await router.call('settings.update', await withBase(router, 'settings.update', { idleLockMinutes: 60 })));
    ok(await router.call('users.resetPassword', await withBase(router, 'users.resetPassword', { username: 'bob', password: 'bob second one-time' })));
    ok(await router.call('session.signIn', { username: 'bob', password: 'bob second one-time' }));
    clock.advance(10 * 60_000 + 1);
    expect(errorCode(await router.call('session.changePassword', { next: 'bob chose again' }))).toBe('WRONG_PASSWORD');
    ok(await router.call('session.changePassword', { current: 'bob second one-time', next: 'bob chose again' }));
  });

  it('checks permissions with the policy table: an auditor reads, reveals nothing', async () => {
    const { router, vaultPath, entryId } = await signedInRouter();
    await router.close();
    const vault = Vault.open(vaultPath);
    const owner = await vault.signIn(OWNER, PASSWORD);
    await owner.createUser('audrey', 'auditor', 'auditor password', FAST_KDF);
    await owner.createUser('carl', 'codes_only', 'codes password', FAST_KDF);
    await vault.close();

    const { router: r2 } = newRouter(vaultPath);
    const expectations: Array<[string, string, MethodName, unknown, string]> = [
      ['audrey', 'auditor password', 'entries.list', {}, 'ok'],
      ['audrey', 'auditor password', 'audit.list', {}, 'ok'],
      ['audrey', 'auditor password', 'otp.code', { id: entryId }, 'FORBIDDEN'],
      ['audrey', 'auditor password', 'secrets.reveal', { id: entryId, what: 'password' }, 'FORBIDDEN'],
      ['audrey', 'auditor password', 'entries.create', { customer: 'A', title: 'B' }, 'FORBIDDEN'],
      ['carl', 'codes password', 'otp.code', { id: entryId }, 'ok'],
      ['carl', 'codes password', 'secrets.copy', { id: entryId, what: 'otpCode' }, 'ok'],
      ['carl', 'codes password', 'secrets.copy', { id: entryId, what: 'password' }, 'FORBIDDEN'],
      ['carl', 'codes password', 'secrets.reveal', { id: entryId, what: 'otpSecret' }, 'FORBIDDEN'],
      ['carl', 'codes password', 'audit.list', {}, 'FORBIDDEN'],
    ];
    for (const name of ['audrey', 'carl']) {
      // Made by an owner with a one-time password: nothing but changing it works at first.
      const first = expectations.find(([u]) => u === name);
      if (!first) continue;
      const state = ok(await r2.call('session.signIn', { username: name, password: first[1] })) as { mustChangePassword: boolean };
      expect(state.mustChangePassword).toBe(true);
      expect(errorCode(await r2.call('entries.list', {}))).toBe('PASSWORD_CHANGE_REQUIRED');
      ok(await r2.call('session.changePassword', { current: first[1], next: `${first[1]}!` }));
    }
    for (const [user, oneTime, method, input, expected] of expectations) {
      const password = `${oneTime}!`;
      const state = ok(await r2.call('session.signIn', { username: user, password })) as { permissions: string[]; user: { role: 'auditor' | 'codes_only' } };
      expect(state.permissions).toEqual([...ROLE_PERMISSIONS[state.user.role]]);
      const reply: Reply<unknown> = await r2.call(method, input);
      expect(errorCode(reply), `${user} ${method}`).toBe(expected);
    }
    await r2.close();
  });
});

/** Lets the clipboard guard's read-compare-write (a few promise steps, no timers) finish. */
async function settled(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('copying under Electron (the main process holds the clipboard)', () => {
  it('writes secrets and shown codes itself, never returns them, and clears after the setting', async () => {
    // The system clipboard and its timer, as Electron's main process would hand them in.
    let board = '';
    const timers: Array<{ at: number; run: () => void }> = [];
    const { vaultPath, clock } = newRouter();
    const guard = new ClipboardGuard(
      { read: () => Promise.resolve(board), write: (text) => { board = text; return Promise.resolve(); } },
      { set: (run, ms) => timers.push({ at: clock.now() + ms, run }), clear: (handle) => { timers.splice(Number(handle) - 1, 1); } },
    );
    const router = new Router({ vaultPath, clock, clipboard: { kind: 'main', guard }, kdf: FAST_KDF });
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'VPN', password: 'hunter2!' })) as { id: number };

    expect(ok(await router.call('secrets.copy', { id: entry.id, what: 'password' }))).toEqual({ clearAfterSeconds: 30 });
    expect(board).toBe('hunter2!');
    expect(ok(await router.call('clipboard.copy', { text: 'ABCDE-FGHIJ' }))).toEqual({ clearAfterSeconds: 30 });
    expect(board).toBe('ABCDE-FGHIJ');
    clock.advance(30_000);
    const due = timers.filter((t) => t.at <= clock.now());
    expect(due.length).toBeGreaterThan(0);
    for (const t of due) t.run();
    await settled();
    expect(board).toBe('');

    // Locking clears at once what Crewvault put there.
    ok(await router.call('clipboard.copy', { text: 'KLMNO-PQRST' }));
    ok(await router.call('session.lock', {}));
    await settled();
    expect(board).toBe('');
    expect(errorCode(await router.call('clipboard.copy', { text: 'x' }))).toBe('LOCKED');
    await router.close();
  });
});
