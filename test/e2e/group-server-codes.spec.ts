// "Server computes codes" on the Groups screen (#15), in Debian's Chromium against a real
// `crewvault serve`: turning it on asks first in a dialog that says what the team server can then
// see and that other groups stay end-to-end encrypted; Cancel changes nothing; confirmed, the
// group is marked and the vault audits it; turning it off needs no dialog. Passes axe.
// A team lead, who may not set it, sees no switch, only where their group stands (off, then on
// once the owner set it), and that screen passes axe too.
import type { Page } from '@playwright/test';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { seriousViolations } from './axe';
import { signIn } from './helpers';
import { addUser, lock } from './mfa-helpers';

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

test('a team lead sees whether the server computes a group\'s codes, never the switch', async ({ vaultPage: page }) => {
  const oneTime = await addUser(page, 'lena', 'team_lead');
  await lock(page);
  await page.getByLabel('Username').fill('lena');
  await page.getByLabel('Password', { exact: true }).fill(oneTime);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('New password', { exact: true }).fill('lena chose this');
  await page.getByLabel('Repeat new password').fill('lena chose this');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill('Acme team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Acme team' })).toBeVisible();
  const state = page.getByText(/^Codes computed by the server: /);
  await expect(state).toHaveText('Codes computed by the server: off (owners and admins set this)');
  await expect(page.getByRole('checkbox', { name: /The team server computes this group's TOTP codes/ })).toHaveCount(0);
  await lock(page);

  // The owner turns it on for the lead's group; the lead then reads it as on, still without a switch.
  await signIn(page, OWNER, PASSWORD);
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await groupButton(page, 'Acme team').click();
  await page.getByRole('checkbox', { name: /The team server computes this group's TOTP codes/ }).click();
  await page.getByRole('dialog', { name: 'Let the team server compute the codes of Acme team?' }).getByRole('button', { name: 'Hand the server its TOTP keys' }).click();
  await expect(page.getByRole('checkbox', { name: /The team server computes this group's TOTP codes/ })).toBeChecked();
  await lock(page);

  await signIn(page, 'lena', 'lena chose this');
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await groupButton(page, 'Acme team').click();
  await expect(state).toHaveText('Codes computed by the server: on (owners and admins set this)');
  await expect(page.getByRole('checkbox', { name: /The team server computes this group's TOTP codes/ })).toHaveCount(0);
  expect(await seriousViolations(page)).toEqual([]);
});
