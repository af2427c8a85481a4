// Keys that follow roles (issue #10, findings 3 and 4): every access group has a list key and a
// secret key, and only roles that need secrets are given the secret key — so an auditor with a
// copy of the file and their own password opens no password, note or OTP key. Leaving a role
// takes away the keys held because of it, and those groups are rotated like a revoke.
// Played from the file, as the reviewer's "20-line script" did: every key a user can unwrap.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPrivateKey, open as openSealed, unwrapKey, type KeyPair } from '../../electron/vault/crypto';
import { deriveKek } from '../../electron/vault/crypto';
import { contexts } from '../../electron/vault/keys';
import { parseKdf } from '../../electron/vault/records';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri, totpCode } from '../../shared/otp';
import { FAST_KDF, manualClock, newVault, tempFolder } from '../support/vault';

const TOTP = parseOtpUri('otpauth://totp/Acme:admin?secret=JBSWY3DPEHPK3PXP&issuer=Acme');
const FORBIDDEN: unknown = expect.objectContaining({ code: 'FORBIDDEN' });

interface FileUser { id: number; uid: Buffer; kdf: string; public_key: Buffer; sealed_private_key: Buffer }

/**
 * Everything `name` can open from the file alone with their password: for every entry, whether
 * any key they can unwrap (list key, secret key, of any version they hold) opens its details.
 */
async function secretsOpenedFromFile(file: string, name: string, password: string): Promise<{ entries: number; opened: number }> {
  const db = new Database(file, { readonly: true });
  try {
    const user = db.prepare<[string], FileUser>('SELECT id, uid, kdf, public_key, sealed_private_key FROM users WHERE name = ?').get(name);
    if (!user) throw new Error(`no user ${name}`);
    const kek = await deriveKek(password, parseKdf(user.kdf));
    const keyPair: KeyPair = { publicKey: user.public_key, privateKey: importPrivateKey(openSealed(kek, user.sealed_private_key, contexts.privateKey(user)), user.public_key) };
    const keys: Buffer[] = [];
    const wraps = db.prepare<[number], { group_id: number; group_uid: Buffer; key_version: number; wrapped_key: Buffer; wrapped_secret_key: Buffer | null }>('SELECT gk.group_id, g.uid AS group_uid, gk.key_version, gk.wrapped_key, gk.wrapped_secret_key FROM group_keys gk JOIN access_groups g ON g.id = gk.group_id WHERE gk.user_id = ?').all(user.id);
    for (const w of wraps) {
      keys.push(unwrapKey(keyPair, w.wrapped_key, contexts.groupKey({ id: w.group_id, uid: w.group_uid }, user, w.key_version)));
      if (w.wrapped_secret_key) keys.push(unwrapKey(keyPair, w.wrapped_secret_key, contexts.groupSecretKey({ id: w.group_id, uid: w.group_uid }, user, w.key_version)));
    }
    const rows = db.prepare<[], { id: number; uid: Buffer; key_version: number; sealed_details: Buffer }>('SELECT id, uid, key_version, sealed_details FROM entries').all();
    let opened = 0;
    for (const row of rows) {
      if (keys.some((key) => { try { openSealed(key, row.sealed_details, contexts.entryDetails(row, row.key_version)); return true; } catch { return false; } })) opened++;
    }
    return { entries: rows.length, opened };
  } finally {
    db.close();
  }
}

async function team() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  for (const [name, role] of [['tom', 'technician'], ['cody', 'codes_only'], ['audrey', 'auditor'], ['adam', 'admin']] as const) {
    await owner.createUser(name, role, `${name} password`, FAST_KDF);
  }
  const acme = owner.team.createGroup('Acme team');
  for (const name of ['tom', 'cody', 'audrey']) owner.team.grant(acme.id, name);
  const entry = owner.createEntry({ customer: 'Acme', title: 'M365 admin', username: 'admin@acme.test', password: 'acme-secret-pass', notes: 'acme notes', otp: TOTP, groupId: acme.id });
  owner.createEntry({ customer: 'Globex', title: 'VPN', password: 'globex-pass' });
  const vault = Vault.open(file, clock);
  const as = async (name: string) => {
    const session = await vault.signIn(name, `${name} password`);
    if (session.mustChangePassword) await session.changePassword(`${name} password`, `${name} password!`, FAST_KDF);
    return session;
  };
  return { file, clock, owner, vault, acme, entry, as };
}

