// Roles and groups through the UI: an owner adds a team lead and a technician; the lead makes
// a group, adds the technician and an entry; the technician sees and reveals its code; the
// lead removes the technician, who then no longer sees it.
import { test, expect, OWNER, PASSWORD } from './fixtures';
import { detailsPane, entryRow, expectLiveCode, selectRow } from './helpers';
import { addUser, lock } from './mfa-helpers';
import type { Page } from '@playwright/test';

const KEY = 'JBSWY3DPEHPK3PXP';

/** Signs in; on a one-time password, chooses `own` as the new one first. */
async function signInAs(page: Page, name: string, password: string, own?: string): Promise<void> {
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (own) {
    await expect(page.getByText('You signed in with a one-time password')).toBeVisible();
    await page.getByLabel('Current password').fill(password);
    await page.getByLabel('New password', { exact: true }).fill(own);
    await page.getByLabel('Repeat new password').fill(own);
    await page.getByRole('button', { name: 'Change password' }).click();
  }
  await expect(page.getByLabel('Search')).toBeVisible();
}

test('a lead shares a group with a technician, then removes them', async ({ vaultPage: page }) => {
  const leadOneTime = await addUser(page, 'lena', 'team_lead');
  const techOneTime = await addUser(page, 'tom', 'technician');
  await lock(page);

  await signInAs(page, 'lena', leadOneTime, 'lena chose this');
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill('Acme team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Acme team' })).toBeVisible();
  await page.getByLabel('Add member (user name)').fill('tom');
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByRole('cell', { name: 'tom', exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Vault', exact: true }).click();
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add entry' });
  await dialog.getByLabel('Customer').fill('Acme');
  await dialog.getByLabel('Title').fill('Firewall');
  await dialog.getByLabel('Access group').selectOption({ label: 'Acme team' });
  await dialog.getByRole('radio', { name: 'Secret key' }).check();
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill(KEY);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(entryRow(page, 'Firewall')).toBeVisible();
  await lock(page);

  await signInAs(page, 'tom', techOneTime, 'tom chose this');
  const row = entryRow(page, 'Firewall');
  await expect(row).toBeVisible();
  await selectRow(row);
  await expectLiveCode(detailsPane(page, 'Firewall'), KEY);
  await lock(page);

  await signInAs(page, 'lena', 'lena chose this');
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByRole('button', { name: /^Acme team/ }).click();
  await page.getByRole('row', { name: /tom/ }).getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('button', { name: 'Remove and rotate key' }).click();
  await expect(page.getByText('tom was removed; the group has a new key.')).toBeVisible();
  await lock(page);

  await signInAs(page, 'tom', 'tom chose this');
  await expect(page.getByText('No entries yet.')).toBeVisible();
  await lock(page);
  await signInAs(page, OWNER, PASSWORD);
  await expect(entryRow(page, 'Firewall')).toBeVisible(); // the owner holds every group's key
});
