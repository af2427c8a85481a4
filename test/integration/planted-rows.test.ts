// Rows planted in the vault file by a member who can write it (hostile review of schemas
// 10-12): the re-seal to global ids never gives anyone a key because of a row that merely looks
// unconverted. Each wrap is re-sealed only by the person it is for, after it opens.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { FAST_KDF, manualClock, newVault, PASSWORD } from '../support/vault';

/** Junk that reads as a wrap sealed by row id (format byte 1 after the 32-byte ephemeral key). */
const staleLooking = (): Buffer => Buffer.concat([randomBytes(32), Buffer.of(1), randomBytes(40)]);

describe('planted rows that look unconverted', () => {
  it('a group key row planted for an auditor gets no key at the owner\'s sign-in, even with the re-seal marked pending', async () => {
    const clock = manualClock();
    const { file, session: alice } = await newVault(clock);
    const finance = await alice.team.createGroup('Finance');
    await alice.createEntry({ customer: 'Bank', title: 'Wire', password: 'wire-pass', groupId: finance.id });
    await alice.createUser('audrey', 'auditor', 'audrey password', FAST_KDF);
    const audreyId = (await alice.team.listUsers()).find((u) => u.name === 'audrey')?.id;
    alice.lock();
    const planted = { list: staleLooking(), secret: staleLooking() };
    const db = new Database(file);
    const group = db.prepare<[number], { key_version: number }>('SELECT key_version FROM access_groups WHERE id = ?').get(finance.id);
    db.prepare('INSERT INTO group_keys (group_id, user_id, key_version, wrapped_key, is_lead, wrapped_secret_key, by_role) VALUES (?, ?, ?, ?, 0, ?, 0)')
      .run(finance.id, audreyId, group?.key_version, planted.list, planted.secret);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('row_id_seals', 'pending')").run();
    db.close();

    const vault = Vault.open(file, clock);
    (await vault.signIn('alice', PASSWORD)).lock();
    await vault.close();

    const check = new Database(file, { readonly: true });
    const row = check.prepare<[number, number], { wrapped_key: Buffer; wrapped_secret_key: Buffer }>('SELECT wrapped_key, wrapped_secret_key FROM group_keys WHERE group_id = ? AND user_id = ?').get(finance.id, audreyId ?? 0);
    check.close();
    expect(row?.wrapped_key).toEqual(planted.list);
    expect(row?.wrapped_secret_key).toEqual(planted.secret);
  });

  it('a directory key row planted for a disabled user is not wrapped again for them', async () => {
    const clock = manualClock();
    const { file, session: alice } = await newVault(clock);
    await alice.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
    await alice.team.disableUser('mallory', await alice.team.userRevision('mallory'));
    const malloryId = (await alice.team.listUsers()).find((u) => u.name === 'mallory')?.id ?? 0;
    alice.lock();
    const planted = staleLooking();
    const db = new Database(file);
    db.prepare('UPDATE users SET disabled_at = NULL WHERE id = ?').run(malloryId);
    db.prepare('INSERT OR REPLACE INTO directory_keys (user_id, key_version, dir_version, wrapped_key) VALUES (?, 2, (SELECT CAST(value AS INTEGER) FROM meta WHERE key = \'directory_version\'), ?)').run(malloryId, planted);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('row_id_seals', 'pending')").run();
    db.close();
    const vault = Vault.open(file, clock);
    (await vault.signIn('alice', PASSWORD)).lock();
    await vault.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare<[number], { wrapped_key: Buffer }>('SELECT wrapped_key FROM directory_keys WHERE user_id = ?').get(malloryId)?.wrapped_key).toEqual(planted);
    check.close();
  });

  it('an MFA key wrap planted for another holder is not wrapped for them at the user\'s own sign-in', async () => {
    const clock = manualClock();
    const { file, session: alice } = await newVault(clock);
    await alice.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
    const ids = new Map((await alice.team.listUsers()).map((u) => [u.name, u.id]));
    alice.lock();
    const planted = staleLooking();
    const db = new Database(file);
    db.prepare('INSERT INTO mfa_key_wraps (user_id, holder_id, wrapped_key) VALUES (?, ?, ?)').run(ids.get('alice'), ids.get('mallory'), planted);
    db.close();
    const vault = Vault.open(file, clock);
    (await vault.signIn('alice', PASSWORD)).lock();
    await vault.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare<[number, number], { wrapped_key: Buffer }>('SELECT wrapped_key FROM mfa_key_wraps WHERE user_id = ? AND holder_id = ?').get(ids.get('alice') ?? 0, ids.get('mallory') ?? 0)?.wrapped_key).toEqual(planted);
    check.close();
  });

  it('a user whose signing key was unlinked in the file is refused at sign-in, instead of signing with a key that is not theirs', async () => {
    const clock = manualClock();
    const { file, session: alice } = await newVault(clock);
    alice.lock();
    const db = new Database(file);
    db.prepare("UPDATE users SET signing_key_id = NULL, wrapped_signing_key = NULL WHERE name = 'alice'").run();
    db.close();
    const vault = Vault.open(file, clock);
    await expect(vault.signIn('alice', PASSWORD)).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    await vault.close();
  });

  it('a public key written into someone\'s row gets nothing wrapped to it, and its user is told at sign-in', async () => {
    const clock = manualClock();
    const { file, session: alice } = await newVault(clock);
    const finance = await alice.team.createGroup('Finance');
    await alice.createEntry({ customer: 'Bank', title: 'Wire', password: 'wire-pass', groupId: finance.id });
    for (const name of ['bob', 'carol', 'mallory']) await alice.createUser(name, 'technician', `${name} password`, FAST_KDF);
    await alice.team.grant(finance.id, 'bob', false, await alice.team.groupRevision(finance.id));
    await alice.team.grant(finance.id, 'carol', false, await alice.team.groupRevision(finance.id));
    alice.lock();
    // Bob signs in once (his signing key vouches for his public key); then mallory writes hers into his row.
    const vault = Vault.open(file, clock);
    (await vault.signIn('bob', 'bob password')).lock();
    const db = new Database(file);
    db.prepare("UPDATE users SET public_key = (SELECT public_key FROM users WHERE name = 'mallory') WHERE name = 'bob'").run();
    const before = db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(finance.id);
    db.close();
    const owner = await vault.signIn('alice', PASSWORD);
    await expect(owner.team.revoke(finance.id, 'carol', await owner.team.memberRevision(finance.id, 'carol'))).rejects.toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    owner.lock();
    const after = new Database(file, { readonly: true });
    expect(after.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(finance.id)).toEqual(before);
    after.close();
    await expect(vault.signIn('bob', 'bob password')).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    await vault.close();
  });
});
