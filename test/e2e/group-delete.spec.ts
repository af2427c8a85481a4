// Deleting an access group on the Groups screen (#11), in Debian's Chromium against a real
// `crewvault serve`: the button asks first in a dialog naming the group; Cancel keeps it; a
// group that holds entries cannot be deleted and says to move them first; the vault's refusal
// of the default group is shown as it says it; a deleted group leaves the list and the audit
// log has its `group.delete` row. The screen and the dialog pass axe in both themes.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { addEntry } from './helpers';
import { seriousViolations } from './axe';

function groupButton(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Access groups' }).getByRole('button', { name: new RegExp(`^${name} `) });
}

test('a group is deleted after a confirmation naming it; one with entries, or the default, is not', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  // The default group, empty in a new vault: the vault refuses, and the screen says why.
  await groupButton(page, 'Default').click();
  await page.getByRole('button', { name: 'Delete group' }).click();
  await page.getByRole('dialog', { name: 'Delete the group Default?' }).getByRole('button', { name: 'Delete group' }).click();
  await expect(page.getByRole('alert')).toHaveText('Default is the vault\'s default group (new people join it): it cannot be deleted.');
  await expect(groupButton(page, 'Default')).toBeVisible();

  // A group with entries: no deleting until they are moved, and the screen says so.
  await page.getByRole('button', { name: 'Vault', exact: true }).click();
  await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', username: 'root' });
  await addEntry(page, { customer: 'Acme Corp', title: 'VPN', username: 'ops' });
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await groupButton(page, 'Default').click();
  await expect(page.getByRole('button', { name: 'Delete group' })).toBeDisabled();
  await expect(page.getByText('To delete it, move its 2 entries to another group first.')).toBeVisible();

  await page.getByLabel('New group').fill('Night shift');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Night shift' })).toBeVisible();
  await page.getByRole('button', { name: 'Delete group' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete the group Night shift?' });
  await expect(dialog).toContainText('Night shift holds no entries.');
  expect(await seriousViolations(page)).toEqual([]);
  // Cancel keeps it.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(groupButton(page, 'Night shift')).toBeVisible();

  await page.getByRole('button', { name: 'Delete group' }).click();
  await dialog.getByRole('button', { name: 'Delete group' }).click();
  await expect(page.getByRole('status')).toHaveText('Deleted Night shift.');
  await expect(groupButton(page, 'Night shift')).toHaveCount(0);
  await expect(page.getByText('Choose a group to see its members.')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  await page.getByRole('button', { name: 'Audit log', exact: true }).click();
  await expect(page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'group.delete' }) })).toContainText('Night shift');
});
