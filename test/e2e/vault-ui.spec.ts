/**
 * The vault UI end to end in Debian's Chromium, each test against its own `crewvault serve`
 * on a fresh vault: sign in, add (typed key, otpauth URI, QR image), the live code checked
 * against an independent TOTP, reveal, copy, edit, delete, search, lock. Screenshots of the
 * main screens land in test-results/screenshots/ (an artifact, never committed).
 */
import { writeFileSync } from 'node:fs';
import { OWNER, PASSWORD, expect, test } from './fixtures';
import { addEntry, addEntryDialog, detailsPane, entryRow, expectCodeOfKey, expectCodeOfKeyAdvancing, expectLiveCode, holdPoint, hotp, readClipboard, readShownCode, selectRow, signIn, totp, waitForMoreThan, writePlainPng, writeQrPng } from './helpers';
import { buildMigrationUri } from '../../shared/otp';

const SHOTS = 'test-results/screenshots';
const KEY = 'jbsw y3dp ehpk 3pxp';
const OTHER_KEY = 'gezd gnbv gy3t qojq';
const GITHUB_URI = 'otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP&issuer=GitHub';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('the test’s own TOTP agrees with RFC 4226 and RFC 6238', () => {
  const rfcKey = Buffer.from('12345678901234567890');
  expect(hotp(rfcKey, 0)).toBe('755224');
  expect(hotp(rfcKey, 9)).toBe('520489');
  expect(hotp(rfcKey, 1, 8)).toBe('94287082'); // RFC 6238, T = 59 s
  expect(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1_111_111_109_000)).toBe('081804'); // RFC 6238 T = 1111111109, last 6 digits of 07081804
});

test('sign in: create, lock, a wrong password is refused with the username kept, the right one gets back in', async ({ page, host }) => {
  await page.goto(host.url);
  await expect(page.getByRole('button', { name: 'Create vault' })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/create-vault.png` });
  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
  await expect(page.getByText('No entries yet.')).toBeVisible();

  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/sign-in.png` });

  await page.getByLabel('Username').fill(OWNER);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  await expect(page.getByLabel('Username')).toHaveValue(OWNER);
  await expect(page.getByLabel('Password', { exact: true })).toHaveValue('not the password');
  await expect(page.getByLabel('Search')).toHaveCount(0);

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
});

