// "Import…", "Back up…" and "Export…" through the router (issue #12), as the app calls them:
// a real vault file, the fixtures of test/fixtures/import sent in chunks, a preview that
// writes nothing, a commit into the group chosen, duplicates skipped unless asked for; a
// backup that verifies and restores; a plain export that needs the password again and reads
// back. Codes are checked against the fixtures' oathtool-computed list.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, IMPORT_FORMATS, type FileWritten, type ImportCommitted, type ImportPreview } from '../../shared/api/contract';
import { EXPORTERS } from '../../electron/export/registry';
import { IMPORTERS } from '../../electron/import/registry';
import { unpackTable, type PackedEntryTable } from '../../shared/entry-table';
import type { EntryTable, GroupSummary } from '../../shared/model';
import { verifyBackup } from '../../electron/vault/backup';
import { readOtpauthList } from '../../shared/import/otpauth';
import { CODES_AT_MS, EXPECTED_ENTRIES } from '../fixtures/import/expected';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD, tempFolder } from '../support/vault';
import type { Router } from '../../electron/router';

const FIXTURES = path.resolve('test/fixtures/import');
const AEGIS_PASSWORD = 'correct horse ✓ battery';

async function signedIn() {
  const setup = newRouter();
  ok(await setup.router.call('vault.create', { username: OWNER, password: PASSWORD }));
  return setup;
}

/** Sends `bytes` as the page does: begin, then chunks of the size the vault asks for. */
async function upload(router: Router, bytes: Buffer): Promise<string> {
  const { uploadId, chunkBytes } = ok(await router.call('import.begin', { size: bytes.length })) as { uploadId: string; chunkBytes: number };
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
    ok(await router.call('import.chunk', { uploadId, offset, data: bytes.subarray(offset, offset + chunkBytes).toString('base64') }));
  }
  return uploadId;
}

async function entries(router: Router): Promise<EntryTable> {
  return unpackTable(ok(await router.call('entries.list', {})) as PackedEntryTable);
}

