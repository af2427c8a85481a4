/**
 * The entry form's defaults and confirmations (issue #11), in Debian's Chromium: a new entry
 * goes to the access group its customer's entries are in, with the reason shown (or must be
 * given a group when they are in several), never silently to the wider default group; an
 * otpauth URI fills the fields as it is pasted, before the field is left; "required" is said
 * under its own field; removing or replacing a saved OTP key through Edit asks first and names
 * the customer, as Delete does; the OTP choice starts at "Secret key", and left empty it means
 * no OTP.
 */
import type { Page } from '@playwright/test';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { addEntry, addEntryDialog, detailsPane, entryRow, expectCodeOfKey, selectRow, signIn } from './helpers';
import { addUser, chooseOwnPassword, lock, submitPassword } from './mfa-helpers';
import { seriousViolations } from './axe';

const KEY = 'JBSWY3DPEHPK3PXP';
const OTHER_KEY = 'GEZDGNBVGY3TQOJQ';

async function createGroup(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill(name);
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await page.getByRole('button', { name: 'Vault', exact: true }).click();
}

test('a new entry goes to its customer\'s group, says why, and asks when the customer\'s entries are split', async ({ vaultPage: page }) => {
  await createGroup(page, 'Acme team');
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  let dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Acme Corp');
  // A new customer: the default group, said so.
  await expect(dialog.getByLabel('Access group')).toHaveValue('');
  await expect(dialog.getByText('Acme Corp is a new customer: its first entry goes to the default group unless you choose another.')).toBeVisible();
  await dialog.getByLabel('Title').fill('Router');
  await dialog.getByLabel('Access group').selectOption({ label: 'Acme team' });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();

  // The next Acme entry starts in Acme team (any spelling of the customer), not the default group.
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('acme corp');
  await expect(dialog.getByLabel('Access group')).toHaveValue(/\d+/);
  await expect(dialog.getByLabel('Access group').locator('option:checked')).toHaveText('Acme team');
  await expect(dialog.getByText('acme corp\'s other entries are in Acme team.')).toBeVisible();
  await dialog.getByLabel('Title').fill('Firewall');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'Firewall'));
  await expect(detailsPane(page, 'Firewall')).toContainText('Acme team');

  // Split between two groups: no group is taken for granted.
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('Printer');
  await dialog.getByLabel('Access group').selectOption({ label: 'Default group' });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('Camera');
  await expect(dialog.getByText('Acme Corp\'s entries are in 2 groups: choose who may see this one.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Choose the access group: who may see this entry.');
  await expect(dialog.getByLabel('Access group')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Access group').selectOption({ label: 'Acme team' });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
});

/** Opens `group` on the Groups screen. */
async function openGroup(page: Page, group: string): Promise<void> {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByRole('navigation', { name: 'Access groups' }).getByRole('button', { name: new RegExp(`^${group} `) }).click();
  await expect(page.getByRole('heading', { name: group })).toBeVisible();
}

/**
 * tom, a technician, put in each of `groups` and taken out of Default (its key rotated), then
 * signed in with a password of his own: someone who holds those groups and not the default one.
 */
async function signInAsTomHoldingOnly(page: Page, groups: readonly string[]): Promise<void> {
  const oneTime = await addUser(page, 'tom', 'technician');
  for (const group of groups) {
    await openGroup(page, group);
    await page.getByLabel('Add member').selectOption({ label: 'tom (technician)' });
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'tom can now see' })).toBeVisible();
  }
  await openGroup(page, 'Default');
  await page.getByRole('button', { name: 'Remove tom' }).click();
  await page.getByRole('button', { name: 'Remove and rotate key' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'tom was removed' })).toBeVisible();
  await lock(page);
  await submitPassword(page, 'tom', oneTime);
  await chooseOwnPassword(page, oneTime, 'tom chose this one');
}

test('someone who holds two groups but not the default one chooses where a new customer\'s entry goes: "Default group" is not offered', async ({ vaultPage: page }) => {
  await createGroup(page, 'Acme team');
  await createGroup(page, 'Night shift');
  await signInAsTomHoldingOnly(page, ['Acme team', 'Night shift']);

  // Without a group the vault would file it in one of tom's groups of its own choosing (the form
  // used to say "the default group" and the entry went to Acme team): tom is asked instead.
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Umbrella');
  await dialog.getByLabel('Title').fill('Router');
  const group = dialog.getByLabel('Access group');
  await expect(dialog.getByText('Umbrella is a new customer: choose who may see its entries.')).toBeVisible();
  expect(await group.locator('option').allTextContents()).toEqual(['Choose a group…', 'Acme team', 'Night shift']);
  expect(await seriousViolations(page)).toEqual([]);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Choose the access group: who may see this entry.');
  await group.selectOption({ label: 'Night shift' });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'Router', 'Umbrella'));
  await expect(detailsPane(page, 'Router')).toContainText('Night shift');
});