test('a typed secret key gives the code an independent TOTP gives, with the countdown', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('Microsoft 365 admin');
  await dialog.getByLabel('Username').fill('admin@acme.example');
  await dialog.getByRole('radio', { name: 'Secret key' }).check();
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill(KEY);
  await expect(dialog.getByText('JBSW Y3DP EHPK 3PXP')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/add-entry.png` });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();

  const row = entryRow(page, 'Microsoft 365 admin');
  await expect(row).toContainText('Acme Corp · admin@acme.example');
  await expectLiveCode(row, KEY);
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuemax', '30');
  await expect(page.getByRole('navigation', { name: 'Customers' }).getByRole('button', { name: /Acme Corp/ })).toContainText('1');
  await page.screenshot({ path: `${SHOTS}/vault.png` });

  // The details pane shows the same live code, as the list does, without a further click.
  await selectRow(row);
  const details = detailsPane(page, 'Microsoft 365 admin');
  await expect(details).toContainText('TOTP · SHA1 · 6 digits · 30 s');
  await expectLiveCode(details, KEY);
  await details.getByRole('button', { name: 'Show secret key' }).click();
  await expect(details.getByLabel('Secret key')).toHaveText('JBSW Y3DP EHPK 3PXP');
  await page.screenshot({ path: `${SHOTS}/details.png` });
});

test('the last 5 s of a period: the bar turns to the warning colour and the details show the next code', async ({ vaultPage: page }) => {
  // The page's clock only: the vault still computes codes on the real one, so jumping the
  // page ahead shows what a person sees near the end of a period without waiting for it.
  await page.clock.install();
  await page.reload();
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', secret: KEY });
  await selectRow(row);
  const details = detailsPane(page, 'Firewall');
  // Too close to the end of the real period to jump ahead of it: wait for the next one.
  await waitForMoreThan(details, 5);
  const shown = await readShownCode(details);
  const step = [-1, 0, 1].map((d) => Math.floor(shown.at / 30_000) + d).find((s) => totp(KEY, s * 30_000) === shown.code);
  expect(step, `code shown ${shown.code}`).toBeDefined();
  const bar = details.getByRole('progressbar');
  await expect(bar).toHaveAttribute('data-warning', 'false');
  await expect(details.getByText(/^next /)).toHaveCount(0);

  // Jump to 3 s before the end and hold the page's clock there while looking.
  await page.clock.pauseAt(shown.at + (shown.secondsLeft - 3) * 1000);
  await expect(bar).toHaveAttribute('data-warning', 'true');
  expect(Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(2);
  expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThanOrEqual(4);
  const next = totp(KEY, ((step ?? 0) + 1) * 30_000);
  await expect(details.getByText(/^next /)).toHaveText(`next ${next.slice(0, 3)} ${next.slice(3)}`);
  await expect(details.getByLabel('One-time password')).toHaveText(`${shown.code.slice(0, 3)} ${shown.code.slice(3)}`);
  const fillColour = await bar.evaluate((element) => {
    const fill = element.firstElementChild;
    const probe = document.createElement('span');
    probe.style.color = 'var(--warn)';
    document.body.append(probe);
    const warn = getComputedStyle(probe).color;
    probe.remove();
    return { fill: fill ? getComputedStyle(fill).backgroundColor : '', warn };
  });
  expect(fillColour.fill).toBe(fillColour.warn);
  // "123 456" reads as one code: never broken over two lines, even beside the next code.
  const code = details.getByLabel('One-time password');
  const fontSize = await code.evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
  expect((await code.boundingBox())?.height ?? 0).toBeLessThan(fontSize * 2);
  await page.screenshot({ path: `${SHOTS}/details-last-seconds.png` });
});

test('an otpauth URI fills customer, title and username, and gives the right code', async ({ vaultPage: page }) => {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByRole('radio', { name: 'otpauth URI' }).check();
  const uriBox = dialog.getByRole('textbox', { name: 'otpauth URI' });
  await uriBox.fill(GITHUB_URI);
  await uriBox.blur();
  await expect(dialog.getByLabel('Customer')).toHaveValue('GitHub');
  await expect(dialog.getByLabel('Title')).toHaveValue('GitHub');
  await expect(dialog.getByLabel('Username')).toHaveValue('octocat');
  // The URI stays where it was pasted, still editable.
  await expect(dialog.getByRole('radio', { name: 'otpauth URI' })).toBeChecked();
  await expect(uriBox).toHaveValue(GITHUB_URI);
  await expect(dialog.getByRole('status')).toHaveText('TOTP · SHA1 · 6 digits · 30 s · GitHub');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();

  const row = entryRow(page, 'GitHub');
  await expect(row).toContainText('GitHub · octocat');
  await expectLiveCode(row, 'JBSWY3DPEHPK3PXP');
});

test('a QR image made by qrencode adds the entry; images without one are refused clearly', async ({ vaultPage: page }, testInfo) => {
  const qr = testInfo.outputPath('github.png');
  const plain = testInfo.outputPath('plain.png');
  const text = testInfo.outputPath('notes.txt');
  writeQrPng(qr, GITHUB_URI);
  writePlainPng(plain);
  writeFileSync(text, 'not an image\n');

  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByRole('radio', { name: 'QR image' }).check();
  const file = dialog.getByLabel('QR image', { exact: true }).and(dialog.locator('input[type="file"]'));

  await file.setInputFiles(plain);
  await expect(dialog.getByRole('alert').filter({ hasText: 'QR' })).toHaveText('No QR code found in this image');
  await file.setInputFiles(text);
  await expect(dialog.getByText('That is not an image.')).toBeVisible();

  await file.setInputFiles(qr);
  await expect(dialog.getByLabel('Customer')).toHaveValue('GitHub');
  await expect(dialog.getByLabel('Title')).toHaveValue('GitHub');
  await expect(dialog.getByLabel('Username')).toHaveValue('octocat');
  await expect(dialog.getByText('Read from the image.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expectLiveCode(entryRow(page, 'GitHub'), 'JBSWY3DPEHPK3PXP');
});

test('a bad character is named with its position and hint, and Save does nothing', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'VPN', secret: KEY });
  const options = page.getByRole('list', { name: 'Entries' }).getByRole('listitem');
  await expect(options).toHaveCount(1);

  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('Firewall');
  await dialog.getByRole('radio', { name: 'Secret key' }).check();
  const keyBox = dialog.getByRole('textbox', { name: 'Secret key' });
  await keyBox.fill('jbsw y3dp ehpk 3pxo0');
  const problem = 'Secret key has "0" at position 20 (did you mean the letter O?)';
  // Said once, under the field, as the person types.
  await expect(dialog.getByRole('alert')).toHaveText(problem + '; a secret key uses only the letters A–Z and the digits 2–7.');
  await expect(keyBox).toHaveAttribute('aria-invalid', 'true');

  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeVisible();
  // Said once still, under its field, which has the focus.
  await expect(dialog.getByRole('alert')).toHaveCount(1);
  await expect(dialog.getByRole('alert')).toContainText(problem);
  await expect(keyBox).toBeFocused();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(options).toHaveCount(1);
  await expect(entryRow(page, 'Firewall')).toHaveCount(0);
});

test('reveal the password; copy the code and the password to the clipboard', async ({ vaultPage: page }) => {
  const password = 'S3cret-for-the-test!';
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Domain admin', username: 'acme\\admin', password, secret: KEY });

  await selectRow(row);
  const details = detailsPane(page, 'Domain admin');
  await expect(details.getByText('••••••••')).toBeVisible();
  await details.getByRole('button', { name: 'Reveal password' }).click();
  // Exact: the live code beside it is labelled "One-time password".
  await expect(details.getByLabel('Password', { exact: true })).toHaveText(password);
  await details.getByRole('button', { name: 'Hide password' }).click();
  await expect(details.getByLabel('Password', { exact: true })).toHaveCount(0);

  // The code as shown before and after the copy: the clipboard holds one of them, digits only.
  const before = await readShownCode(row);
  await row.getByRole('button', { name: 'Copy code' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Copied' })).toHaveText('Code copied — clears in 30 s');
  const after = await readShownCode(row);
  const copied = await readClipboard(page);
  expect(copied).toMatch(/^\d{6}$/);
  expect([before.code, after.code]).toContain(copied);

  await details.getByRole('button', { name: 'Copy password' }).click();
  await expect.poll(() => readClipboard(page)).toBe(password);
  await expect(page.getByRole('status').filter({ hasText: 'Copied' })).toHaveText('Password copied — clears in 30 s');
});

test('editing the secret key changes the code to the new key’s at once', async ({ vaultPage: page }) => {
  await page.clock.install();
  await page.reload();
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Backup portal', username: 'ops', secret: KEY });
  await expectLiveCode(row, KEY);
  // Hold the page's clock with at least 10 s of its period left: from here on no period ends
  // in the page, so only a fetch the edit itself causes can change the code shown.
  await page.clock.pauseAt(holdPoint(await page.evaluate(() => Date.now()), 10_000));

  await selectRow(row);
  await detailsPane(page, 'Backup portal').getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit entry' });
  await expect(dialog.getByRole('radio', { name: 'Keep current' })).toBeChecked();
  await expect(dialog.getByLabel('Username')).toHaveValue('ops');
  await dialog.getByRole('radio', { name: 'Secret key' }).check();
  await dialog.getByRole('textbox', { name: 'Secret key' }).fill(OTHER_KEY);
  await dialog.getByRole('button', { name: 'Save' }).click();
  // The old key cannot be recovered: asked first.
  await page.getByRole('dialog', { name: 'Replace the OTP key of Backup portal (Acme Corp)?' }).getByRole('button', { name: 'Replace key and save' }).click();
  await expect(dialog).toBeHidden();
  // A list row asks for its code after 150 ms in view (so rows scrolled past never ask): let
  // the held clock run 50 ms per look, at most 2 s of it, well inside the 10 s kept above.
  // Both the list row and the re-read details show the new key's code, without waiting for the period to end.
  await expectCodeOfKeyAdvancing(row, OTHER_KEY, 50, 40);
  const details = detailsPane(page, 'Backup portal');
  await expectCodeOfKey(details, OTHER_KEY);
  await details.getByRole('button', { name: 'Show secret key' }).click();
  await expect(details.getByLabel('Secret key')).toHaveText('GEZD GNBV GY3T QOJQ');
});

test('delete asks first; "Delete permanently" removes the entry', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Old router', secret: KEY });
  const keep = await addEntry(page, { customer: 'Acme Corp', title: 'New router' });
  const row = entryRow(page, 'Old router');
  await selectRow(row);
  await detailsPane(page, 'Old router').getByRole('button', { name: 'Delete' }).click();

  const confirm = page.getByRole('dialog', { name: 'Delete Old router of Acme Corp?' });
  await expect(confirm).toContainText('cannot be recovered');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toBeVisible();

  await detailsPane(page, 'Old router').getByRole('button', { name: 'Delete' }).click();
  await confirm.getByRole('button', { name: 'Delete permanently' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toHaveCount(0);
  await expect(keep).toBeVisible();
  await expect(page.getByText('Select an entry to see its details.')).toBeVisible();

  // Still gone after the list is read again from the vault.
  await page.reload();
  await expect(page.getByLabel('Search')).toBeVisible();
  await expect(entryRow(page, 'New router')).toBeVisible();
  await expect(entryRow(page, 'Old router')).toHaveCount(0);
});

test('search filters as you type across usernames, and clearing restores the list', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Mail admin', username: 'postmaster@acme.example' });
  await addEntry(page, { customer: 'Globex', title: 'Mail admin', username: 'postmaster@globex.example' });
  await addEntry(page, { customer: 'Initech', title: 'Printer', username: 'lumbergh' });
  const options = page.getByRole('list', { name: 'Entries' }).getByRole('listitem');
  await expect(options).toHaveCount(3);

  await page.getByRole('list', { name: 'Entries' }).focus();
  await page.keyboard.press('Control+f');
  const search = page.getByLabel('Search');
  await expect(search).toBeFocused();
  await page.keyboard.type('lumb');
  await expect(options).toHaveCount(1);
  await expect(options.first()).toContainText('Printer');

  await search.fill('globex.ex');
  await expect(options).toHaveCount(1);
  await expect(options.first()).toContainText('Globex · postmaster@globex.example');

  await search.fill('postmaster');
  await expect(options).toHaveCount(2);

  await search.fill('nobody-has-this');
  await expect(options).toHaveCount(0);
  await expect(page.getByText('No entries match “nobody-has-this”.')).toBeVisible();

  await search.fill('');
  await expect(options).toHaveCount(3);
});

test('lock with Ctrl+L and with the Lock button; signing in again restores the vault', async ({ vaultPage: page, host }) => {
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Switch', secret: KEY });
  await selectRow(row);
  await expect(detailsPane(page, 'Switch')).toBeVisible();

  await page.keyboard.press('Control+l');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Entries' })).toHaveCount(0);
  await expect(page.getByText('Switch')).toHaveCount(0);
  await signIn(page, OWNER, PASSWORD);
  await expectLiveCode(entryRow(page, 'Switch'), KEY);

  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Entries' })).toHaveCount(0);
  // A locked vault refuses the API too, not just the screen (the page's session cookie rides along).
  const reply = await page.request.post(`${host.origin}/rpc/entries.list`, { data: {} });
  expect(await reply.json()).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await signIn(page, OWNER, PASSWORD);
  await expect(entryRow(page, 'Switch')).toBeVisible();
});

test('a Google Authenticator export QR becomes several entries, confirmed first', async ({ vaultPage: page }, testInfo) => {
  const qr = testInfo.outputPath('export.png');
  writeQrPng(qr, buildMigrationUri([
    { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'GitHub', account: 'octocat' },
    { params: { kind: 'totp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'Fastmail', account: 'me@example.com' },
    { params: { kind: 'hotp', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA1', digits: 6, period: 30, counter: 3 }, issuer: 'Bank', account: 'token' },
  ]));
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByRole('radio', { name: 'QR image' }).check();
  await dialog.getByLabel('QR image', { exact: true }).and(dialog.locator('input[type="file"]')).setInputFiles(qr);
  await expect(dialog.getByText('Google Authenticator export: 3 entries')).toBeVisible();
  await dialog.getByRole('checkbox', { name: /Bank/ }).uncheck();
  await dialog.getByRole('button', { name: 'Add 2 entries' }).click();
  await expect(dialog).toBeHidden();
  await expectLiveCode(entryRow(page, 'GitHub'), 'JBSWY3DPEHPK3PXP');
  await expectLiveCode(entryRow(page, 'Fastmail'), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  await expect(entryRow(page, 'Bank')).toHaveCount(0);
});
