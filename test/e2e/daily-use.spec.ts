/**
 * Daily use (issue #11), end to end in Debian's Chromium: the seconds left beside each live
 * code (and the words, not only the colour, for the last 5), the popup's large code, the
 * details pane's code shown at once where the role may see codes, the keyboard path from the
 * search box to a copied code, the username and password shortcuts and buttons, and a copy
 * line that says what was copied. Codes are checked against the test's own TOTP; the page's
 * clock is moved with Playwright's clock, never waited for.
 */
import type { Locator, Page } from '@playwright/test';
import { OWNER, PASSWORD, expect, test } from './fixtures';
import { addEntry, base32Bytes, detailsPane, entryRow, expectLiveCode, hotp, readClipboard, readShownCode, selectRow, signIn, totp, waitForMoreThan } from './helpers';
import { addUser, chooseOwnPassword, lock, submitPassword } from './mfa-helpers';
import { seriousViolations } from './axe';

const KEY = 'JBSWY3DPEHPK3PXP';
const OTHER_KEY = 'GEZDGNBVGY3TQOJQ';
const THIRD_KEY = 'MFRGGZDFMZTWQ2LK';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

/** The line the page shows after a copy. */
function copyLine(page: Page): Locator {
  return page.getByRole('status').filter({ hasText: /copied/i });
}

/** From now on, every key pressed as the page sees it is counted (read with keysPressed). */
async function countKeysPressed(page: Page): Promise<void> {
  await page.evaluate(() => {
    const counted = window as unknown as { keysPressed: number };
    counted.keysPressed = 0;
    window.addEventListener('keydown', () => { counted.keysPressed += 1; }, { capture: true });
  });
}

/** How many keys the page has seen pressed since countKeysPressed. */
async function keysPressed(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { keysPressed: number }).keysPressed);
}

/** Whether `code` is `secret`'s within a step of now (the page may have copied just before a period ended). */
function isCodeOf(secret: string, code: string): boolean {
  const now = Date.now();
  return [-1, 0, 1].some((step) => totp(secret, now, step) === code);
}

/** The seconds beside the bar inside `scope`, read with the bar in one step. */
function readSecondsLeft(scope: Locator): Promise<{ text: string; warning: string | null; barValue: string | null; colour: string; weight: string; warn: string }> {
  return scope.evaluate((element) => {
    const seconds = element.querySelector('.seconds-left');
    const bar = element.querySelector('[role="progressbar"]');
    const probe = document.createElement('span');
    probe.style.color = 'var(--warn)';
    document.body.append(probe);
    const warn = getComputedStyle(probe).color;
    probe.remove();
    return {
      text: seconds?.textContent ?? '',
      warning: seconds?.getAttribute('data-warning') ?? null,
      barValue: bar?.getAttribute('aria-valuenow') ?? null,
      colour: seconds ? getComputedStyle(seconds).color : '',
      weight: seconds ? getComputedStyle(seconds).fontWeight : '',
      warn,
    };
  });
}

test('each live code shows its seconds left; the last 5 say "only N s" in the warning colour', async ({ vaultPage: page }) => {
  // The page's clock only: the vault still computes codes on the real one.
  await page.clock.install();
  await page.reload();
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', secret: KEY });
  // Too close to the end of the real period to jump ahead of it: wait for the next one.
  await waitForMoreThan(row, 6);
  const shown = await readShownCode(row);
  const calm = await readSecondsLeft(row);
  expect(Number(calm.barValue)).toBeGreaterThan(5);
  expect(calm.text).toBe(`${calm.barValue} s left`);
  expect(calm.warning).toBe('false');
  expect(calm.colour).not.toBe(calm.warn);

  // 3 s before the end, held there while looking: the words change, not only the colour.
  await page.clock.pauseAt(shown.at + (shown.secondsLeft - 3) * 1000);
  await expect(row.locator('.seconds-left')).toHaveText(/^only [2-4] s$/);
  const ending = await readSecondsLeft(row);
  expect(ending.text).toBe(`only ${ending.barValue} s`);
  expect(ending.warning).toBe('true');
  expect(ending.colour).toBe(ending.warn);
  expect(Number(ending.weight)).toBeGreaterThan(Number(calm.weight));
});

