/**
 * Accessibility of the main screens, checked by axe-core in Chromium: sign-in (first run and
 * after a lock), the vault with entries, the details pane with secrets revealed, the add and
 * edit dialogs, the delete confirmation, the team screens and two-step sign-in (the second
 * step, the panel, the admin tab and its dialogs) — each in the light and the dark theme. No serious or
 * critical violation is allowed; the report names each rule and the elements it found.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { OWNER, PASSWORD, expect, test } from './fixtures';
import { accountAction, addEntry, addEntryDialog, detailsPane, selectRow } from './helpers';
import { addUser, chooseOwnPassword, enrolAtSignIn, lock, mfaRow, openMfaAdmin, setPolicy, submitPassword, wrongCode } from './mfa-helpers';

const KEY = 'jbsw y3dp ehpk 3pxp';

async function scan(page: Page, colorScheme: 'light' | 'dark'): Promise<string[]> {
  await page.emulateMedia({ colorScheme });
  expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(colorScheme === 'dark');
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${colorScheme} theme, ${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Serious and critical violations on the page as it is now, in both themes, one readable line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  return [...(await scan(page, 'dark')), ...(await scan(page, 'light'))];
}

async function fillVault(page: Page): Promise<void> {
  await addEntry(page, { customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.example', password: 'S3cret-for-the-test!', secret: KEY });
  await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', username: 'root' });
  await addEntry(page, { customer: 'Globex', title: 'VPN', username: 'hank', secret: 'gezd gnbv gy3t qojq' });
}

test('sign-in: first run and after a lock, with an error shown', async ({ page, host }) => {
  await page.goto(host.url);
  await expect(page.getByRole('button', { name: 'Create vault' })).toBeVisible();
  await page.getByLabel('Password', { exact: true }).fill('short');
  expect(await seriousViolations(page)).toEqual([]);

  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});

test('vault: the empty state, then a list with live codes and a filter', async ({ vaultPage: page }) => {
  await expect(page.getByText('No entries yet.')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await fillVault(page);
  await expect(page.getByRole('list', { name: 'Entries' }).getByRole('listitem')).toHaveCount(3);
  await expect(page.getByLabel('One-time password')).toHaveCount(2);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByLabel('Search').fill('nothing matches this');
  expect(await seriousViolations(page)).toEqual([]);
});

test('details: password, live code and secret key revealed, then the delete dialog', async ({ vaultPage: page }) => {
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.example', password: 'S3cret-for-the-test!', secret: KEY });
  await selectRow(row);
  const details = detailsPane(page, 'Microsoft 365 admin');
  expect(await seriousViolations(page)).toEqual([]);
  await details.getByRole('button', { name: 'Reveal password' }).click();
  await expect(details.getByLabel('One-time password')).toBeVisible();
  await details.getByRole('button', { name: 'Show secret key' }).click();
  await expect(details.getByLabel('Secret key')).toBeVisible();
  await details.getByRole('button', { name: 'Copy password' }).click();
  expect(await seriousViolations(page)).toEqual([]);

  await details.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('dialog', { name: 'Delete Microsoft 365 admin of Acme Corp?' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});

test('add entry: each way in for the OTP, a bad key, Advanced; and the edit dialog', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await expect(dialog).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  await dialog.getByRole('radio', { name: 'Secret key' }).check();
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill('jbsw y3dp ehpk 3pxo0');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('alert').first()).toBeVisible();
  await dialog.getByText('Advanced').click();
  expect(await seriousViolations(page)).toEqual([]);

  await dialog.getByRole('radio', { name: 'otpauth URI' }).check();
  expect(await seriousViolations(page)).toEqual([]);
  await dialog.getByRole('radio', { name: 'QR image' }).check();
  expect(await seriousViolations(page)).toEqual([]);
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', secret: KEY });
  await selectRow(row);
  await detailsPane(page, 'Firewall').getByRole('button', { name: 'Edit' }).click();
  await expect(page.getByRole('dialog', { name: 'Edit entry' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});

test('team screens: groups with members, users with roles, the audit log, the password dialog', async ({ vaultPage: page }) => {
  await fillVault(page);
  await page.getByRole('button', { name: 'Users', exact: true }).click();
  await page.getByLabel('New user name').fill('tom');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByText('Added tom.')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill('Acme team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Acme team' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Audit log', exact: true }).click();
  await expect(page.getByRole('cell', { name: 'group.create' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await accountAction(page, 'Change password');
  await expect(page.getByRole('dialog', { name: 'Change password' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('dialog', { name: 'Change password' }).getByRole('button', { name: 'Cancel' }).click();
  await accountAction(page, 'Two-step sign-in');
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});

test('two-step sign-in: the admin tab and its dialogs, enrolment at sign-in, the panel, the second step', async ({ vaultPage: page }) => {
  const oneTime = await addUser(page, 'tom', 'technician');
  await openMfaAdmin(page);
  await setPolicy(page, 'technician', 'Required');
  expect(await seriousViolations(page)).toEqual([]);
  await lock(page);

  await submitPassword(page, 'tom', oneTime);
  await expect(page.getByRole('heading', { name: 'Set up an authenticator app' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  const tomKey = await enrolAtSignIn(page);
  await chooseOwnPassword(page, oneTime, 'tom chose this one');
  await expect(page.getByLabel('Search')).toBeVisible();
  await accountAction(page, 'Two-step sign-in');
  const panel = page.getByRole('dialog', { name: 'Two-step sign-in' });
  await expect(panel.getByText('No computers are trusted')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await panel.getByRole('button', { name: 'Close' }).click();
  await lock(page);

  await submitPassword(page, OWNER, PASSWORD);
  await openMfaAdmin(page);
  await mfaRow(page, 'tom').getByRole('button', { name: 'Issue emergency code' }).click();
  await expect(page.getByRole('dialog', { name: 'Emergency code for tom' }).getByLabel('Emergency code')).toHaveText(/^[A-Z]{6}$/);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('dialog', { name: 'Emergency code for tom' }).getByRole('button', { name: 'Close' }).click();
  await mfaRow(page, 'tom').getByRole('button', { name: 'Reset two-step sign-in' }).click();
  const reset = page.getByRole('dialog', { name: "Reset tom's two-step sign-in?" });
  await reset.getByLabel('Your password').fill('not the owner password');
  await reset.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  await expect(reset.getByRole('alert')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await reset.getByRole('button', { name: 'Cancel' }).click();
  await lock(page);

  await submitPassword(page, 'tom', 'tom chose this one');
  await page.getByLabel('Authentication code').fill(wrongCode(tomKey));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('radio', { name: 'Emergency code' }).check();
  expect(await seriousViolations(page)).toEqual([]);
});
