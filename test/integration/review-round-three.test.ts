// Issue #10, third round: new cases a review found past the second round's fixes, each closed
// by its mechanism (keys held by role stay so; what a file says is printed safely; names that
// people read are held to one rule; codes-only takes HOTP codes one at a time).
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri } from '../../shared/otp';
import { FAST_KDF, manualClock } from '../support/vault';
import { newTeam } from '../support/team';

const HOTP = parseOtpUri('otpauth://hotp/Bank:me?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0&issuer=Bank');
const TOTP = parseOtpUri('otpauth://totp/Acme:admin?secret=JBSWY3DPEHPK3PXP&issuer=Acme');

const team = newTeam;

function byRoleOf(file: string, name: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[string], { by_role: number }>('SELECT gk.by_role FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE u.name = ? ORDER BY gk.group_id').all(name).map((r) => r.by_role);
  } finally {
    db.close();
  }
}

describe('a key held by role stays held by role when granted again', () => {
  it('a lead (made by an admin) granting the admin every group does not let the admin keep them after demotion', async () => {
    const { file, owner, add } = await team();
    const acme = await owner.team.createGroup('Acme');
    const bob = await add('bob', 'admin');
    await bob.createUser('pup', 'team_lead', 'pup password', FAST_KDF);
    await bob.team.grant(acme.id, 'pup', true, await bob.team.groupRevision(acme.id));
    const pup = await Vault.open(file, manualClock()).signIn('pup', 'pup password');
    await pup.changePassword('pup password', 'pup password!', FAST_KDF);
    await pup.team.grant(acme.id, 'bob', false, await pup.team.groupRevision(acme.id));
    await owner.team.grant(acme.id, 'bob', false, await owner.team.groupRevision(acme.id));
    expect(byRoleOf(file, 'bob')).toEqual([1, 1]);
    await owner.team.changeRole('bob', 'technician', await owner.team.userRevision('bob'));
    expect(byRoleOf(file, 'bob')).toEqual([]);
    await owner.createEntry({ customer: 'Acme', title: 'After', password: 'after-demotion', groupId: acme.id });
    expect(await bob.listEntries()).toEqual([]);
  });
});

describe('what an import file says is printed safely', () => {
  it('escape sequences in titles, problems and messages come back as <U+…>, cut short', async () => {
    const { owner } = await team();
    const hostile = `\u001b]0;pwned\u0007\u001b[2J\u001b[31mFAKE${'A'.repeat(10_000)}`;
    const outcome = await owner.importEntries({
      format: 'test',
      entries: [{ customer: 'Acme', title: hostile, otp: { params: { ...TOTP.params, secret: 'JBSWY3D\u001bPEHPK3PXP' } } }],
      problems: [{ where: hostile, message: `bad \u001b[2J ${'B'.repeat(10_000)}` }],
      warnings: [],
    }, { commit: false });
    for (const p of outcome.problems) {
      expect(p.where).not.toMatch(/\p{Cc}/u);
      expect(p.message).not.toMatch(/\p{Cc}/u);
      expect(p.where.length).toBeLessThanOrEqual(81);
      expect(p.message.length).toBeLessThanOrEqual(301);
    }
    expect(outcome.problems[0]?.where).toContain('<U+001B>');
  });
});

describe('names people read are held to one rule', () => {
  it.each([
    ['title', { title: 'moc.elgoog\u202E' }],
    ['username', { title: 'Mail', username: 'a\u200Bdmin' }],
    ['url', { title: 'Portal', url: 'https://\u202Eexample.com' }],
    ['C1 control in a username', { title: 'Mail', username: 'ad\u0085min' }],
  ])('a look-alike or control character in the %s is refused', async (_what, fields) => {
    const { owner } = await team();
    await expect(owner.createEntry({ customer: 'Acme', ...fields })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown);
    expect(await owner.listEntries()).toEqual([]);
  });

  it('an OTP issuer is a name: a bidi override or an endless one is refused', async () => {
    const { owner } = await team();
    await expect(owner.createEntry({ customer: 'Acme', title: 'VPN', otp: { params: TOTP.params, issuer: 'Acme\u202E' } })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown);
    await expect(owner.createEntry({ customer: 'Acme', title: 'VPN', otp: { params: TOTP.params, issuer: 'A'.repeat(201) } })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown);
    const outcome = await owner.importEntries({ format: 'test', entries: [{ customer: 'Acme', title: 'VPN', otp: { params: TOTP.params, issuer: 'Ac\u200Bme' } }], problems: [], warnings: [] }, { commit: false });
    expect(outcome.problems.map((p) => p.message)).toEqual([expect.stringContaining('U+200B')]);
  });
});

describe('codes-only takes HOTP codes one at a time', () => {
  it('a second code within 30 s is refused; after it, the next comes', async () => {
    const { clock, owner, add } = await team();
    const entry = await owner.createEntry({ customer: 'Bank', title: 'Token', otp: HOTP });
    const cody = await add('cody', 'codes_only');
    expect(await cody.otpCode(entry.id)).toMatchObject({ counter: 0 });
    await expect(cody.otpCode(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'TOO_MANY_ATTEMPTS' }) as unknown);
    await expect(cody.otpCode(entry.id, clock.now(), 'copy')).rejects.toThrow(expect.objectContaining({ code: 'TOO_MANY_ATTEMPTS' }) as unknown);
    clock.advance(30_000);
    expect(await cody.otpCode(entry.id)).toMatchObject({ counter: 1 });
    // Someone who may see the key is not held back.
    const tom = await add('tom', 'technician');
    expect(await tom.otpCode(entry.id)).toMatchObject({ counter: 2 });
    expect(await tom.otpCode(entry.id)).toMatchObject({ counter: 3 });
  });
});