test('a pasted otpauth URI fills customer, title and username at once, before the field is left', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByRole('radio', { name: 'otpauth URI' }).check();
  const field = dialog.getByRole('textbox', { name: 'otpauth URI' });
  await field.fill(`otpauth://totp/Globex:hank@globex.example?secret=${KEY}&issuer=Globex`);
  await expect(field).toBeFocused();
  await expect(dialog.getByLabel('Customer')).toHaveValue('Globex');
  await expect(dialog.getByLabel('Title')).toHaveValue('Globex');
  await expect(dialog.getByLabel('Username')).toHaveValue('hank@globex.example');
});

test('a person whose only group is not the default one: a new customer\'s entry goes to that group, and the form says so', async ({ vaultPage: page }) => {
  await createGroup(page, 'Acme team');
  await signInAsTomHoldingOnly(page, ['Acme team']);

  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Umbrella');
  await expect(dialog.getByText('Access group: Acme team, your only group.')).toBeVisible();
  await expect(dialog.getByLabel('Access group')).toHaveCount(0);
  await dialog.getByLabel('Title').fill('Router');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  // Seen from the owner, who holds every group: it is in Acme team, not the default group.
  await lock(page);
  await signIn(page, OWNER, PASSWORD);
  await selectRow(entryRow(page, 'Router', 'Umbrella'));
  await expect(detailsPane(page, 'Router')).toContainText('Acme team');
});

test('an otpauth URI pasted into "Secret key", the starting choice, is taken as the URI: the fields fill at once', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await expect(dialog.getByRole('radio', { name: 'Secret key' })).toBeChecked();
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill(`otpauth://totp/Globex:hank@globex.example?secret=${OTHER_KEY}&issuer=Globex`);
  // Not refused as a key with a bad character: the choice moves to the URI, which keeps the focus.
  await expect(dialog.getByRole('radio', { name: 'otpauth URI' })).toBeChecked();
  const field = dialog.getByRole('textbox', { name: 'otpauth URI' });
  await expect(field).toBeFocused();
  await expect(dialog.getByLabel('Customer')).toHaveValue('Globex');
  await expect(dialog.getByLabel('Username')).toHaveValue('hank@globex.example');
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'Globex', 'Globex'));
  await expectCodeOfKey(detailsPane(page, 'Globex'), OTHER_KEY);
});

test('a missing customer or title is said under its field, which gets the focus', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByRole('button', { name: 'Save' }).click();
  const customer = dialog.getByRole('combobox', { name: 'Customer' });
  await expect(customer).toBeFocused();
  await expect(customer).toHaveAttribute('aria-invalid', 'true');
  await expect(customer).toHaveAccessibleDescription('Customer is required.');
  await expect(dialog.getByText('Title is required.')).toBeVisible();
  await customer.fill('Acme Corp');
  await expect(customer).toHaveAttribute('aria-invalid', 'false');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('textbox', { name: 'Title' })).toBeFocused();
  await expect(dialog.getByRole('alert')).toHaveText('Title is required.');
});

test('removing or replacing a saved OTP key through Edit asks first, naming the customer', async ({ vaultPage: page }) => {
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'VPN', secret: KEY });
  await selectRow(row);
  const details = detailsPane(page, 'VPN');
  await details.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit entry' });
  await dialog.getByRole('radio', { name: 'Remove OTP' }).check();
  await dialog.getByRole('button', { name: 'Save' }).click();
  const remove = page.getByRole('dialog', { name: 'Remove the OTP of VPN (Acme Corp)?' });
  await expect(remove).toContainText('cannot be recovered');
  // Cancel: nothing saved, the form stays open.
  await remove.getByRole('button', { name: 'Cancel' }).click();
  await expect(remove).toBeHidden();
  await expect(dialog).toBeVisible();
  await dialog.getByRole('radio', { name: 'Secret key' }).check();
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill(OTHER_KEY);
  await dialog.getByRole('button', { name: 'Save' }).click();
  const replace = page.getByRole('dialog', { name: 'Replace the OTP key of VPN (Acme Corp)?' });
  await replace.getByRole('button', { name: 'Replace key and save' }).click();
  await expect(dialog).toBeHidden();
  await expectCodeOfKey(detailsPane(page, 'VPN'), OTHER_KEY);

  // Delete names the customer too.
  await detailsPane(page, 'VPN').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('dialog', { name: 'Delete VPN of Acme Corp?' })).toBeVisible();
});

test('the OTP choice starts at "Secret key": a key typed straight in is saved, and left empty the entry has no OTP', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  let dialog = addEntryDialog(page);
  await expect(dialog.getByRole('radio', { name: 'Secret key' })).toBeChecked();
  await expect(dialog.getByText('Left empty, the entry has no one-time password.')).toBeVisible();
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('Printer admin');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'Printer admin'));
  const plain = detailsPane(page, 'Printer admin');
  await expect(plain.getByLabel('One-time password')).toHaveCount(0);

  // Editing an entry without an OTP starts there too, and saving it empty adds none.
  await plain.getByRole('button', { name: 'Edit' }).click();
  dialog = page.getByRole('dialog', { name: 'Edit entry' });
  await expect(dialog.getByRole('radio', { name: 'Secret key' })).toBeChecked();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(detailsPane(page, 'Printer admin').getByLabel('One-time password')).toHaveCount(0);

  // The key typed without touching the choice.
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('VPN');
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill(KEY);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'VPN'));
  await expectCodeOfKey(detailsPane(page, 'VPN'), KEY);
});