describe('Import… through the router', () => {
  it('previews an encrypted Aegis export after its password, writes nothing, then commits into the chosen group with live codes', async () => {
    const { router, clock } = await signedIn();
    const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    const uploadId = await upload(router, readFileSync(path.join(FIXTURES, 'aegis-encrypted.json')));

    const locked = ok(await router.call('import.preview', { uploadId })) as ImportPreview;
    expect(locked).toMatchObject({ format: 'aegis', needsPassword: true, total: 0 });
    expect(errorCode(await router.call('import.preview', { uploadId, password: 'not the password' }))).toBe('WRONG_PASSWORD');

    const preview = ok(await router.call('import.preview', { uploadId, password: AEGIS_PASSWORD })) as ImportPreview;
    expect(preview.needsPassword).toBe(false);
    expect(preview.groupName).toBe('');
    const withIssuer = EXPECTED_ENTRIES.filter((e) => e.customer !== undefined).length;
    expect(preview.total + preview.problems.length).toBe(EXPECTED_ENTRIES.length);
    expect(preview.total).toBeGreaterThanOrEqual(withIssuer);
    expect(preview.duplicates).toEqual([]);
    // Nothing written by a preview, and the secret never in what comes back.
    expect((await entries(router)).id).toEqual([]);
    expect(JSON.stringify(preview)).not.toContain(EXPECTED_ENTRIES[0]?.otp.secret);

    // One customer for everything, into the group chosen; the preview says so, then the commit does it.
    const target = { uploadId, groupId: night.id, customer: 'Acme Corp' };
    const again = ok(await router.call('import.preview', target)) as ImportPreview;
    expect(again).toMatchObject({ groupName: 'Night shift', total: EXPECTED_ENTRIES.length, byCustomer: [{ customer: 'Acme Corp', count: EXPECTED_ENTRIES.length }] });
    const committed = ok(await router.call('import.commit', target)) as ImportCommitted;
    expect(committed).toEqual({ added: EXPECTED_ENTRIES.length, skipped: 0, duplicatesSkipped: 0, groupName: 'Night shift' });
    // The upload is gone once committed.
    expect(errorCode(await router.call('import.commit', target))).toBe('NOT_FOUND');

    const list = await entries(router);
    clock.set(CODES_AT_MS);
    for (const expected of EXPECTED_ENTRIES.filter((e) => e.otp.kind !== 'hotp')) {
      const id = list.id[list.title.indexOf(expected.title)];
      expect((ok(await router.call('otp.code', { id })) as { code: string }).code, expected.title).toBe(expected.code);
    }
    const audit = ok(await router.call('audit.list', {})) as Array<{ action: string; detail: string | null }>;
    expect(audit.find((r) => r.action === 'entries.import')?.detail).toBe(`aegis: ${EXPECTED_ENTRIES.length} added, 0 skipped, 0 duplicates skipped`);
  });

  it('marks duplicates of what the vault holds and skips them unless asked; skipped entries say why', async () => {
    const { router } = await signedIn();
    const list = 'otpauth://totp/GitHub:octo?secret=JBSWY3DPEHPK3PXP&issuer=GitHub\notpauth://totp/Bad:x?secret=JBSWY3D0EHPK3PXP&issuer=Bad\n';
    // A commit without a preview (an unencrypted file) reads the file itself. A line that cannot
    // be imported stops it whole (nothing written, the upload kept) until the rest is chosen.
    const first = await upload(router, Buffer.from(list));
    const refused = await router.call('import.commit', { uploadId: first, groupId: 1, format: 'otpauth' });
    expect(errorCode(refused)).toBe('INVALID_INPUT');
    expect(refused.ok ? '' : refused.error.message).toBe('1 entry cannot be imported, so nothing was imported: choose to import the rest without them, or fix the file.');
    expect((await entries(router)).title).toEqual([]);
    expect(ok(await router.call('import.commit', { uploadId: first, groupId: 1, format: 'otpauth', skipProblems: true }))).toMatchObject({ added: 1, skipped: 1 });
    const uploadId = await upload(router, Buffer.from(list));
    const preview = ok(await router.call('import.preview', { uploadId, groupId: 1 })) as ImportPreview;
    expect(preview.duplicates).toEqual([{ where: 'Line 1', message: 'already in the vault (same OTP key, issuer and account): skipped.' }]);
    expect(preview.problems.map((p) => p.where)).toEqual(['Line 2']);
    expect(preview.problems[0]?.message).toContain('"0" at position 8 (did you mean the letter O?)');
    expect(preview.total).toBe(0);
    const kept = ok(await router.call('import.preview', { uploadId, groupId: 1, includeDuplicates: true })) as ImportPreview;
    expect(kept.total).toBe(1);
    expect(ok(await router.call('import.commit', { uploadId, groupId: 1, includeDuplicates: true, skipProblems: true }))).toMatchObject({ added: 1, skipped: 1, duplicatesSkipped: 0 });
    expect((await entries(router)).title).toEqual(['GitHub', 'GitHub']);
  });

  it('refuses bad uploads in one line and writes nothing: unknown format, out-of-order chunk, too large, after a lock', async () => {
    const { router } = await signedIn();
    const junk = await upload(router, Buffer.from('this is not an export of anything\n'));
    const unknown = await router.call('import.preview', { uploadId: junk });
    expect(errorCode(unknown)).toBe('INVALID_INPUT');
    expect(unknown.ok ? '' : unknown.error.message).toMatch(/^The file is in no format Crewvault reads/);

    const { uploadId } = ok(await router.call('import.begin', { size: 8 })) as { uploadId: string };
    expect(errorCode(await router.call('import.chunk', { uploadId, offset: 4, data: 'AAAA' }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('import.chunk', { uploadId, offset: 0, data: Buffer.alloc(9).toString('base64') }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('import.preview', { uploadId }))).toBe('INVALID_INPUT'); // not all of it yet
    expect(errorCode(await router.call('import.begin', { size: 65 * 1024 * 1024 }))).toBe('INVALID_INPUT');

    const good = await upload(router, Buffer.from('otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=A\n'));
    ok(await router.call('session.lock', {}));
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(errorCode(await router.call('import.preview', { uploadId: good }))).toBe('NOT_FOUND');
    expect((await entries(router)).id).toEqual([]);
  });

  it('a spreadsheet CSV waits for its columns to be mapped, then previews and commits through the mapping', async () => {
    const { router } = await signedIn();
    const uploadId = await upload(router, readFileSync(path.join(FIXTURES, 'spreadsheet.csv')));
    // auto does not take a spreadsheet for anything: the person names the format.
    expect(errorCode(await router.call('import.preview', { uploadId }))).toBe('INVALID_INPUT');
    const asked = ok(await router.call('import.preview', { uploadId, format: 'csv' })) as ImportPreview;
    expect(asked).toMatchObject({ format: 'csv', needsMapping: true, total: 0, columns: ['Client', 'Account', 'Login', 'Secret', 'Website', 'Comment', '2FA seed', 'Favourite'] });
    expect(asked.suggestedMapping).toEqual({ title: 'Account', customer: 'Client', username: 'Login', url: 'Website', notes: 'Comment' });
    const unmapped = await router.call('import.preview', { uploadId, format: 'csv', mapping: { otp: '2FA seed' } });
    expect(errorCode(unmapped)).toBe('INVALID_INPUT');
    expect(unmapped.ok ? '' : unmapped.error.message).toMatch(/^Map the title column/);
    const mapping = { ...asked.suggestedMapping, password: 'Secret', otp: '2FA seed' };
    const preview = ok(await router.call('import.preview', { uploadId, format: 'csv', mapping, groupId: 1 })) as ImportPreview;
    expect(preview).toMatchObject({ needsMapping: false, total: 7, byCustomer: [{ customer: 'Acme', count: 3 }, { customer: 'Globex', count: 2 }, { customer: 'Initech', count: 2 }] });
    expect(preview.problems.map((p) => p.where)).toEqual(["line 11 'Broken'", "line 2 'Personal mail'"]);
    expect(ok(await router.call('import.commit', { uploadId, format: 'csv', mapping, groupId: 1, skipProblems: true }))).toMatchObject({ added: 7, skipped: 2 });
  });

  it('is refused to a role that may not create entries', async () => {
    const { router } = await signedIn();
    ok(await router.call('users.create', { username: 'audrey', role: 'auditor', password: 'audrey one-time' }));
    ok(await router.call('session.signIn', { username: 'audrey', password: 'audrey one-time' }));
    ok(await router.call('session.changePassword', { current: 'audrey one-time', next: 'audrey password' }));
    expect(errorCode(await router.call('import.begin', { size: 10 }))).toBe('FORBIDDEN');
  });
});

describe('Back up… and Export… through the router', () => {
  it('offers in the contract exactly the formats the main process reads and writes', () => {
    expect([...EXPORT_FORMATS]).toEqual(EXPORTERS.map((e) => e.name));
    expect(IMPORT_FORMATS.slice(1)).toEqual(IMPORTERS.map((i) => i.name));
  });

  async function withEntry() {
    const setup = await signedIn();
    ok(await setup.router.call('entries.create', { customer: 'Acme Corp', title: 'M365', username: 'admin', password: 'hunter2!', otp: { secret: 'JBSWY3DPEHPK3PXP', issuer: 'Microsoft' } }));
    return { ...setup, folder: tempFolder() };
  }

  it('backs up for an owner who gives the password again and the backup password twice; the file verifies', async () => {
    const { router, folder } = await withEntry();
    const file = path.join(folder, 'team.cvbackup');
    const input = { path: file, password: PASSWORD, backupPassword: 'backup password 1', backupPasswordAgain: 'backup password 1' };
    expect(errorCode(await router.call('vault.backup', { ...input, backupPasswordAgain: 'backup password 2' }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('vault.backup', { ...input, password: 'wrong' }))).toBe('WRONG_PASSWORD');
    expect(errorCode(await router.call('vault.backup', { ...input, path: 'relative.cvbackup' }))).toBe('INVALID_INPUT');
    expect(() => statSync(file)).toThrow();
    const written = ok(await router.call('vault.backup', input)) as FileWritten;
    expect(written).toMatchObject({ path: file, entries: 1 });
    expect((await verifyBackup(file, 'backup password 1')).entries).toBe(1);
    expect(errorCode(await router.call('vault.backup', input))).toBe('ALREADY_EXISTS');
    // No dialog in this door: a path is needed.
    expect(errorCode(await router.call('vault.backup', { ...input, path: undefined }))).toBe('INVALID_INPUT');
  });

  it('refuses a backup to anyone but an owner', async () => {
    const { router, folder } = await withEntry();
    ok(await router.call('users.create', { username: 'tina', role: 'team_lead', password: 'tina one-time' }));
    ok(await router.call('session.signIn', { username: 'tina', password: 'tina one-time' }));
    ok(await router.call('session.changePassword', { current: 'tina one-time', next: 'tina password' }));
    const file = path.join(folder, 'b.cvbackup');
    expect(errorCode(await router.call('vault.backup', { path: file, password: 'tina password', backupPassword: 'backup password', backupPasswordAgain: 'backup password' }))).toBe('FORBIDDEN');
    expect(() => statSync(file)).toThrow();
  });

  it('exports in plain text only with the password again and plaintext said; the file reads back', async () => {
    const { router, folder } = await withEntry();
    const file = path.join(folder, 'codes.txt');
    expect(errorCode(await router.call('vault.export', { format: 'otpauth', path: file, password: PASSWORD }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('vault.export', { format: 'otpauth', path: file, password: 'wrong', plaintext: true }))).toBe('WRONG_PASSWORD');
    expect(() => statSync(file)).toThrow();
    const written = ok(await router.call('vault.export', { format: 'otpauth', path: file, password: PASSWORD, plaintext: true })) as FileWritten;
    expect(written).toEqual({ path: file, entries: 1, details: '' });
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    const back = readOtpauthList(readFileSync(file, 'utf8'));
    expect(back.entries.map((e) => [e.username, e.otp?.params.secret])).toEqual([['admin', 'JBSWY3DPEHPK3PXP']]);
    expect(errorCode(await router.call('vault.export', { format: 'otpauth', path: file, password: PASSWORD, plaintext: true }))).toBe('ALREADY_EXISTS');
    expect(errorCode(await router.call('vault.export', { format: 'kdbx', path: path.join(folder, 'x.kdbx'), password: PASSWORD, plaintext: true }))).toBe('INVALID_INPUT');
    const audit = ok(await router.call('audit.list', {})) as Array<{ action: string }>;
    expect(audit.filter((r) => r.action === 'entries.export')).toHaveLength(1);
  });

  it('is refused to an auditor, who may reveal nothing', async () => {
    const { router, folder } = await withEntry();
    ok(await router.call('users.create', { username: 'audrey', role: 'auditor', password: 'audrey one-time' }));
    ok(await router.call('session.signIn', { username: 'audrey', password: 'audrey one-time' }));
    ok(await router.call('session.changePassword', { current: 'audrey one-time', next: 'audrey password' }));
    const file = path.join(folder, 'codes.txt');
    expect(errorCode(await router.call('vault.export', { format: 'otpauth', path: file, password: 'audrey password', plaintext: true }))).toBe('FORBIDDEN');
    expect(() => statSync(file)).toThrow();
  });
});