test('the popup shows the live code large, with its seconds', async ({ vaultPage: page }) => {
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', secret: KEY });
  await expectLiveCode(row, KEY);
  await row.getByRole('button', { name: 'Open code of Firewall' }).click();
  const popup = page.getByRole('dialog', { name: 'Code for Firewall' });
  await expectLiveCode(popup, KEY);
  await expect(popup.locator('.seconds-left')).toHaveText(/^(\d+ s left|only \d s)$/);
  const size = (scope: Locator) => scope.getByLabel('One-time password').evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
  expect(await size(popup)).toBeGreaterThanOrEqual(2 * (await size(row)));
  // Still one line, however large.
  const code = popup.getByLabel('One-time password');
  expect((await code.boundingBox())?.height ?? 0).toBeLessThan((await size(popup)) * 2);
  expect(await seriousViolations(page)).toEqual([]);
});

test('the details pane and the popup count the seconds down as the list does, on the page\'s clock; the next code shows in the last 5', async ({ vaultPage: page }) => {
  // The page's clock only: the vault still computes codes on the real one.
  await page.clock.install();
  await page.reload();
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Firewall', secret: KEY });
  await selectRow(row);
  const details = detailsPane(page, 'Firewall');
  await expect(details.getByRole('button', { name: 'Reveal OTP' })).toHaveCount(0);
  // Too close to the end of the real period to move ahead within it: wait for the next one.
  await waitForMoreThan(details, 8);
  // The popup asks for its code while the page's clock still runs with the vault's.
  await row.getByRole('button', { name: 'Open code of Firewall' }).click();
  const popup = page.getByRole('dialog', { name: 'Code for Firewall' });
  await readShownCode(popup);
  const shown = await readShownCode(details);

  // Held 2 s on: about two seconds fewer than were shown (the bar was read up to a tick late),
  // in words and on the bar; the popup, which asked for its code a moment later, says the same
  // give or take the second it may have crossed meanwhile.
  await page.clock.pauseAt(shown.at + 2_000);
  const calm = await readSecondsLeft(details);
  expect(calm.text).toBe(`${calm.barValue} s left`);
  expect(Number(calm.barValue)).toBeGreaterThanOrEqual(shown.secondsLeft - 3);
  expect(Number(calm.barValue)).toBeLessThanOrEqual(shown.secondsLeft - 1);
  expect(calm.warning).toBe('false');
  const inPopup = Number(/^(\d+) s left$/.exec((await popup.locator('.seconds-left').textContent()) ?? '')?.[1]);
  expect(Math.abs(inPopup - Number(calm.barValue))).toBeLessThanOrEqual(1);
  await expect(details.getByText(/^next \d{3} \d{3}$/)).toHaveCount(0);

  // 3 s before the end: "only N s" in the warning colour, and the details give the next code.
  await page.clock.pauseAt(shown.at + (shown.secondsLeft - 3) * 1000);
  await expect(details.locator('.seconds-left')).toHaveText(/^only [2-4] s$/);
  const ending = await readSecondsLeft(details);
  expect(ending.text).toBe(`only ${ending.barValue} s`);
  expect(ending.colour).toBe(ending.warn);
  await expect(popup.locator('.seconds-left')).toHaveText(/^only [2-4] s$/);
  await expect(popup.getByRole('progressbar')).toHaveAttribute('data-warning', 'true');
  const next = totp(KEY, shown.at, 1);
  await expect(details.getByText(/^next \d{3} \d{3}$/)).toHaveText(`next ${next.slice(0, 3)} ${next.slice(3)}`);
  await popup.getByRole('button', { name: 'Close' }).click();
  await expect(popup).toBeHidden();
});

