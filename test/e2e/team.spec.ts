// Roles and groups through the UI: an owner adds a team lead and a technician; the lead makes
// a group, adds the technician and an entry; the technician sees and reveals its code; the
// lead removes the technician, who then no longer sees it. A lead's Groups screen passes axe.
import { test, expect, OWNER, PASSWORD } from './fixtures';
import { detailsPane, entryRow, expectLiveCode, selectRow } from './helpers';
import { addUser, lock } from './mfa-helpers';
import { seriousViolations } from './axe';
import type { Page } from '@playwright/test';

const KEY = 'JBSWY3DPEHPK3PXP';

/** Signs in; on a one-time password, chooses `own` as the new one first. */
async function signInAs(page: Page, name: string, password: string, own?: string): Promise<void> {
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (own) {
    await expect(page.getByText('You signed in with a one-time password')).toBeVisible();
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
  await page.getByLabel('Add member').selectOption({ label: 'tom (technician)' });
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

test('a lead picks members from a list, makes and unmakes leads, renames the group; the last lead cannot step down', async ({ vaultPage: page }) => {
  const leadOneTime = await addUser(page, 'lena', 'team_lead');
  await addUser(page, 'luke', 'team_lead');
  await addUser(page, 'tom', 'technician');
  await lock(page);

  await signInAs(page, 'lena', leadOneTime, 'lena chose this');
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill('Acme team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Acme team' })).toBeVisible();

  // Only the people who could join, by name and role: not lena, not the owner (who holds every group).
  const picker = page.getByLabel('Add member');
  await expect(picker.getByRole('option')).toHaveText(['Choose a person…', 'luke (team lead)', 'tom (technician)']);
  for (const label of ['luke (team lead)', 'tom (technician)']) {
    await picker.selectOption({ label });
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect(page.getByRole('row', { name: new RegExp(label.split(' ')[0] ?? '') })).toBeVisible();
  }
  await expect(picker.getByRole('option')).toHaveText(['Everyone is a member already']);

  // The vault keeps a lead: lena, the only one, cannot step down.
  await page.getByRole('button', { name: 'Demote lena' }).click();
  await expect(page.getByRole('alert')).toHaveText('lena is the last lead of Acme team: make another member a lead first.');
  // The screen as a lead sees it, members to make leads and the refusal shown, passes axe in both themes.
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Make luke a lead' }).click();
  await expect(page.getByRole('status')).toHaveText('luke now leads this group.');
  await expect(page.getByRole('row', { name: /luke/ })).toContainText('Lead');
  await page.getByRole('button', { name: 'Demote luke' }).click();
  await expect(page.getByRole('status')).toHaveText('luke no longer leads this group.');
  await expect(page.getByRole('button', { name: 'Make luke a lead' })).toBeVisible();

  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('Group name').fill('Acme ops');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByRole('status')).toHaveText('Renamed to Acme ops.');
  await expect(page.getByRole('heading', { name: 'Acme ops' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Access groups' }).getByRole('button', { name: /Acme ops/ })).toBeVisible();

  // With another lead, lena may step down; the group's members are then no longer hers to see.
  await page.getByRole('button', { name: 'Make luke a lead' }).click();
  await expect(page.getByRole('status')).toHaveText('luke now leads this group.');
  await page.getByRole('button', { name: 'Demote lena' }).click();
  await expect(page.getByRole('status')).toHaveText('You no longer lead Acme ops.');
  await expect(page.getByText('Choose a group to see its members.')).toBeVisible();
});
