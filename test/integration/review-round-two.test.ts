// Issue #10, second round: a hostile review of the first fixes tried new cases of each class.
// Each test here is one of those cases, reproduced, then closed by the mechanism (not the case).
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contexts } from '../../electron/vault/keys';
import { Vault } from '../../electron/vault/vault';
import type { VaultSession } from '../../electron/vault/service';
import { open as openSealed } from '../../electron/vault/crypto';
import { parseOtpUri } from '../../shared/otp';
import { crewvault } from '../support/cli';
import { errorCode, newRouter, ok } from '../support/router';
import { base32Bytes, hotp } from '../support/totp';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';
import { newTeam } from '../support/team';

const FORBIDDEN: unknown = expect.objectContaining({ code: 'FORBIDDEN' });
const HOTP = parseOtpUri('otpauth://hotp/Bank:me?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0&issuer=Bank');

type Ring = { groups: Map<number, { key: Buffer; secret: Buffer | undefined; version: number }>; directoryKey: Buffer };
const ringOf = (session: VaultSession): Ring => (session as unknown as { ring: Ring }).ring;

function wrapsOf(file: string, userName: string): Array<{ group_id: number; secret: number; by_role: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[string], { group_id: number; secret: number; by_role: number }>(
      'SELECT gk.group_id, gk.wrapped_secret_key IS NOT NULL AS secret, gk.by_role FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE u.name = ? ORDER BY gk.group_id',
    ).all(userName);
  } finally {
    db.close();
  }
}

/** Whether `key` opens the details of any entry written in the file. */
function opensAnyDetails(file: string, key: Buffer): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { id: number; uid: Buffer; key_version: number; sealed_details: Buffer }>('SELECT id, uid, key_version, sealed_details FROM entries').all().some((row) => {
      try {
        openSealed(key, row.sealed_details, contexts.entryDetails(row, row.key_version));
        return true;
      } catch {
        return false;
      }
    });
  } finally {
    db.close();
  }
}

const team = newTeam;

describe('keys follow a role when the role itself is redefined', () => {
  it('a role that loses its secret permissions loses the secret keys (groups rotated); one that gains them gains them', async () => {
    const { file, owner, add } = await team();
    await owner.team.defineRole('Helper', ['entries.view', 'passwords.reveal'], await owner.team.roleRevision('Helper'));
    const hank = await add('hank', 'Helper');
    await owner.createEntry({ customer: 'Acme', title: 'VPN', password: 'acme-secret-pass' });
    const saved = Buffer.from([...ringOf(hank).groups.values()][0]?.secret ?? Buffer.alloc(32));
    expect(wrapsOf(file, 'hank').map((w) => w.secret)).toEqual([1]);

    await owner.team.defineRole('Helper', ['entries.view', 'audit.read'], await owner.team.roleRevision('Helper'));
    await owner.createEntry({ customer: 'Acme', title: 'Written after', password: 'written-after-redefine' });
    expect(wrapsOf(file, 'hank').map((w) => w.secret)).toEqual([0]);
    expect(opensAnyDetails(file, saved)).toBe(false);
    await expect(hank.revealPassword((await hank.resolvePath('Acme/VPN')).id)).rejects.toThrow(FORBIDDEN);

    await owner.team.defineRole('Helper', ['entries.view', 'passwords.reveal'], await owner.team.roleRevision('Helper'));
    expect(wrapsOf(file, 'hank').map((w) => w.secret)).toEqual([1]);
    expect(await hank.revealPassword((await hank.resolvePath('Acme/Written after')).id)).toBe('written-after-redefine');
  });
});

describe('a group\'s secret key is made only by someone who may hold it', () => {
  it('a role with groups.manage but no secret permission cannot create a group', async () => {
    const { owner, add } = await team();
    await owner.team.defineRole('Auditlead', ['entries.view', 'audit.read', 'groups.manage'], await owner.team.roleRevision('Auditlead'));
    const ava = await add('ava', 'Auditlead');
    await expect(ava.team.createGroup('Ava team')).rejects.toThrow(FORBIDDEN);
    expect((await owner.team.listGroups()).map((g) => g.name)).toEqual(['Default']);
  });
});