describe('an access group\'s two keys', () => {
  it('an auditor holds the list key only: from the file with their password, no secret opens', async () => {
    const { file, entry, as } = await team();
    const audrey = await as('audrey');
    expect(audrey.listEntries().map((e) => e.title)).toEqual(['M365 admin', 'VPN']);
    const details = audrey.getEntry(entry.id);
    expect(details).toMatchObject({ title: 'M365 admin', username: 'admin@acme.test', notes: null, hasPassword: null, otp: { kind: 'totp' } });
    expect(() => audrey.revealPassword(entry.id)).toThrow(FORBIDDEN);
    expect(await secretsOpenedFromFile(file, 'audrey', 'audrey password!')).toEqual({ entries: 2, opened: 0 });
  });

  it('technicians and codes-only hold the secret key (codes-only needs the OTP key for codes: the app, not the crypto, keeps it from them)', async () => {
    const { file, clock, entry, as } = await team();
    expect(await secretsOpenedFromFile(file, 'tom', 'tom password')).toEqual({ entries: 2, opened: 2 });
    expect(await secretsOpenedFromFile(file, 'cody', 'cody password')).toEqual({ entries: 2, opened: 2 });
    const cody = await as('cody');
    expect(cody.otpCode(entry.id, clock.now()).code).toBe(totpCode(TOTP.params, clock.now()).code);
    expect(() => cody.revealOtpSecret(entry.id)).toThrow(FORBIDDEN);
    // Notes are sealed with the secrets: codes-only sees the OTP settings, not the notes.
    expect(cody.getEntry(entry.id)).toMatchObject({ notes: null, hasPassword: true, otp: { kind: 'totp', digits: 6 } });
    expect((await as('tom')).getEntry(entry.id).notes).toBe('acme notes');
  });

  it('a new member, a new user and a new group follow the same rule', async () => {
    const { file, owner, as } = await team();
    await owner.createUser('ann', 'auditor', 'ann password', FAST_KDF);
    const beta = owner.team.createGroup('Beta');
    owner.team.grant(beta.id, 'ann');
    owner.createEntry({ customer: 'Beta', title: 'Mail', password: 'beta-pass', groupId: beta.id });
    await as('ann');
    expect(await secretsOpenedFromFile(file, 'ann', 'ann password!')).toEqual({ entries: 3, opened: 0 });
  });
});

