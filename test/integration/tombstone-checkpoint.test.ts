// Sealed bytes a write empties or replaces leave the vault's files at once (review round nine
// hole 7, #13): a tombstone, an OTP removal, an edit. secure_delete wipes the cells of the page
// image a write puts in the WAL, but the main file keeps the old page (and the WAL its older
// images) until a checkpoint; the store makes one after such a write (db.ts noteSealedReplaced).
// Real files; nothing printed (the sealed bytes are compared, never shown).
// says is gone. FAILS on the tree it was written against. Real files; nothing printed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTRY_PASSWORD, Vault, newVault, OWNER, parseOtpUri, PASSWORD } from '../support/review-nine';

function filesHold(file: string, needle: Buffer): string[] {
  return [file, `${file}-wal`].filter((f) => existsSync(f) && readFileSync(f).includes(needle)).map((f) => f.slice(file.length) || 'vault');
}

describe('HOLE 7 (class: a tombstone\'s wiped secret survives in the file until the next checkpoint)', () => {
  it('after a delete, with the vault still open as a desktop keeps it all day, the deleted entry\'s sealed details are still in the files', async () => {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const doomed = await session.createEntry({ customer: 'Acme', title: 'Old firewall', password: ENTRY_PASSWORD });
    // The entry as it sat in the file for a while (some checkpoint since it was written).
    await vault.store.checkpoint();
    const sealed = await vault.store.read((r) => r.prepare<[number], { sealed_details: Buffer }>('SELECT sealed_details FROM entries WHERE id = ?').get(doomed.id)?.sealed_details);
    if (!sealed) throw new Error('no sealed details');
    const middle = sealed.subarray(13, 13 + 24); // past the version byte and nonce: ciphertext only
    expect(filesHold(file, middle)).toEqual(['vault']);

    await session.deleteEntry(doomed.id, (await session.getEntry(doomed.id)).revision);
    // A later write or two, as a working day has; no 1,000-page checkpoint yet, no close.
    await session.createEntry({ customer: 'Acme', title: 'New firewall', password: 'another' });
    const found = filesHold(file, middle);
    session.lock();
    await vault.close();
    expect(found, 'the deleted entry\'s sealed details are still in the vault files').toEqual([]);
  });

  async function openedWith(input: { title: string; password: string; otp?: ReturnType<typeof parseOtpUri> }) {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const entry = await session.createEntry({ customer: 'Acme', title: input.title, password: input.password, ...(input.otp ? { otp: { params: input.otp.params } } : {}) });
    await vault.store.checkpoint();
    const sealed = await vault.store.read((r) => r.prepare<[number], { sealed_details: Buffer }>('SELECT sealed_details FROM entries WHERE id = ?').get(entry.id)?.sealed_details);
    if (!sealed) throw new Error('no sealed details');
    const middle = sealed.subarray(13, 13 + 24);
    expect(filesHold(file, middle)).toEqual(['vault']);
    return { file, vault, session, entry, middle };
  }

  it('an OTP removal and a password change leave the old sealed details in neither file, the vault still open', async () => {
    const removed = await openedWith({ title: 'Mail', password: ENTRY_PASSWORD, otp: parseOtpUri('otpauth://totp/Acme:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') });
    await removed.session.updateEntry(removed.entry.id, { otp: null }, (await removed.session.getEntry(removed.entry.id)).revision);
    expect(filesHold(removed.file, removed.middle), 'the removed OTP key\'s seal is still in the files').toEqual([]);
    removed.session.lock();
    await removed.vault.close();

    const changed = await openedWith({ title: 'Router', password: ENTRY_PASSWORD });
    await changed.session.updateEntry(changed.entry.id, { password: 'the new one' }, (await changed.session.getEntry(changed.entry.id)).revision);
    expect(filesHold(changed.file, changed.middle), 'the old password\'s seal is still in the files').toEqual([]);
    changed.session.lock();
    await changed.vault.close();
  });

  it('a write that wipes nothing sealed (a new entry) does not checkpoint: the WAL keeps growing until one that does', async () => {
    const { file, vault, session } = await openedWith({ title: 'Router', password: ENTRY_PASSWORD });
    await session.createEntry({ customer: 'Acme', title: 'Switch', password: 'switch password' });
    expect(statSync(`${file}-wal`).size, 'an insert was followed by a checkpoint').toBeGreaterThan(0);
    session.lock();
    await vault.close();
  });
});