describe('granting does not turn keys held as admin into a membership', () => {
  it('an admin cannot grant themselves the groups they hold as admin, and loses them on demotion (rotated)', async () => {
    const { file, owner, add } = await team();
    const beta = await owner.team.createGroup('Beta');
    const adam = await add('adam', 'admin');
    for (const group of (await adam.team.listGroups())) await expect(adam.team.grant(group.id, 'adam', false, await adam.team.groupRevision(group.id))).rejects.toThrow(FORBIDDEN);
    expect(wrapsOf(file, 'adam').map((w) => w.by_role)).toEqual([1, 1]);
    const saved = [...ringOf(adam).groups.values()].map((g) => Buffer.from(g.secret ?? Buffer.alloc(32)));
    await owner.team.changeRole('adam', 'technician', await owner.team.userRevision('adam'));
    expect(wrapsOf(file, 'adam')).toEqual([]);
    await owner.createEntry({ customer: 'Beta', title: 'After', password: 'after-demotion', groupId: beta.id });
    for (const key of saved) expect(opensAnyDetails(file, key)).toBe(false);
  });
});

describe('a sign-in that overlaps a disable', () => {
  it('checks and moves the audit anchor with the keys as they are when it commits: no false alarm', async () => {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    // tom's Argon2 is slow enough to be running while the disable below commits.
    await owner.createUser('tom', 'technician', 'tom password', { memory: 64 * 1024, iterations: 2, parallelism: 1 });
    await owner.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
    const vault = Vault.open(file, clock);
    const signingIn = vault.signIn('tom', 'tom password');
    await new Promise((resolve) => setImmediate(resolve)); // the claim is made; Argon2 runs
    await owner.team.disableUser('mallory', await owner.team.userRevision('mallory')); // rotates the directory key
    const tom = await signingIn;
    expect(tom.auditAnchorAtSignIn).toMatchObject({ ok: true });
    owner.lock();
    const again = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    expect(again.auditAnchorAtSignIn).toMatchObject({ ok: true });
    expect((await again.auditLog()).some((r) => r.action === 'audit.anchor_broken')).toBe(false);
  });

  it('a user disabled while their Argon2 ran is refused, and no sign-in is recorded for them', async () => {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    await owner.createUser('tom', 'technician', 'tom password', { memory: 64 * 1024, iterations: 2, parallelism: 1 });
    const vault = Vault.open(file, clock);
    const signingIn = vault.signIn('tom', 'tom password');
    await new Promise((resolve) => setImmediate(resolve));
    await owner.team.disableUser('tom', await owner.team.userRevision('tom'));
    await expect(signingIn).rejects.toThrow(expect.objectContaining({ code: 'WRONG_PASSWORD' }) as unknown);
    expect((await owner.auditLog()).filter((r) => r.action === 'signin.ok' && r.actor === 'tom')).toEqual([]);
  });
});

describe('codes-only gets no code ahead', () => {
  it('HOTP: the code, never the next one (which the next person will be shown)', async () => {
    const { owner, add } = await team();
    const entry = await owner.createEntry({ customer: 'Bank', title: 'Token', otp: HOTP });
    const cody = await add('cody', 'codes_only');
    const first = await cody.otpCode(entry.id);
    expect(first).toMatchObject({ code: hotp(base32Bytes(HOTP.params.secret), 0), next: '', counter: 0 });
    const tom = await add('tom', 'technician');
    expect(await tom.otpCode(entry.id)).toMatchObject({ code: hotp(base32Bytes(HOTP.params.secret), 1), next: hotp(base32Bytes(HOTP.params.secret), 2) });
  });
});

describe('vault-wide settings and the MFA policy are for owners and admins', () => {
  it('a users.manage custom role cannot weaken sign-in for everyone, nor list an owner\'s computers', async () => {
    const { owner, add } = await team();
    await owner.team.defineRole('Helpdesk', ['entries.view', 'users.manage'], await owner.team.roleRevision('Helpdesk'));
    const hank = await add('hank', 'Helpdesk');
    await expect(hank.mfa.setPolicy('off', undefined, (await hank.mfa.policy()).revision)).rejects.toThrow(FORBIDDEN);
    await expect(hank.mfa.setPolicy('off', 'owner', (await hank.mfa.policy()).revision)).rejects.toThrow(FORBIDDEN);
    await expect(hank.updateSettings({ idleLockMinutes: 0, trustDeviceDays: 36500 }, (await hank.settings()).revision)).rejects.toThrow(FORBIDDEN);
    await expect(hank.mfa.devices(OWNER)).rejects.toThrow(FORBIDDEN);
    expect(await owner.settings()).toMatchObject({ idleLockMinutes: 10, trustDeviceDays: 30 });
    const adam = await add('adam', 'admin');
    await expect(adam.mfa.setPolicy('off', 'owner', (await adam.mfa.policy()).revision)).rejects.toThrow(FORBIDDEN);
    await adam.mfa.setPolicy('required', 'technician', (await adam.mfa.policy()).revision);
  });
});

