// Two-step sign-in in the UI: enrolling from the key shown on screen (the test computes the
// codes itself), then signing in with a code and with a recovery code; wrong codes refused.
import { test, expect, OWNER, PASSWORD } from './fixtures';
import { totp } from './helpers';

test('enrol from the key shown on screen, then sign in with a code and with a recovery code', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Two-step sign-in' }).click();
  const panel = page.getByRole('dialog', { name: 'Two-step sign-in' });
  await expect(panel.getByText('Off.')).toBeVisible();
  await panel.getByRole('button', { name: 'Set up authenticator app' }).click();
  await expect(panel.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const secret = (await panel.getByLabel('Secret key').textContent()) ?? '';
  expect(secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  await panel.getByLabel('Code from the app').fill('000000');
  await panel.getByRole('button', { name: 'Verify and save' }).click();
  await expect(panel.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  // The step before now is within the window, and leaves the current step for signing in.
  await panel.getByLabel('Code from the app').fill(totp(secret, Date.now() - 30_000));
  await panel.getByRole('button', { name: 'Verify and save' }).click();
  const list = panel.getByRole('list', { name: 'Recovery codes' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  const recoveryCodes = await list.getByRole('listitem').allTextContents();
  await expect(panel.getByText('On — 10 recovery codes left.')).toBeVisible();
  await panel.getByRole('button', { name: 'Close' }).click();

  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await page.getByLabel('Authentication code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  await page.getByLabel('Authentication code').fill(totp(secret, Date.now()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();

  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('radio', { name: 'Use a recovery code' }).check();
  await page.getByRole('textbox', { name: 'Recovery code' }).fill(recoveryCodes[0] ?? '');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
});
