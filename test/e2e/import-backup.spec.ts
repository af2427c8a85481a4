/**
 * "Import…", "Back up…" and "Export…" end to end in Debian's Chromium (issue #12), each test
 * against its own `crewvault serve`: a fixture export (Aegis, password-encrypted, written by
 * make-authenticator-fixtures.py from Aegis's docs/vault.md) chosen, unlocked, previewed and
 * committed, its entries listed with live codes checked against an independent TOTP; a dropped
 * list padded past 1 MiB (three chunks) with a duplicate and a bad key, each said; a backup the
 * CLI verifies; a plain export that needs the typed confirmation and reads back.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { PASSWORD, expect, test } from './fixtures';
import { entryRow, expectLiveCode } from './helpers';

const FIXTURES = path.resolve('test/fixtures/import');
const AEGIS_PASSWORD = 'correct horse ✓ battery';
const GITHUB_KEY = 'AXQCRFCDTWMS2LD33TLURK3XM3DML25C';
const ZURICH_KEY = '5OCO37WI6RWGPP3OPLKYTZZ47ZWEJVZ5';

/** Serious and critical accessibility findings on the page as it is (as a11y.spec.ts counts them). */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** "Import / export…" in the top bar, then "Import…". */
async function openImport(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Import / export…' }).click();
  await page.getByRole('dialog', { name: 'Import or export' }).getByRole('button', { name: 'Import…' }).click();
}

function toast(page: Page) {
  return page.locator('.toast');
}

function importDialog(page: Page) {
  return page.getByRole('dialog', { name: 'Import' });
}

