/**
 * Setting up an authenticator because the policy requires it, at sign-in (issue #11): the same
 * as the voluntary setup in the Two-step sign-in panel — the QR code, the key in groups of four,
 * nothing wider than its card, recovery codes with Copy and Save — and "Cancel and sign out"
 * back to the password. Checked by axe in both themes.
 */
import { expect, test } from './fixtures';
import { readClipboard } from './helpers';
import { addUser, chooseOwnPassword, enrolmentCode, lock, openMfaAdmin, setPolicy, submitPassword } from './mfa-helpers';
import { seriousViolations } from './axe';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('required enrolment at sign-in: QR code and grouped key, Cancel and sign out, recovery codes with Copy and Save', async ({ vaultPage: page }) => {
  const oneTime = await addUser(page, 'tom', 'technician');
  await openMfaAdmin(page);
  await setPolicy(page, 'technician', 'Required');
  await lock(page);

  await submitPassword(page, 'tom', oneTime);
  await expect(page.getByRole('heading', { name: 'Set up an authenticator app' })).toBeVisible();
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  await expect(page.getByLabel('Secret key')).toHaveText(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  // Nothing overflows its card (the otpauth URI used to).
  const card = page.locator('.card');
  expect(await card.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
  expect(await seriousViolations(page)).toEqual([]);

  // A way back: the password screen, the attempt ended.
  await page.getByRole('button', { name: 'Cancel and sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();

  await submitPassword(page, 'tom', oneTime);
  const secret = (await page.getByLabel('Secret key').textContent()) ?? '';
  await page.getByLabel('Authentication code').fill(enrolmentCode(secret));
  await page.getByRole('button', { name: 'Verify and save' }).click();
  const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(codes).toHaveCount(10);
  await expect(page.getByRole('button', { name: 'Save as text file' })).toBeVisible();
  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Copied' })).toBeVisible();
  expect((await readClipboard(page)).split('\n')).toEqual(await codes.allTextContents());
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await chooseOwnPassword(page, oneTime, 'tom chose this one');
  await expect(page.getByLabel('Search')).toBeVisible();
});
