// The audit screen shows what people did, with passive code views behind a switch (issue #11;
// axe-clean with them shown, as is the first sign-in's password screen),
// and an auditor — who holds no group's secret key since schema 6 — sees an entry's list fields
// and is told its secrets are sealed from their role (issue #10).
import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures';
import { addEntry, detailsPane, entryRow, readShownCode, selectRow } from './helpers';
import { addUser, chooseOwnPassword, lock, submitPassword } from './mfa-helpers';
import { seriousViolations } from './axe';

const KEY = 'JBSWY3DPEHPK3PXP';

test('code views are hidden from the audit log until asked for; acts stay', async ({ vaultPage: page }) => {
  const row = await addEntry(page, { customer: 'Acme', title: 'VPN', secret: KEY });
  await readShownCode(row); // the list shows the live code: one otp.code row
  await page.getByRole('button', { name: 'Audit log', exact: true }).click();
  const table = page.getByRole('table');
  await expect(table.getByRole('cell', { name: 'entry.create', exact: true })).toBeVisible();
  await expect(table.getByRole('cell', { name: 'otp.code', exact: true })).toHaveCount(0);
  await expect(page.getByText(/1 code views hidden; the export has them/)).toBeVisible();
  // The export keeps everything, the hidden code views too.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  expect(csv).toMatch(/otp\.code.*Acme\/VPN \(step \d+\)/);
  expect(csv).toContain('entry.create');
  await page.getByLabel('Show code views').check();
  await expect(table.getByRole('cell', { name: 'otp.code', exact: true })).toHaveCount(1);
  await expect(table.getByRole('cell', { name: /^Acme\/VPN \(step \d+\)$/ })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});

test('an auditor sees the list fields and is told the secrets are sealed from their role', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme', title: 'VPN', username: 'ops', password: 'acme-secret-pass', secret: KEY });
  const oneTime = await addUser(page, 'audrey', 'auditor');
  await lock(page);
  await submitPassword(page, 'audrey', oneTime);
  // The first sign-in's own screen (choose a password, the one-time one not asked again) passes axe.
  await expect(page.getByText('You signed in with a one-time password')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await chooseOwnPassword(page, oneTime, 'audrey chose this');
  const row = entryRow(page, 'VPN', 'Acme');
  await expect(row).toBeVisible();
  await selectRow(row);
  const details = detailsPane(page, 'VPN');
  await expect(details.getByText('ops', { exact: true })).toBeVisible();
  await expect(details.getByText('Hidden from your role')).toBeVisible();
  await expect(details.getByRole('button', { name: 'Reveal password' })).toHaveCount(0);
  await expect(page.getByText('acme-secret-pass')).toHaveCount(0);
});
