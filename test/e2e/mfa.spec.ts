// The second sign-in step in the UI: after the password, a code from the authenticator (here
// computed by the test from the key), or a recovery code; a wrong code is refused clearly.
import { test, expect, OWNER, PASSWORD } from './fixtures';
import { totp } from './helpers';

async function rpc(url: string, method: string, input: unknown): Promise<{ ok: boolean; value?: unknown }> {
  const { port, hash } = new URL(url);
  const response = await fetch(`http://127.0.0.1:${port}/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-crewvault-token': hash.replace('#token=', '') },
    body: JSON.stringify(input),
  });
  return (await response.json()) as { ok: boolean; value?: unknown };
}

test('sign in with a code from the app, then with a recovery code', async ({ vaultPage: page, host }) => {
  // Enrol through the same door the page uses (the profile screen comes next).
  const begun = await rpc(host.url, 'mfa.begin', {});
  const { secret } = begun.value as { secret: string };
  const enrolledAt = Date.now() - 30_000;
  const confirmed = await rpc(host.url, 'mfa.confirm', { code: totp(secret, enrolledAt) });
  expect(confirmed.ok).toBe(true);
  const { recoveryCodes } = confirmed.value as { recoveryCodes: string[] };

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