test('Import…: an encrypted Aegis export is unlocked, previewed per customer, committed into the chosen group, and its codes are live', async ({ vaultPage: page }) => {
  await openImport(page);
  const dialog = importDialog(page);
  expect(await seriousViolations(page)).toEqual([]);
  await dialog.getByLabel('Export file', { exact: true }).setInputFiles(path.join(FIXTURES, 'aegis-encrypted.json'));
  await expect(dialog.getByText('this export is encrypted')).toBeVisible();
  await dialog.getByLabel('Export password').fill('not the password');
  await dialog.getByRole('button', { name: 'Unlock export' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(/password/i);
  await dialog.getByLabel('Export password').fill(AEGIS_PASSWORD);
  await dialog.getByRole('button', { name: 'Unlock export' }).click();

  const table = dialog.getByRole('region', { name: 'What would be imported' });
  await expect(table.getByRole('heading')).toHaveText(/^\d+ entries to import into Default$/);
  await expect(table.getByRole('row', { name: 'Acme Corp 2' })).toBeVisible();
  await expect(table.getByRole('row', { name: 'Globex 2' })).toBeVisible();
  await expect(table.getByRole('row', { name: 'Initech Zürich 1' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  // Nothing is written before "Import": the list behind the dialog is still empty.
  await expect(page.getByText('No entries yet.')).toBeAttached();

  // One customer for everything is a choice, said in the preview before anything is written.
  await dialog.getByLabel('One customer for every entry').check();
  await expect(dialog.getByRole('button', { name: /^Import/ })).toBeDisabled();
  await dialog.getByLabel('Customer', { exact: true }).fill('Acme Corp');
  await expect(table.getByRole('row')).toHaveCount(2);
  await dialog.getByLabel("Each entry's folder, group or issuer as its customer").check();
  await expect(table.getByRole('row', { name: 'Globex 2' })).toBeVisible();

  const cannot = dialog.getByRole('region', { name: 'Entries that cannot be imported' });
  await expect(cannot).toContainText("'Steam': no issuer to use as the customer");
  const total = Number((await table.getByRole('heading').textContent())?.split(' ')[0]);
  // An entry that cannot be imported stops the import until the person chooses to go on without it.
  await expect(dialog.getByRole('button', { name: `Import ${total} entries` })).toBeDisabled();
  await cannot.getByLabel('Import the other entries without these').check();
  await dialog.getByRole('button', { name: `Import ${total} entries` }).click();
  await expect(dialog).toBeHidden();
  // Steam has no folder and no issuer in the file: skipped, with why, in the preview too.
  await expect(toast(page)).toHaveText(`Imported ${total} entries into Default; skipped 1`);
  await expectLiveCode(entryRow(page, 'GitHub', 'Acme Corp'), GITHUB_KEY);
  await expectLiveCode(entryRow(page, 'Zürcher Bank', 'Initech Zürich'), ZURICH_KEY);
  await expect(entryRow(page, 'Microsoft 365', 'Globex')).toBeVisible();
});

test('Import…: a dropped file in three chunks shows its duplicate and its bad key with reasons, and skips both', async ({ vaultPage: page }) => {
  // Once in the vault...
  await openImport(page);
  let dialog = importDialog(page);
  await dialog.getByLabel('Export file', { exact: true }).setInputFiles({ name: 'one.txt', mimeType: 'text/plain', buffer: Buffer.from(`otpauth://totp/GitHub:octo?secret=${GITHUB_KEY}&issuer=GitHub\n`) });
  await dialog.getByRole('button', { name: 'Import 1 entry' }).click();
  await expect(toast(page)).toHaveText('Imported 1 entry into Default');

  // ...then dropped again among others, past 1 MiB of comment lines (three 512 KiB chunks).
  const padding = `# ${'x'.repeat(98)}\n`.repeat(12_000);
  const text = `${padding}otpauth://totp/GitHub:octo?secret=${GITHUB_KEY}&issuer=GitHub\notpauth://totp/Acme:bad?secret=JBSWY3D0EHPK3PXP&issuer=Acme\notpauth://totp/Zurich:ops?secret=${ZURICH_KEY}&issuer=Zurich\n`;
  await openImport(page);
  dialog = importDialog(page);
  // The comment lines hide what it is from a look at its start: the format is named.
  await dialog.getByLabel('Format').selectOption('otpauth');
  const zone = dialog.getByLabel('Export file: drop it here');
  const dataTransfer = await page.evaluateHandle((content) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], 'authenticator.txt', { type: 'text/plain' }));
    return transfer;
  }, text);
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(dialog.getByRole('region', { name: 'Already in the vault' })).toContainText('Line 12001: already in the vault (same OTP key, issuer and account): skipped.');
  await expect(dialog.getByRole('region', { name: 'Entries that cannot be imported' })).toContainText('Line 12002: Secret key has "0" at position 8 (did you mean the letter O?)');
  await dialog.getByLabel('Import the other entries without these').check();
  await dialog.getByRole('button', { name: 'Import 1 entry' }).click();
  await expect(toast(page)).toHaveText('Imported 1 entry into Default; skipped 2');
  await expectLiveCode(entryRow(page, 'Zurich'), ZURICH_KEY);
  await expect(entryRow(page, 'GitHub')).toHaveCount(1);
});

test('Import…: a spreadsheet needs its columns confirmed, and with two groups the group is chosen, never assumed', async ({ vaultPage: page }) => {
  // A second group, made through the page's own session, so the target is a real choice.
  const made = await page.evaluate(async () => (await fetch('/rpc/groups.create', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Night shift' }) })).json() as Promise<{ ok: boolean }>);
  expect(made.ok).toBe(true);
  await page.reload();
  await expect(page.getByLabel('Search')).toBeVisible();

  await openImport(page);
  const dialog = importDialog(page);
  await dialog.getByLabel('Format').selectOption('csv');
  await dialog.getByLabel('Export file', { exact: true }).setInputFiles(path.join(FIXTURES, 'spreadsheet.csv'));
  // The first guess, from the column names, is shown to be checked: Secret and 2FA seed are not guessed.
  await expect(dialog.getByLabel('Title (required)')).toHaveValue('Account');
  await expect(dialog.getByLabel('Customer', { exact: true })).toHaveValue('Client');
  await expect(dialog.getByLabel('Password', { exact: true })).toHaveValue('');
  expect(await seriousViolations(page)).toEqual([]);
  await dialog.getByLabel('Password', { exact: true }).selectOption('Secret');
  await dialog.getByLabel('One-time password (key or otpauth:// link)').selectOption('2FA seed');
  await dialog.getByRole('button', { name: 'Use these columns' }).click();

  const table = dialog.getByRole('region', { name: 'What would be imported' });
  await expect(table.getByRole('heading')).toHaveText('7 entries to import');
  await expect(table.getByRole('row', { name: 'Acme 3' })).toBeVisible();
  await expect(dialog.getByRole('region', { name: 'Entries that cannot be imported' })).toContainText("line 11 'Broken': Secret key has \"1\" at position 8");
  await expect(dialog.getByRole('region', { name: 'Entries that cannot be imported' })).toContainText("line 2 'Personal mail': no issuer to use as the customer");
  await dialog.getByLabel('Import the other entries without these').check();
  const go = dialog.getByRole('button', { name: 'Choose a group to import' });
  await expect(go).toBeDisabled();
  await dialog.getByLabel('Access group').selectOption('Night shift');
  await expect(table.getByRole('heading')).toHaveText('7 entries to import into Night shift');
  await dialog.getByRole('button', { name: 'Import 7 entries' }).click();
  await expect(toast(page)).toHaveText('Imported 7 entries into Night shift; skipped 2');
  await expectLiveCode(entryRow(page, 'VPN', 'Initech'), 'AY5KNSXUWMO6DAC54VFWMZ5R2UNHVIIZ');
});

test('Back up… (owner, backup password twice, own password again) writes a backup the CLI verifies; Export… needs the typed confirmation', async ({ vaultPage: page, host }) => {
  await openImport(page);
  const dialog = importDialog(page);
  await dialog.getByLabel('Export file', { exact: true }).setInputFiles({ name: 'one.txt', mimeType: 'text/plain', buffer: Buffer.from(`otpauth://totp/GitHub:octo?secret=${GITHUB_KEY}&issuer=GitHub\n`) });
  await dialog.getByRole('button', { name: 'Import 1 entry' }).click();
  await expect(toast(page)).toHaveText('Imported 1 entry into Default');

  const backupFile = path.join(host.folder, 'team.cvbackup');
  await page.getByRole('button', { name: 'Import / export…' }).click();
  await page.getByRole('button', { name: 'Back up the vault…' }).click();
  const backup = page.getByRole('dialog', { name: 'Back up' });
  await backup.getByLabel('Backup file (full path of a new file)').fill(backupFile);
  await backup.getByLabel('Your password').fill(PASSWORD);
  await backup.getByLabel('Backup password', { exact: true }).fill('backup password 1');
  await backup.getByLabel('Repeat backup password').fill('backup password 2');
  await backup.getByRole('button', { name: 'Back up' }).click();
  await expect(backup.getByRole('alert')).toHaveText('The two backup passwords differ.');
  await backup.getByLabel('Repeat backup password').fill('backup password 1');
  await backup.getByLabel('Your password').fill('not my password');
  await backup.getByRole('button', { name: 'Back up' }).click();
  await expect(backup.getByRole('alert')).toContainText(/password/i);
  expect(existsSync(backupFile)).toBe(false);
  await backup.getByLabel('Your password').fill(PASSWORD);
  await backup.getByRole('button', { name: 'Back up' }).click();
  await expect(backup.getByRole('status')).toContainText(`Backed up to ${backupFile}: 1 entries`);
  await backup.getByRole('button', { name: 'Close' }).click();
  const verified = spawnSync(process.execPath, ['bin/crewvault.mjs', 'backup', 'verify', backupFile], { input: 'backup password 1\n', encoding: 'utf8' });
  expect(verified.stderr).toBe('');
  expect(verified.stdout).toMatch(/^Backup intact: /);

  const exportFile = path.join(host.folder, 'codes.txt');
  await page.getByRole('button', { name: 'Import / export…' }).click();
  await page.getByRole('button', { name: 'Export entries…' }).click();
  const exporting = page.getByRole('dialog', { name: 'Export' });
  await exporting.getByLabel('Format').selectOption('otpauth');
  await exporting.getByLabel('Export file (full path of a new file)').fill(exportFile);
  await exporting.getByLabel('Your password').fill(PASSWORD);
  const go = exporting.getByRole('button', { name: 'Export unencrypted' });
  await expect(go).toBeDisabled();
  await exporting.getByLabel('Type EXPORT to confirm').fill('export');
  await expect(go).toBeDisabled();
  await exporting.getByLabel('Type EXPORT to confirm').fill('EXPORT');
  await go.click();
  await expect(exporting.getByRole('status')).toHaveText(`Exported 1 entry to ${exportFile}.`);
  expect(readFileSync(exportFile, 'utf8')).toContain(`secret=${GITHUB_KEY}`);
});