test('an HOTP entry has no countdown anywhere: its code comes on "Next code", in the list, the details and the popup', async ({ vaultPage: page }) => {
  const secret = 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ';
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add entry' });
  await dialog.getByLabel('Customer').fill('Acme Corp');
  await dialog.getByLabel('Title').fill('Bank token');
  await dialog.getByRole('radio', { name: 'otpauth URI' }).check();
  await dialog.getByRole('textbox', { name: 'otpauth URI' }).fill(`otpauth://hotp/Bank:token?secret=${secret}&counter=3&issuer=Bank`);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  const row = entryRow(page, 'Bank token');
  await expect(row.getByRole('button', { name: 'Next code' })).toBeVisible();
  await selectRow(row);
  const details = detailsPane(page, 'Bank token');
  await details.getByRole('button', { name: 'Next code' }).click();
  // The details ask once: the counter's code (3), and nothing counting down beside it.
  await expect(details.getByLabel('One-time password')).toHaveText(hotp(base32Bytes(secret), 3).replace(/^(\d{3})/, '$1 '));
  for (const scope of [row, details]) {
    await expect(scope.getByRole('progressbar')).toHaveCount(0);
    await expect(scope.locator('.seconds-left')).toHaveCount(0);
  }
  await row.getByRole('button', { name: 'Open code of Bank token' }).click();
  const popup = page.getByRole('dialog', { name: 'Code for Bank token' });
  await popup.getByRole('button', { name: 'Next code' }).click();
  await expect(popup.getByLabel('One-time password')).toHaveText(hotp(base32Bytes(secret), 4).replace(/^(\d{3})/, '$1 '));
  await expect(popup.getByRole('progressbar')).toHaveCount(0);
  await expect(popup.locator('.seconds-left')).toHaveCount(0);
});

test('the details pane shows the live code at once, where the role may see codes, and never the key unasked', async ({ vaultPage: page }) => {
  const row = await addEntry(page, { customer: 'Acme', title: 'VPN', username: 'ops', password: 'acme-vpn-pass', secret: KEY });
  await selectRow(row);
  const details = detailsPane(page, 'VPN');
  await expectLiveCode(details, KEY);
  await expect(details.getByRole('button', { name: 'Reveal OTP' })).toHaveCount(0);
  await expect(details.getByLabel('Secret key')).toHaveCount(0);

  // Codes only: the code in the details too, but no password, no key, and the shortcut copies nothing.
  const oneTime = await addUser(page, 'cody', 'codes_only');
  await lock(page);
  await submitPassword(page, 'cody', oneTime);
  await chooseOwnPassword(page, oneTime, 'cody chose this one');
  await selectRow(entryRow(page, 'VPN'));
  const seen = detailsPane(page, 'VPN');
  await expectLiveCode(seen, KEY);
  await expect(seen.getByRole('button', { name: 'Copy password' })).toHaveCount(0);
  await expect(seen.getByRole('button', { name: 'Reveal password' })).toHaveCount(0);
  await expect(seen.getByRole('button', { name: 'Show secret key' })).toHaveCount(0);
  await seen.getByRole('button', { name: 'Copy code' }).click();
  await expect(copyLine(page)).toHaveText('Code copied — clears in 30 s');
  expect(isCodeOf(KEY, await readClipboard(page)), 'the clipboard holds the code, not a password').toBe(true);

  // An auditor sees no code anywhere: neither the list nor the details ask for one.
  await lock(page);
  await signIn(page, OWNER, PASSWORD);
  const auditorOneTime = await addUser(page, 'audrey', 'auditor');
  await lock(page);
  await submitPassword(page, 'audrey', auditorOneTime);
  await chooseOwnPassword(page, auditorOneTime, 'audrey chose this one');
  const audited = entryRow(page, 'VPN');
  await selectRow(audited);
  const sealed = detailsPane(page, 'VPN');
  await expect(sealed.getByText('ops', { exact: true })).toBeVisible();
  // Drawn with the row and with the loaded details: a code, or its placeholder, would be there by now.
  await expect(audited.getByRole('button', { name: 'Open code of VPN' })).toHaveCount(0);
  await expect(sealed.getByText(/······|^\d{3} \d{3}$/)).toHaveCount(0);
  await expect(sealed.getByRole('button', { name: 'Copy code' })).toHaveCount(0);
});

