/**
 * Moving several entries to another access group from the list (issue #11): rows name their
 * group, a checkbox (or Space on the selected row) marks them, and one Move re-files them all;
 * the line after says how many went where; the Group filter then shows each group's rows, and
 * says so when it hides what a search would find. Checked by axe in both themes. A team lead
 * (not only an owner) does the same into the group they lead.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { addEntry, entryRow, selectRow } from './helpers';
import { addUser, chooseOwnPassword, lock, submitPassword } from './mfa-helpers';

/** Creates the access group `name` on the Groups screen and stays on its page. */
async function createGroup(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill(name);
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
}

/**
 * Adds an entry of `customer` for each of `titles`, each filed in the default group as chosen in
 * the form (Access group: Default group).
 */
async function addToDefaultGroup(page: Page, customer: string, titles: readonly string[]): Promise<void> {
  for (const title of titles) {
    await page.getByRole('button', { name: 'Add entry' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add entry' });
    await dialog.getByLabel('Customer').fill(customer);
    await dialog.getByLabel('Title').fill(title);
    await dialog.getByLabel('Access group').selectOption({ label: 'Default group' });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toBeHidden();
  }
}

test('mark rows by checkbox and Space, move them to a group in one go', async ({ vaultPage: page }) => {
  await createGroup(page, 'Acme team');
  await page.getByRole('button', { name: 'Vault', exact: true }).click();
  await addToDefaultGroup(page, 'Acme Corp', ['Router', 'Firewall', 'Wiki']);
  await addEntry(page, { customer: 'Globex', title: 'VPN' });
  const groupOf = (title: string) => entryRow(page, title).locator('.muted');
  await expect(groupOf('Router')).not.toContainText('Acme team');

  await entryRow(page, 'Router').getByRole('checkbox', { name: 'Mark Router (Acme Corp)' }).check();
  await entryRow(page, 'Firewall').getByRole('checkbox', { name: 'Mark Firewall (Acme Corp)' }).check();
  // Space marks the selected row, from the keyboard.
  await selectRow(entryRow(page, 'Wiki'));
  await page.getByRole('list', { name: 'Entries' }).focus();
  await page.keyboard.press('Space');
  await expect(entryRow(page, 'Wiki').getByRole('checkbox')).toBeChecked();

  const bar = page.getByRole('group', { name: 'Marked entries' });
  await expect(bar).toContainText('3 marked');
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  }
  await bar.getByLabel('Move to').selectOption({ label: 'Acme team' });
  await bar.getByRole('button', { name: 'Move' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Moved 3 entries to Acme team.' })).toBeVisible();
  await expect(bar).toBeHidden();
  for (const title of ['Router', 'Firewall', 'Wiki']) await expect(groupOf(title)).toContainText('Acme team');
  await expect(groupOf('VPN')).not.toContainText('Acme team');
  await expect(page.getByRole('checkbox', { checked: true })).toHaveCount(0);

  const filter = page.getByRole('combobox', { name: 'Group', exact: true });
  await filter.selectOption({ label: 'Acme team' });
  await expect(page.getByRole('list', { name: 'Entries' }).getByRole('listitem')).toHaveCount(3);
  await expect(entryRow(page, 'VPN')).toHaveCount(0);
  await page.getByLabel('Search').fill('vpn');
  await expect(page.getByText('No entries of the group Acme team match “vpn”: the group filter is on.')).toBeVisible();
  await page.getByRole('button', { name: 'Show all groups' }).click();
  await expect(entryRow(page, 'VPN')).toBeVisible();
  await expect(filter).toHaveValue('');
});

test('a team lead, not an owner, marks entries and moves them into the group they lead', async ({ vaultPage: page }) => {
  const oneTime = await addUser(page, 'lena', 'team_lead');
  await createGroup(page, 'Acme team');
  await page.getByLabel('Add member').selectOption({ label: 'lena (team lead)' });
  await page.getByLabel('as a lead').check();
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'lena can now see' })).toBeVisible();
  await page.getByRole('button', { name: 'Vault', exact: true }).click();
  await addToDefaultGroup(page, 'Acme Corp', ['Router', 'Firewall']);
  await lock(page);
  await submitPassword(page, 'lena', oneTime);
  await chooseOwnPassword(page, oneTime, 'lena chose this one');

  const groupOf = (title: string) => entryRow(page, title).locator('.muted');
  await expect(groupOf('Router')).toContainText('Default');
  for (const title of ['Router', 'Firewall']) await entryRow(page, title).getByRole('checkbox', { name: `Mark ${title} (Acme Corp)` }).check();
  const bar = page.getByRole('group', { name: 'Marked entries' });
  await expect(bar).toContainText('2 marked');
  await bar.getByLabel('Move to').selectOption({ label: 'Acme team' });
  await bar.getByRole('button', { name: 'Move' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Moved 2 entries to Acme team.' })).toBeVisible();
  for (const title of ['Router', 'Firewall']) await expect(groupOf(title)).toContainText('Acme team');
});
