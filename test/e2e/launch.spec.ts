// The browser host's sign-on, in a real browser: the launch link's code is traded at the first
// load for an HttpOnly session cookie and leaves the address bar; any other browser that opens
// the same link afterwards is refused, and a page without the cookie gets nothing from /rpc.
import { expect, OWNER, PASSWORD, test } from './fixtures';

test('the launch link works once: the first browser gets an HttpOnly session, the next is refused', async ({ page, host, browser }) => {
  await page.goto(host.url);
  await expect(page).toHaveURL(`${host.origin}/`);
  await expect(page.getByRole('button', { name: 'Create vault' })).toBeVisible();

  const cookies = await page.context().cookies();
  const port = new URL(host.url).port;
  expect(cookies.map(({ name, httpOnly, sameSite, path, secure }) => ({ name, httpOnly, sameSite, path, secure })))
    .toEqual([{ name: `crewvault-${port}`, httpOnly: true, sameSite: 'Strict', path: '/', secure: false }]);
  expect(host.url).not.toContain(cookies[0]?.value ?? '');
  // Nothing a script on the page could take: the cookie is HttpOnly, and no token is kept.
  expect(await page.evaluate(() => ({ cookie: document.cookie, session: sessionStorage.length, local: localStorage.length })))
    .toEqual({ cookie: '', session: 0, local: 0 });

  const other = await browser.newContext();
  try {
    const late = await other.newPage();
    const refused = await late.goto(host.url);
    expect(refused?.status()).toBe(401);
    await expect(late.getByRole('heading', { name: 'Crewvault did not open' })).toBeVisible();
    await expect(late.getByText('This launch link was already used')).toBeVisible();
    // The app itself loads without the cookie, but the vault does not answer it.
    await late.goto(host.origin);
    await expect(late.getByRole('alert')).toContainText('This page has no Crewvault session');
  } finally {
    await other.close();
  }

  // The first browser keeps its session: a reload, and a closed tab opened again at `/`.
  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Search')).toBeVisible();
  const again = await page.context().newPage();
  await page.close();
  await again.goto(host.origin);
  await expect(again.getByLabel('Search')).toBeVisible();
});