describe('keys follow a role change', () => {
  it('a demoted admin loses the groups held only as admin, which are rotated; the old keys open nothing new', async () => {
    const { file, owner, vault, acme, entry } = await team();
    const adam = await vault.signIn('adam', 'adam password');
    await adam.changePassword('adam password', 'adam password!', FAST_KDF);
    expect(adam.getEntry(entry.id).notes).toBe('acme notes');
    const before = await secretsOpenedFromFile(file, 'adam', 'adam password!');
    expect(before).toEqual({ entries: 2, opened: 2 });
    const oldVersion = owner.team.listGroups().find((g) => g.id === acme.id);
    owner.team.changeRole('adam', 'technician');
    // Adam's open session notices at its next call.
    expect(() => adam.getEntry(entry.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as unknown);
    expect(adam.listEntries()).toEqual([]);
    expect(await secretsOpenedFromFile(file, 'adam', 'adam password!')).toEqual({ entries: 2, opened: 0 });
    // The rotated group still works for everyone who stayed.
    expect(owner.getEntry(entry.id).notes).toBe('acme notes');
    expect(oldVersion).toBeDefined();
    expect(owner.auditLog().some((r) => r.action === 'user.role' && /adam: admin → technician \(2 group keys rotated\)/.test(r.detail))).toBe(true);
  });

  it('a membership of one\'s own (from before the role) outlives a demotion; one granted while holding it by role does not', async () => {
    const { owner, acme, entry, as } = await team();
    // tom was a member of Acme before he was made admin: that membership is his own.
    owner.team.changeRole('tom', 'admin');
    owner.team.changeRole('tom', 'technician');
    const tom = await as('tom');
    expect(tom.getEntry(entry.id).notes).toBe('acme notes');
    // adam holds Acme as admin: granting it again does not make it his own (review round 3).
    owner.team.grant(acme.id, 'adam');
    owner.team.changeRole('adam', 'technician');
    const adam = await as('adam');
    expect(adam.listEntries()).toEqual([]);
  });

  it('technician → auditor loses the secret key (group rotated); auditor → technician gains it', async () => {
    const { file, owner, entry, as } = await team();
    const tom = await as('tom');
    owner.team.changeRole('tom', 'auditor');
    expect(tom.getEntry(entry.id)).toMatchObject({ notes: null, hasPassword: null });
    expect(() => tom.revealPassword(entry.id)).toThrow(FORBIDDEN);
    expect(await secretsOpenedFromFile(file, 'tom', 'tom password!')).toEqual({ entries: 2, opened: 0 });

    owner.team.changeRole('audrey', 'technician');
    const audrey = await as('audrey');
    expect(audrey.revealPassword(entry.id)).toBe('acme-secret-pass');
  });
});

describe('a vault written before the split (schema 5, by that code)', () => {
  function copyFixture(): string {
    const file = path.join(tempFolder(), 'old.crewvault');
    copyFileSync(path.resolve(import.meta.dirname, '../fixtures/schema5-team.crewvault'), file);
    return file;
  }

  it('works as before until an owner signs in; that sign-in splits every group and nothing is lost', async () => {
    const file = copyFixture();
    const clock = manualClock();
    const vault = Vault.open(file, clock);
    // Before any owner: the auditor still holds the one key of old (the file cannot be fixed
    // without someone who holds every key).
    const audreyBefore = await vault.signIn('audrey', 'audrey password');
    expect(audreyBefore.mustChangePassword).toBe(true);
    audreyBefore.lock();
    // audrey is in Default (Globex) and Acme team: all three entries.
    expect((await secretsOpenedFromFile(file, 'audrey', 'audrey password')).opened).toBe(3);
    const tomBefore = await vault.signIn('tom', 'tom password');
    await tomBefore.changePassword('tom password', 'tom password!', FAST_KDF);
    const acme = tomBefore.resolvePath('Acme/M365 admin');
    expect(tomBefore.revealPassword(acme.id)).toBe('acme-secret-pass');
    tomBefore.lock();

    const alice = await vault.signIn('alice', 'alice password');
    expect(alice.auditLog().filter((r) => r.action === 'vault.keys_split').map((r) => r.detail)).toEqual(['2 access groups: secrets now under a key of their own']);
    expect((await secretsOpenedFromFile(file, 'audrey', 'audrey password')).opened).toBe(0);
    expect(await secretsOpenedFromFile(file, 'tom', 'tom password!')).toEqual({ entries: 3, opened: 3 });
    // Every entry, secret and code as it was.
    const all = alice.listEntries();
    expect(all.map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN']);
    const m365 = alice.getEntry(acme.id);
    expect(m365).toMatchObject({ notes: 'acme notes', hasPassword: true, url: 'https://portal.acme.test', otp: { kind: 'totp', algorithm: 'SHA1', digits: 6, period: 30 } });
    expect(alice.revealPassword(acme.id)).toBe('acme-secret-pass');
    expect(alice.otpCode(acme.id, clock.now()).code).toBe(totpCode(TOTP.params, clock.now()).code);
    const globex = alice.resolvePath('Globex/VPN');
    expect(alice.otpCode(globex.id)).toMatchObject({ counter: 5 });
    expect(alice.verifyAuditLog().chain.ok).toBe(true);
    // A second owner sign-in has nothing left to split.
    alice.lock();
    const again = await vault.signIn('alice', 'alice password');
    expect(again.auditLog().filter((r) => r.action === 'vault.keys_split')).toHaveLength(1);
    const tom = await vault.signIn('tom', 'tom password!');
    expect(tom.revealPassword(acme.id)).toBe('acme-secret-pass');
    const cody = await vault.signIn('cody', 'cody password');
    await cody.changePassword('cody password', 'cody password!', FAST_KDF);
    expect(cody.otpCode(acme.id, clock.now()).code).toBe(totpCode(TOTP.params, clock.now()).code);
    vault.close();
  });
});
