// Replaced seals outside entries leave the files (review round eleven hole 4, the reviewer's two
// cases kept, plus a group's renamed sealed name). Was:
// Review round eleven, hole (class: sealed bytes other than entries' are replaced without the
// checkpoint bb8db08 added). Only store-entries.ts and the replica stores note a replaced seal
// (db.ts noteSealedReplaced); a password change re-seals the person's private key (store-users.ts
// UPDATE users SET kdf, sealed_private_key) and notes nothing, so the private key sealed under the
// OLD password stays in the vault files the desktop keeps open, for anyone who later has a copy of
// the disk and the old password (the usual reason to change it: it leaked). The same for an MFA
// secret a disable/reset empties (store-mfa.ts). Real files; nothing printed. FAILS on 70c7f83.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Vault, newVault, OWNER, PASSWORD } from '../support/review-nine';
import { totp } from '../support/totp';

function filesHold(file: string, needle: Buffer): string[] {
  return [file, `${file}-wal`].filter((f) => existsSync(f) && readFileSync(f).includes(needle)).map((f) => f.slice(file.length) || 'vault');
}

describe('HOLE r11-seals (class: a replaced seal outside entries is not checkpointed away)', () => {
  it('after a password change, with the vault still open, the private key sealed under the old password is still in the files', async () => {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    await vault.store.checkpoint();
    const old = await vault.store.read((r) => r.prepare<[string], { sealed_private_key: Buffer }>('SELECT sealed_private_key FROM users WHERE name = ?').get(OWNER)?.sealed_private_key);
    if (!old || old.length < 40) throw new Error('no sealed private key');
    const middle = old.subarray(13, 13 + 24);
    expect(filesHold(file, middle)).toEqual(['vault']);

    await session.changePassword(PASSWORD, 'review eleven new password 1!');
    await session.createEntry({ customer: 'Acme', title: 'After', password: 'x' });
    const found = filesHold(file, middle);
    session.lock();
    await vault.close();
    expect(found, 'the private key sealed under the old password is still in the vault files').toEqual([]);
  }, 30_000);

  it('after turning the second step off, the sealed authenticator key is still in the files', async () => {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const enrolment = await session.mfa.beginEnrolment(clock.now());
    await session.mfa.confirmEnrolment(totp(enrolment.secret, clock.now()), clock.now());
    await vault.store.checkpoint();
    const sealed = await vault.store.read((r) => r.prepare<[string], { mfa_sealed_secret: Buffer | null }>('SELECT mfa_sealed_secret FROM users WHERE name = ?').get(OWNER)?.mfa_sealed_secret);
    if (!sealed || sealed.length < 40) throw new Error('no sealed MFA key');
    const middle = sealed.subarray(13, 13 + 24);
    expect(filesHold(file, middle)).toEqual(['vault']);

    await session.mfa.disable();
    await session.createEntry({ customer: 'Acme', title: 'After', password: 'x' });
    const found = filesHold(file, middle);
    session.lock();
    await vault.close();
    expect(found, 'the turned-off authenticator key is still in the vault files').toEqual([]);
  }, 30_000);

  it('after a group rename, the group\'s old sealed name leaves the files', async () => {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const group = await session.team.createGroup('Review eleven old name');
    await vault.store.checkpoint();
    const old = await vault.store.read((r) => r.prepare<[number], { sealed_name: Buffer; revision: number }>('SELECT sealed_name, revision FROM access_groups WHERE id = ?').get(group.id));
    if (!old || old.sealed_name.length < 40) throw new Error('no sealed group name');
    const middle = old.sealed_name.subarray(13, 13 + 24);
    expect(filesHold(file, middle)).toEqual(['vault']);

    await session.team.renameGroup(group.id, 'Review eleven new name', old.revision);
    const found = filesHold(file, middle);
    session.lock();
    await vault.close();
    expect(found, 'the group\'s old sealed name is still in the vault files').toEqual([]);
  }, 30_000);
});