describe('role names that read alike are one role', () => {
  it('"team lead", "Team-Lead" and "codes only" are the built-in roles; "night_shift" is "Night shift"', async () => {
    const { owner } = await team();
    for (const name of ['team lead', 'Team-Lead', 'codes only', 'Codes_Only', 'OWNER']) {
      await expect(owner.team.defineRole(name, ['entries.view'], await owner.team.roleRevision(name)), name).rejects.toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }) as unknown);
    }
    await owner.team.defineRole('Night shift', ['entries.view'], await owner.team.roleRevision('Night shift'));
    await expect(owner.team.defineRole('night_shift', ['entries.view'], await owner.team.roleRevision('night_shift'))).rejects.toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }) as unknown);
    expect((await owner.team.defineRole('NIGHT SHIFT', ['entries.view', 'otp.view'], await owner.team.roleRevision('NIGHT SHIFT'))).permissions).toEqual(['entries.view', 'otp.view']);
  });
});

describe('a new authenticator gets a new MFA key', () => {
  it('an owner who saved a user\'s MFA key and was then disabled opens nothing of the user\'s next setup', async () => {
    const { file, clock, owner, add } = await team();
    const tom = await add('tom', 'technician');
    const now = clock.now();
    const enrol = async (): Promise<void> => {
      const setup = await tom.mfa.beginEnrolment(now);
      const secret = setup.secret.replace(/ /g, '');
      await tom.mfa.confirmEnrolment(hotp(base32Bytes(secret), Math.floor(now / 30_000)), now);
    };
    await enrol();
    const olga = await add('olga', 'owner');
    void olga;
    const db = new Database(file, { readonly: true });
    const held = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM mfa_key_wraps w JOIN users u ON u.id = w.holder_id WHERE u.name = 'olga'").get();
    db.close();
    expect(held).toEqual({ n: 1 });
    // What olga could save from the file with her key: the wrap of tom's MFA key. After she is
    // disabled, tom sets up again: the new secret is sealed under a key she never held.
    const before = new Database(file, { readonly: true }).prepare<[], { mfa_sealed_secret: Buffer }>("SELECT mfa_sealed_secret FROM users WHERE name = 'tom'").get();
    await owner.team.disableUser('olga', await owner.team.userRevision('olga'));
    clock.advance(60_000);
    await tom.mfa.disable();
    await enrol();
    const after = new Database(file, { readonly: true }).prepare<[], { mfa_sealed_secret: Buffer }>("SELECT mfa_sealed_secret FROM users WHERE name = 'tom'").get();
    expect(after?.mfa_sealed_secret.equals(before?.mfa_sealed_secret ?? Buffer.alloc(0))).toBe(false);
    const wraps = new Database(file, { readonly: true }).prepare<[], { holder: string }>('SELECT u.name AS holder FROM mfa_key_wraps w JOIN users u ON u.id = w.holder_id ORDER BY u.name').all();
    expect(wraps.map((w) => w.holder)).toEqual([OWNER, 'tom']);
  });
});

describe('opening or creating another vault through a door', () => {
  it('makes no folder for a typed path, and only from the sign-in screen', async () => {
    const folder = tempFolder();
    const { router } = newRouter(path.join(folder, 'first.crewvault'));
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    // Signed in: another vault is refused until the vault is locked.
    expect(errorCode(await router.call('vault.open', { path: path.join(folder, 'second.crewvault') }))).toBe('FORBIDDEN');
    ok(await router.call('session.lock', {}));
    const deep = path.join(folder, 'evil', 'a', 'b', 'new.crewvault');
    ok(await router.call('vault.open', { path: deep }));
    expect(errorCode(await router.call('vault.create', { username: OWNER, password: PASSWORD }))).toBe('INVALID_INPUT');
    expect(existsSync(path.join(folder, 'evil'))).toBe(false);
    mkdirSync(path.join(folder, 'chosen'));
    ok(await router.call('vault.open', { path: path.join(folder, 'chosen', 'new.crewvault') }));
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    await router.close();
  });
});

describe('secrets that are arguments', () => {
  it('--notes and --recovery-code take only "-"', () => {
    const notes = crewvault(['add', '--vault', path.join(tempFolder(), 'v.crewvault'), '--customer', 'A', '--title', 'B', '--notes', 'backup codes 1111-2222']);
    expect(notes.status).toBe(2);
    expect(notes.stderr).toMatch(/^crewvault: USAGE: --notes takes only "-"/);
    expect(notes.stderr).not.toContain('1111');
    const recovery = crewvault(['list', '--vault', path.join(tempFolder(), 'v.crewvault'), '--recovery-code', 'ABCDE-FGHJK']);
    expect(recovery.status).toBe(2);
    expect(recovery.stderr).not.toContain('ABCDE');
  });
});