test('keyboard: focus starts in the search box; a query, ArrowDown and Enter copy the first match’s code', async ({ vaultPage: page }) => {
  await expect(page.getByLabel('Search')).toBeFocused();
  await addEntry(page, { customer: 'Acme Corp', title: 'Mail admin', username: 'postmaster@acme.example', password: 'acme-mail-pass', secret: KEY });
  await addEntry(page, { customer: 'Globex', title: 'Mail admin', username: 'postmaster@globex.example', password: 'globex-mail-pass', secret: OTHER_KEY });
  await addEntry(page, { customer: 'Initech', title: 'Printer', username: 'lumbergh', secret: THIRD_KEY });
  await lock(page);
  await signIn(page, OWNER, PASSWORD);
  const search = page.getByLabel('Search');
  await expect(search).toBeFocused();

  // From the box with the query typed: ArrowDown, Enter — two keys, pressed at once after the
  // query, before the list has caught up with it.
  await page.keyboard.type('globex');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(copyLine(page)).toHaveText('Code copied — clears in 30 s');
  const copied = await readClipboard(page);
  expect(isCodeOf(OTHER_KEY, copied), 'Globex’s code, not another entry’s').toBe(true);
  expect(isCodeOf(KEY, copied) || isCodeOf(THIRD_KEY, copied)).toBe(false);
  await expect(entryRow(page, 'Mail admin', 'Globex')).toHaveAttribute('aria-current', 'true');
  await expect(detailsPane(page, 'Mail admin')).toContainText('Globex');
});

test('keyboard: keys typed before the list has arrived are not lost — the query, ArrowDown and Enter still copy the match', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Mail admin', username: 'postmaster@acme.example', secret: KEY });
  await addEntry(page, { customer: 'Globex', title: 'Mail admin', username: 'postmaster@globex.example', secret: OTHER_KEY });
  await addEntry(page, { customer: 'Initech', title: 'Printer', username: 'lumbergh', secret: THIRD_KEY });
  await lock(page);
  // The list's reply is held at the door (the vault answers it; the page gets it only when released),
  // as a slow machine or a large vault would hold it.
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => { release = resolve; });
  let held = 0;
  await page.route('**/rpc/entries.list', async (route) => {
    held += 1;
    await released;
    await route.continue();
  });
  await signIn(page, OWNER, PASSWORD);
  await expect(page.getByLabel('Search')).toBeFocused();
  await expect.poll(() => held).toBe(1);
  await page.keyboard.type('globex');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  release();
  await expect(copyLine(page)).toHaveText('Code copied — clears in 30 s');
  expect(isCodeOf(OTHER_KEY, await readClipboard(page)), 'Globex’s code').toBe(true);
  await expect(entryRow(page, 'Mail admin', 'Globex')).toHaveAttribute('aria-current', 'true');
  await page.unroute('**/rpc/entries.list');
});

test('keyboard: four keys after sign-in copy a code — two letters, ArrowDown, Enter — counted by the page', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Mail admin', username: 'postmaster@acme.example', secret: KEY });
  await addEntry(page, { customer: 'Globex', title: 'Mail admin', username: 'postmaster@globex.example', secret: OTHER_KEY });
  await addEntry(page, { customer: 'Initech', title: 'Printer', username: 'lumbergh', secret: THIRD_KEY });
  await lock(page);
  await signIn(page, OWNER, PASSWORD);
  await expect(page.getByLabel('Search')).toBeFocused();
  // Every key pressed from here on, as the page sees it.
  await countKeysPressed(page);
  for (const key of ['g', 'l', 'ArrowDown', 'Enter']) await page.keyboard.press(key);
  await expect(copyLine(page)).toHaveText('Code copied — clears in 30 s');
  expect(isCodeOf(OTHER_KEY, await readClipboard(page)), 'Globex’s code').toBe(true);
  expect(await keysPressed(page)).toBeLessThanOrEqual(4);
});

