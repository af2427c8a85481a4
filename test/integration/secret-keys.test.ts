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
  const acme = await owner.team.createGroup('Acme team');
  for (const name of ['tom', 'cody', 'audrey']) await owner.team.grant(acme.id, name, false, await owner.team.groupRevision(acme.id));
  const entry = await owner.createEntry({ customer: 'Acme', title: 'M365 admin', username: 'admin@acme.test', password: 'acme-secret-pass', notes: 'acme notes', otp: TOTP, groupId: acme.id });
  await owner.createEntry({ customer: 'Globex', title: 'VPN', password: 'globex-pass' });
  const vault = Vault.open(file, clock);
  const as = async (name: string) => {
    const session = await vault.signIn(name, `${name} password`);
    if (await session.mustChangePassword()) await session.changePassword(`${name} password`, `${name} password!`, FAST_KDF);
    return session;
  };
  return { file, clock, owner, vault, acme, entry, as };
}

describe('an access group\'s two keys', () => {
  it('an auditor holds the list key only: from the file with their password, no secret opens', async () => {
    const { file, entry, as } = await team();
    const audrey = await as('audrey');
    expect((await audrey.listEntries()).map((e) => e.title)).toEqual(['M365 admin', 'VPN']);
    const details = await audrey.getEntry(entry.id);
    expect(details).toMatchObject({ title: 'M365 admin', username: 'admin@acme.test', notes: null, hasPassword: null, otp: { kind: 'totp' } });
    await expect(audrey.revealPassword(entry.id)).rejects.toThrow(FORBIDDEN);
    expect(await secretsOpenedFromFile(file, 'audrey', 'audrey password!')).toEqual({ entries: 2, opened: 0 });
  });

  it('technicians and codes-only hold the secret key (codes-only needs the OTP key for codes: the app, not the crypto, keeps it from them)', async () => {
    const { file, clock, entry, as } = await team();
    expect(await secretsOpenedFromFile(file, 'tom', 'tom password')).toEqual({ entries: 2, opened: 2 });
    expect(await secretsOpenedFromFile(file, 'cody', 'cody password')).toEqual({ entries: 2, opened: 2 });
    const cody = await as('cody');
    expect((await cody.otpCode(entry.id, clock.now())).code).toBe(totpCode(TOTP.params, clock.now()).code);
    await expect(cody.revealOtpSecret(entry.id)).rejects.toThrow(FORBIDDEN);
    // Notes are sealed with the secrets: codes-only sees the OTP settings, not the notes.
    expect(await cody.getEntry(entry.id)).toMatchObject({ notes: null, hasPassword: true, otp: { kind: 'totp', digits: 6 } });
    expect((await (await as('tom')).getEntry(entry.id)).notes).toBe('acme notes');
  });

  it('a new member, a new user and a new group follow the same rule', async () => {
    const { file, owner, as } = await team();
    await owner.createUser('ann', 'auditor', 'ann password', FAST_KDF);
    const beta = await owner.team.createGroup('Beta');
    await owner.team.grant(beta.id, 'ann', false, await owner.team.groupRevision(beta.id));
    await owner.createEntry({ customer: 'Beta', title: 'Mail', password: 'beta-pass', groupId: beta.id });
    await as('ann');
    expect(await secretsOpenedFromFile(file, 'ann', 'ann password!')).toEqual({ entries: 3, opened: 0 });
  });
});

