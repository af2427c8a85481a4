// "Server computes codes" on the Groups screen (#15), in Debian's Chromium against a real
// `crewvault serve`: turning it on asks first in a dialog that says what the team server can then
// see and that other groups stay end-to-end encrypted; Cancel changes nothing; confirmed, the
// group is marked and the vault audits it; turning it off needs no dialog. Passes axe.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { seriousViolations } from './axe';

function groupButton(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Access groups' }).getByRole('button', { name: new RegExp(`^${name} `) });
}

test('a group is set to "server computes codes" after a dialog saying what the server sees, and back', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await groupButton(page, 'Default').click();
  const toggle = page.getByRole('checkbox', { name: /The team server computes this group's TOTP codes/ });
  await expect(toggle).not.toBeChecked();
  await expect(page.getByText(/Groups without this setting stay end-to-end encrypted/).first()).toBeVisible();

  await toggle.click();
  const dialog = page.getByRole('dialog', { name: 'Let the team server compute the codes of Default?' });
  await expect(dialog).toContainText('the team server holds this group\'s TOTP keys');
  expect(await seriousViolations(page)).toEqual([]);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(toggle).not.toBeChecked();

  await toggle.click();
  await page.getByRole('dialog', { name: 'Let the team server compute the codes of Default?' }).getByRole('button', { name: 'Hand the server its TOTP keys' }).click();
  await expect(page.getByRole('status')).toHaveText('The team server now computes the codes of Default; its codes-only members no longer hold its keys.');
  await expect(toggle).toBeChecked();

  await toggle.click();
  await expect(page.getByRole('status')).toHaveText('Default is end-to-end encrypted again.');
  await expect(toggle).not.toBeChecked();
  expect(await seriousViolations(page)).toEqual([]);
});