test('keyboard: back from a lock with a search kept, the same four keys copy a code — the kept text is selected, not added to', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Mail admin', username: 'postmaster@acme.example', secret: KEY });
  await addEntry(page, { customer: 'Globex', title: 'Mail admin', username: 'postmaster@globex.example', secret: OTHER_KEY });
  await addEntry(page, { customer: 'Initech', title: 'Printer', username: 'lumbergh', secret: THIRD_KEY });
  const search = page.getByLabel('Search');
  await search.fill('printer');
  await selectRow(entryRow(page, 'Printer'));
  await lock(page);
  await signIn(page, OWNER, PASSWORD);
  // Where the person was: the search kept, and in the box with the focus, selected.
  await expect(search).toHaveValue('printer');
  await expect(search).toBeFocused();
  await expect(entryRow(page, 'Printer')).toHaveAttribute('aria-current', 'true');
  expect(await search.evaluate((box: HTMLInputElement) => [box.selectionStart, box.selectionEnd])).toEqual([0, 'printer'.length]);
  await countKeysPressed(page);
  for (const key of ['g', 'l', 'ArrowDown', 'Enter']) await page.keyboard.press(key);
  await expect(copyLine(page)).toHaveText('Code copied — clears in 30 s');
  expect(isCodeOf(OTHER_KEY, await readClipboard(page)), 'Globex’s code').toBe(true);
  await expect(search).toHaveValue('gl');
  expect(await keysPressed(page)).toBeLessThanOrEqual(4);
});

