/**
 * Search (issue #11), end to end in Debian's Chromium: several terms, each matching some
 * field ("acme 365"), initials and aliases ("m365", "o365"), the best match first, and a
 * customer filter that hides what the search would find elsewhere says so (with an axe pass
 * on that message). The rule itself is
 * tested in test/unit/search-rule.test.ts; here the page shows it.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures';
import { addEntry, entryRow } from './helpers';

test('several terms, initials and aliases find the entry; the best match is listed first', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.example' });
  await addEntry(page, { customer: 'Acme Corp', title: 'VPN', username: 'ops' });
  await addEntry(page, { customer: 'Globex', title: 'Mail', username: 'postmaster@globex.example' });
  await addEntry(page, { customer: 'Globex', title: 'Backup', username: 'svc-mail' });
  const rows = page.getByRole('list', { name: 'Entries' }).getByRole('listitem');
  const search = page.getByLabel('Search');

  // Typed as a person types, key by key: the list narrows as the query grows.
  await search.pressSequentially('acme 365');
  await expect(rows).toHaveCount(1);
  await expect(entryRow(page, 'Microsoft 365 admin', 'Acme Corp')).toBeVisible();

  for (const query of ['acme microsoft', 'm365', 'o365']) {
    await search.fill(query);
    await expect(rows, query).toHaveCount(1);
    await expect(entryRow(page, 'Microsoft 365 admin')).toBeVisible();
  }

  // An exact title first, then a word start (svc-mail), in list order within a rank.
  await search.fill('mail');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Mail');
  await expect(rows.nth(0)).toContainText('Globex · postmaster@globex.example');
  await expect(rows.nth(1)).toContainText('Backup');
});

test('a customer filter and a search that finds nothing: the message names the filter, and one click drops it', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'VPN', username: 'ops' });
  await addEntry(page, { customer: 'Globex', title: 'Mail', username: 'postmaster' });
  const customers = page.getByRole('navigation', { name: 'Customers' });
  await customers.getByRole('button', { name: /Globex/ }).click();
  await page.getByLabel('Search').fill('vpn');

  const message = page.getByText('No entries of Globex match “vpn”: the customer filter is on.');
  await expect(message).toBeVisible();
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  await page.getByRole('button', { name: 'Search all customers' }).click();
  await expect(message).toBeHidden();
  await expect(entryRow(page, 'VPN', 'Acme Corp')).toBeVisible();
  await expect(customers.getByRole('button', { name: /All customers/ })).toHaveAttribute('aria-current', 'true');

  // No filter, no match: the plain message, which names no filter.
  await page.getByLabel('Search').fill('nothing like this');
  await expect(page.getByText('No entries match “nothing like this”.')).toBeVisible();
});
