/**
 * The lock screen (issue #11), in Debian's Chromium: it keeps the person's name and says the
 * vault is locked; unlocking returns to the same search, group filter and selection (held in
 * the page's memory, never its storage); a wait after failed attempts is counted down on the
 * page's own clock (Playwright's, moved by the test: no sleeping), and the button waits too.
 * The lock screen, with and without the wait, passes axe in both themes.
 */
import type { Page } from '@playwright/test';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { addEntry, addEntryDialog, detailsPane, entryRow, selectRow } from './helpers';
import { seriousViolations } from './axe';

async function createGroup(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill(name);
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await page.getByRole('button', { name: 'Vault', exact: true }).click();
}

async function addToGroup(page: Page, customer: string, title: string, group: string): Promise<void> {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill(customer);
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByLabel('Access group').selectOption({ label: group });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
}

async function lockWithButton(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByText('The vault is locked.', { exact: false })).toBeVisible();
}

test('locking keeps the name, says the vault is locked, and unlocking returns to the same search, filter and selection', async ({ vaultPage: page }) => {
  await createGroup(page, 'Acme team');
  await addEntry(page, { customer: 'Globex', title: 'Core switch' });
  await addToGroup(page, 'Acme Corp', 'Core switch', 'Acme team');
  await addToGroup(page, 'Acme Corp', 'Edge switch', 'Acme team');
  await addToGroup(page, 'Acme Corp', 'VPN', 'Acme team');

  const rows = page.getByRole('list', { name: 'Entries' }).getByRole('listitem');
  await page.getByLabel('Search').fill('switch');
  const filter = page.getByRole('combobox', { name: 'Group', exact: true });
  await filter.selectOption({ label: 'Acme team' });
  await expect(rows).toHaveCount(2);
  const edge = entryRow(page, 'Edge switch');
  await selectRow(edge);

  await lockWithButton(page);
  await expect(page.getByRole('list', { name: 'Entries' })).toHaveCount(0);
  await expect(page.getByLabel('Username')).toHaveValue(OWNER);
  await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
  // Where the person was is in the page's memory, not its storage.
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toContain('switch');

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('Search')).toHaveValue('switch');
  await expect(filter).toHaveValue(await filter.locator('option', { hasText: 'Acme team' }).getAttribute('value') ?? 'none');
  await expect(rows).toHaveCount(2);
  await expect(entryRow(page, 'Edge switch')).toHaveAttribute('aria-current', 'true');
  await expect(detailsPane(page, 'Edge switch')).toBeVisible();

  // A failed attempt under another name changes nothing: the right person still goes back to where they were.
  await lockWithButton(page);
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password', { exact: true }).fill('not a user');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('Search')).toHaveValue('switch');
  // A reload (the session stays) starts afresh: the page kept the view in memory only.
  await page.reload();
  await expect(page.getByLabel('Search')).toHaveValue('');
  await expect(rows).toHaveCount(4);
});

test('Ctrl+L locks; unlocking with Enter returns to the same customer filter, search and selection; the lock screen passes axe', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Core switch' });
  await addEntry(page, { customer: 'Acme Corp', title: 'Edge switch' });
  await addEntry(page, { customer: 'Globex', title: 'Edge switch' });
  const customers = page.getByRole('navigation', { name: 'Customers' });
  await customers.getByRole('button', { name: /Acme Corp/ }).click();
  await page.getByLabel('Search').fill('edge');
  await selectRow(entryRow(page, 'Edge switch', 'Acme Corp'));
  await page.keyboard.press('Control+l');
  await expect(page.getByText('The vault is locked.', { exact: false })).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue(OWNER);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Search')).toHaveValue('edge');
  await expect(customers.getByRole('button', { name: /Acme Corp/ })).toHaveAttribute('aria-current', 'true');
  await expect(page.getByRole('list', { name: 'Entries' }).getByRole('listitem')).toHaveCount(1);
  await expect(entryRow(page, 'Edge switch', 'Acme Corp')).toHaveAttribute('aria-current', 'true');
});

test('a wait after failed attempts is counted down on the lock screen, and the button waits with it', async ({ vaultPage: page }) => {
  await page.clock.install();
  await lockWithButton(page);
  const password = page.getByLabel('Password', { exact: true });
  const signIn = page.getByRole('button', { name: 'Sign in' });
  const timer = page.getByRole('timer');
  // Three wrong passwords are free; the third starts a one-second wait, the fourth (after it) two.
  for (let i = 0; i < 3; i++) {
    await expect(timer).toHaveCount(0);
    await password.fill(`wrong ${i}`);
    await signIn.click();
    await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  }
  await expect(timer).toHaveText('You can try again in 1 s.');
  await expect(signIn).toBeDisabled();
  expect(await seriousViolations(page)).toEqual([]);
  await page.clock.runFor(1_000);
  await expect(timer).toHaveCount(0);
  await expect(signIn).toBeEnabled();

  await password.fill('wrong 3');
  await signIn.click();
  // Refused while the vault's own wait runs (its clock is not the page's), or a new, longer wait.
  await expect(timer).toHaveText(/^You can try again in [12] s\.$/);
  await expect(signIn).toBeDisabled();
  const shown = Number(/(\d) s/.exec(await timer.textContent() ?? '')?.[1]);
  if (shown === 2) {
    await page.clock.runFor(1_000);
    await expect(timer).toHaveText('You can try again in 1 s.');
  }
  await page.clock.runFor(1_000);
  await expect(timer).toHaveCount(0);
  await expect(signIn).toBeEnabled();
});