test('keyboard: arrows move the selection, ArrowUp from the top goes back to the search box; the selected row stands out', async ({ vaultPage: page }) => {
  await addEntry(page, { customer: 'Acme Corp', title: 'Mail admin', username: 'postmaster@acme.example', secret: KEY });
  await addEntry(page, { customer: 'Globex', title: 'Mail admin', username: 'postmaster@globex.example', secret: OTHER_KEY });
  await addEntry(page, { customer: 'Initech', title: 'Printer', username: 'lumbergh' });
  const rows = page.getByRole('list', { name: 'Entries' }).getByRole('listitem');
  const search = page.getByLabel('Search');
  await search.fill('mail');
  await expect(rows).toHaveCount(2);

  await search.press('ArrowDown');
  await expect(rows.nth(0)).toHaveAttribute('aria-current', 'true');
  await expect(page.getByRole('list', { name: 'Entries' })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toHaveAttribute('aria-current', 'true');
  await expect(rows.nth(0)).not.toHaveAttribute('aria-current', 'true');
  await expect(rows.nth(1)).toContainText('Globex');
  await expect(detailsPane(page, 'Mail admin')).toContainText('postmaster@globex.example');

  // More than a tint: an accent edge, and a ring while the list has focus.
  const look = (row: Locator) => row.evaluate((element) => {
    const style = getComputedStyle(element);
    return { shadow: style.boxShadow, outline: style.outlineStyle, background: style.backgroundColor };
  });
  const selected = await look(rows.nth(1));
  const other = await look(rows.nth(0));
  expect(selected.shadow).not.toBe('none');
  expect(other.shadow).toBe('none');
  expect(selected.outline).toBe('solid');
  expect(other.outline).toBe('none');
  expect(selected.background).not.toBe(other.background);

  await page.keyboard.press('ArrowUp');
  await expect(rows.nth(0)).toHaveAttribute('aria-current', 'true');
  await page.keyboard.press('ArrowUp');
  await expect(search).toBeFocused();
  // Typing there narrows again, and ArrowDown picks the new first match.
  await page.keyboard.press('Control+a');
  await page.keyboard.type('lumb');
  await page.keyboard.press('ArrowDown');
  await expect(entryRow(page, 'Printer')).toHaveAttribute('aria-current', 'true');
});

test('username and password: copy buttons and Ctrl+Shift+U / +P, each line saying what was copied', async ({ vaultPage: page }) => {
  const password = 'S3cret-for-the-test!';
  const row = await addEntry(page, { customer: 'Acme Corp', title: 'Domain admin', username: 'acme\\admin', password, secret: KEY });
  await selectRow(row);
  const details = detailsPane(page, 'Domain admin');

  const copyUsername = details.getByRole('button', { name: 'Copy username' });
  const copyPassword = details.getByRole('button', { name: 'Copy password' });
  await expect(copyUsername).toHaveAttribute('title', 'Ctrl+Shift+U');
  await expect(copyUsername).toHaveAttribute('aria-keyshortcuts', /Control\+Shift\+U/);
  await expect(copyPassword).toHaveAttribute('title', 'Ctrl+Shift+P');
  await expect(copyPassword).toHaveAttribute('aria-keyshortcuts', /Control\+Shift\+P/);

  await copyUsername.click();
  await expect(copyLine(page)).toHaveText('Username copied — clears in 30 s');
  expect(await readClipboard(page)).toBe('acme\\admin');
  await copyPassword.click();
  await expect(copyLine(page)).toHaveText('Password copied — clears in 30 s');
  expect(await readClipboard(page)).toBe(password);
  await details.getByRole('button', { name: 'Copy code' }).click();
  await expect(copyLine(page)).toHaveText('Code copied — clears in 30 s');
  expect(isCodeOf(KEY, await readClipboard(page))).toBe(true);

  // The shortcuts, from the list as a person arrives there from the search box.
  await page.getByRole('list', { name: 'Entries' }).focus();
  await page.keyboard.press('Control+Shift+U');
  await expect(copyLine(page)).toHaveText('Username copied — clears in 30 s');
  expect(await readClipboard(page)).toBe('acme\\admin');
  await page.keyboard.press('Control+Shift+P');
  await expect(copyLine(page)).toHaveText('Password copied — clears in 30 s');
  expect(await readClipboard(page)).toBe(password);

  // No username, no button and no copy.
  const bare = await addEntry(page, { customer: 'Acme Corp', title: 'Door code' });
  await selectRow(bare);
  await expect(detailsPane(page, 'Door code').getByRole('button', { name: 'Copy username' })).toHaveCount(0);
});

test('a call that finds the vault locked, on any screen, goes back to sign-in with the reason', async ({ vaultPage: page, host }) => {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  // Locked behind the page's back (the idle lock, another window of the same session).
  const locked = await page.request.post(`${host.origin}/rpc/session.lock`, { data: {} });
  expect(await locked.json()).toMatchObject({ ok: true });
  await page.getByLabel('New group').fill('Acme team');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('The vault is locked: sign in again.');
  // The name is kept; signing in again goes back to the screen the call was made on.
  await expect(page.getByLabel('Username')).toHaveValue(OWNER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('New group')).toBeVisible();
});

test('an entry\'s http(s) URL has "Open", which opens it in a new tab that cannot reach back; another scheme has no button', async ({ vaultPage: page }) => {
  // The browser host has no shell.openExternal: the router checks the stored address and hands
  // it back for the page to open. The address is answered here, never fetched from the network.
  await page.context().route('https://portal.acme.example/**', (route) => route.fulfill({ contentType: 'text/html', body: '<title>Acme portal</title>portal' }));
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Customer').fill('Acme');
  await dialog.getByLabel('Title').fill('Portal');
  await dialog.getByLabel('URL').fill('https://portal.acme.example/login');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'Portal', 'Acme'));
  const details = detailsPane(page, 'Portal');
  const open = details.getByRole('button', { name: 'Open https://portal.acme.example/login' });
  await expect(open).toHaveAttribute('title', 'Opens in your web browser');
  expect(await seriousViolations(page)).toEqual([]);
  const [popup] = await Promise.all([page.waitForEvent('popup'), open.click()]);
  await popup.waitForLoadState();
  expect(popup.url()).toBe('https://portal.acme.example/login');
  expect(await popup.evaluate(() => window.opener === null)).toBe(true);
  await popup.close();

  await page.getByRole('button', { name: 'Add entry' }).first().click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Customer').fill('Acme');
  await dialog.getByLabel('Title').fill('File share');
  await dialog.getByLabel('URL').fill('smb://files.acme.example/share');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await selectRow(entryRow(page, 'File share', 'Acme'));
  const share = detailsPane(page, 'File share');
  await expect(share.getByText('smb://files.acme.example/share')).toBeVisible();
  await expect(share.getByRole('button', { name: /^Open/ })).toHaveCount(0);
});