describe('keys follow a role change', () => {
  it('a demoted admin loses the groups held only as admin, which are rotated; the old keys open nothing new', async () => {
    const { file, owner, vault, acme, entry } = await team();
    const adam = await vault.signIn('adam', 'adam password');
    await adam.changePassword('adam password', 'adam password!', FAST_KDF);
    expect((await adam.getEntry(entry.id)).notes).toBe('acme notes');
    const before = await secretsOpenedFromFile(file, 'adam', 'adam password!');
    expect(before).toEqual({ entries: 2, opened: 2 });
    const oldVersion = (await owner.team.listGroups()).find((g) => g.id === acme.id);
    await owner.team.changeRole('adam', 'technician', await owner.team.userRevision('adam'));
    // Adam's open session notices at its next call.
    await expect(adam.getEntry(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as unknown);
    expect(await adam.listEntries()).toEqual([]);
    expect(await secretsOpenedFromFile(file, 'adam', 'adam password!')).toEqual({ entries: 2, opened: 0 });
    // The rotated group still works for everyone who stayed.
    expect((await owner.getEntry(entry.id)).notes).toBe('acme notes');
    expect(oldVersion).toBeDefined();
    expect((await owner.auditLog()).some((r) => r.action === 'user.role' && /adam: admin → technician \(2 group keys rotated\)/.test(r.detail))).toBe(true);
  });

  it('a membership of one\'s own (from before the role) outlives a demotion; one granted while holding it by role does not', async () => {
    const { owner, acme, entry, as } = await team();
    // tom was a member of Acme before he was made admin: that membership is his own.
    await owner.team.changeRole('tom', 'admin', await owner.team.userRevision('tom'));
    await owner.team.changeRole('tom', 'technician', await owner.team.userRevision('tom'));
    const tom = await as('tom');
    expect((await tom.getEntry(entry.id)).notes).toBe('acme notes');
    // adam holds Acme as admin: granting it again does not make it his own (review round 3).
    await owner.team.grant(acme.id, 'adam', false, await owner.team.groupRevision(acme.id));
    await owner.team.changeRole('adam', 'technician', await owner.team.userRevision('adam'));
    const adam = await as('adam');
    expect(await adam.listEntries()).toEqual([]);
  });

  it('technician → auditor loses the secret key (group rotated); auditor → technician gains it', async () => {
    const { file, owner, entry, as } = await team();
    const tom = await as('tom');
    await owner.team.changeRole('tom', 'auditor', await owner.team.userRevision('tom'));
    expect(await tom.getEntry(entry.id)).toMatchObject({ notes: null, hasPassword: null });
    await expect(tom.revealPassword(entry.id)).rejects.toThrow(FORBIDDEN);
    expect(await secretsOpenedFromFile(file, 'tom', 'tom password!')).toEqual({ entries: 2, opened: 0 });

    await owner.team.changeRole('audrey', 'technician', await owner.team.userRevision('audrey'));
    const audrey = await as('audrey');
    expect(await audrey.revealPassword(entry.id)).toBe('acme-secret-pass');
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
    expect(await audreyBefore.mustChangePassword()).toBe(true);
    audreyBefore.lock();
    // audrey is in Default (Globex) and Acme team: all three entries.
    expect((await secretsOpenedFromFile(file, 'audrey', 'audrey password')).opened).toBe(3);
    const tomBefore = await vault.signIn('tom', 'tom password');
    await tomBefore.changePassword('tom password', 'tom password!', FAST_KDF);
    const acme = await tomBefore.resolvePath('Acme/M365 admin');
    expect(await tomBefore.revealPassword(acme.id)).toBe('acme-secret-pass');
    tomBefore.lock();

    const alice = await vault.signIn('alice', 'alice password');
    expect((await alice.auditLog()).filter((r) => r.action === 'vault.keys_split').map((r) => r.detail)).toEqual(['2 access groups: secrets now under a key of their own']);
    expect((await secretsOpenedFromFile(file, 'audrey', 'audrey password')).opened).toBe(0);
    expect(await secretsOpenedFromFile(file, 'tom', 'tom password!')).toEqual({ entries: 3, opened: 3 });
    // Every entry, secret and code as it was.
    const all = await alice.listEntries();
    expect(all.map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN']);
    const m365 = await alice.getEntry(acme.id);
    expect(m365).toMatchObject({ notes: 'acme notes', hasPassword: true, url: 'https://portal.acme.test', otp: { kind: 'totp', algorithm: 'SHA1', digits: 6, period: 30 } });
    expect(await alice.revealPassword(acme.id)).toBe('acme-secret-pass');
    expect((await alice.otpCode(acme.id, clock.now())).code).toBe(totpCode(TOTP.params, clock.now()).code);
    const globex = await alice.resolvePath('Globex/VPN');
    expect(await alice.otpCode(globex.id)).toMatchObject({ counter: 5 });
    expect((await alice.verifyAuditLog()).chain.ok).toBe(true);
    // A second owner sign-in has nothing left to split.
    alice.lock();
    const again = await vault.signIn('alice', 'alice password');
    expect((await again.auditLog()).filter((r) => r.action === 'vault.keys_split')).toHaveLength(1);
    const tom = await vault.signIn('tom', 'tom password!');
    expect(await tom.revealPassword(acme.id)).toBe('acme-secret-pass');
    const cody = await vault.signIn('cody', 'cody password');
    await cody.changePassword('cody password', 'cody password!', FAST_KDF);
    expect((await cody.otpCode(acme.id, clock.now())).code).toBe(totpCode(TOTP.params, clock.now()).code);
    await vault.close();
  });
});
