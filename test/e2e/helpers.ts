/**
 * What the UI tests check the page against, computed here and never by the app: an RFC 6238
 * TOTP written out over node:crypto (test/support/totp.ts, so a bug shared by the app's OTP
 * engine and otplib cannot hide), the images fed to "QR image", and the few page steps every
 * spec repeats.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { expect, type Locator, type Page } from '@playwright/test';

import { totp } from '../support/totp';

export { base32Bytes, hotp, totp } from '../support/totp';

/** What a code element and its countdown bar showed, and when (the page's clock). */
export interface ShownCode {
  readonly code: string;
  readonly secondsLeft: number;
  readonly period: number;
  readonly at: number;
}

/** Reads the code and the bar inside `scope` in one step, so the clock matches what was read. */
export async function readShownCode(scope: Locator): Promise<ShownCode> {
  await expect(scope.getByLabel('One-time password')).toHaveText(/^\d{3} \d{3}$/);
  return readShownCodeNow(scope);
}

/**
 * Waits until the code inside `scope` has more than `seconds` left. At worst that is the rest of
 * a period first shown with `seconds` left, then the page's re-ask and its next tick: a timeout of
 * `seconds` alone ran out just as the new period began (the countdown last read "only 1 s"),
 * about one CI run in twelve.
 */
export async function waitForMoreThan(scope: Locator, seconds: number): Promise<void> {
  await expect.poll(async () => (await readShownCode(scope)).secondsLeft, { timeout: (seconds + 5) * 1000 }).toBeGreaterThan(seconds);
}

/** `readShownCode` without waiting for a code to appear (an empty code when none is shown yet). */
function readShownCodeNow(scope: Locator): Promise<ShownCode> {
  return scope.evaluate((element) => {
    const output = element.querySelector('output[aria-label="One-time password"]');
    const bar = element.querySelector('[role="progressbar"]');
    return {
      code: (output?.textContent ?? '').replace(/\s/g, ''),
      secondsLeft: Number(bar?.getAttribute('aria-valuenow')),
      period: Number(bar?.getAttribute('aria-valuemax')),
      at: Date.now(),
    };
  });
}

/**
 * Checks the code inside `scope` is the TOTP of `secret` right now. The page re-asks at the
 * period boundary, so in the first second and a half of a period it may still show the
 * previous code; only then is the previous step accepted (and the next one only in the last
 * half second, for clock rounding). The countdown bar must agree with the clock too.
 */
export async function expectLiveCode(scope: Locator, secret: string): Promise<void> {
  const shown = await readShownCode(scope);
  expect(shown.period).toBe(30);
  const intoPeriod = shown.at % 30_000;
  const accepted = [totp(secret, shown.at)];
  if (intoPeriod < 1_500) accepted.push(totp(secret, shown.at, -1));
  if (intoPeriod > 29_500) accepted.push(totp(secret, shown.at, 1));
  expect(accepted, `code shown ${shown.code} at ${new Date(shown.at).toISOString()}`).toContain(shown.code);
  // Whole seconds left: ceil of what remains, give or take the boundary second.
  const expectedLeft = Math.ceil((30_000 - intoPeriod) / 1000);
  const drift = Math.min(Math.abs(shown.secondsLeft - expectedLeft), Math.abs(shown.secondsLeft - expectedLeft + 30), Math.abs(shown.secondsLeft - expectedLeft - 30));
  expect(drift, `bar showed ${shown.secondsLeft} s left, the clock says ${expectedLeft}`).toBeLessThanOrEqual(1);
}

/**
 * Waits until the code inside `scope` is one of `secret`'s, within a step of the test's own
 * clock: for pages whose clock the test holds still, where only a fresh fetch changes a code.
 */
export async function expectCodeOfKey(scope: Locator, secret: string): Promise<void> {
  await expect.poll(() => codeOfKey(scope, secret), { timeout: 5_000 }).toBe('the key’s code');
}

/**
 * Like `expectCodeOfKey` for a page whose clock is held, letting `stepMs` of it pass before
 * each look, at most `looks` times. A list row asks for its code only after it has been in
 * view for a moment (a page timer), and is re-drawn only once a list reload answers, so one
 * fixed step could run before the row exists; and a look must not wait for a code to appear,
 * since with the clock held none appears until the next step.
 */
export async function expectCodeOfKeyAdvancing(scope: Locator, secret: string, stepMs: number, looks: number): Promise<void> {
  let seen = '';
  for (let look = 0; look < looks; look++) {
    await scope.page().clock.runFor(stepMs);
    seen = await codeOfKey(scope, secret, false);
    if (seen === 'the key’s code') return;
  }
  expect(seen, `after ${looks * stepMs} ms of the held clock`).toBe('the key’s code');
}

async function codeOfKey(scope: Locator, secret: string, wait = true): Promise<string> {
  const { code } = await (wait ? readShownCode(scope) : readShownCodeNow(scope));
  const now = Date.now();
  return [-1, 0, 1].some((step) => totp(secret, now, step) === code) ? 'the key’s code' : `${code}, not the key’s code`;
}

/**
 * A page time to hold the clock at: just ahead of `now`, or, when `now` is within `marginMs`
 * of a period's end, a second into the next period, so the held clock has `marginMs` to run.
 */
export function holdPoint(now: number, marginMs: number, periodMs = 30_000): number {
  const at = now + 100;
  const left = periodMs - (at % periodMs);
  return left >= marginMs ? at : at + left + 1_000;
}

/** A QR code PNG holding `text`, made by Debian's qrencode (a decoder independent of the app). */
export function writeQrPng(file: string, text: string): void {
  execFileSync('qrencode', ['-o', file, '-s', '6', text]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid, plain grey PNG (no QR code in it), written from bytes. */
export function writePlainPng(file: string, size = 64): void {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(0, 9); // greyscale
  const rows = Buffer.alloc(size * (size + 1), 0xc0);
  for (let y = 0; y < size; y++) rows[y * (size + 1)] = 0; // filter byte: none
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  writeFileSync(file, Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]));
}

export interface NewEntry {
  readonly customer: string;
  readonly title: string;
  readonly username?: string;
  readonly password?: string;
  readonly secret?: string;
}

export function addEntryDialog(page: Page): Locator {
  return page.getByRole('dialog', { name: 'Add entry' });
}

/** Adds an entry through the "Add entry" dialog and waits for its row. */
export async function addEntry(page: Page, entry: NewEntry): Promise<Locator> {
  await page.getByRole('button', { name: 'Add entry' }).first().click();
  const dialog = addEntryDialog(page);
  await dialog.getByLabel('Customer').fill(entry.customer);
  await dialog.getByLabel('Title').fill(entry.title);
  if (entry.username) await dialog.getByLabel('Username').fill(entry.username);
  if (entry.password) await dialog.getByLabel('Password', { exact: true }).fill(entry.password);
  if (entry.secret) {
    await dialog.getByRole('radio', { name: 'Secret key' }).check();
    await dialog.getByRole('textbox', { name: 'Secret key' }).fill(entry.secret);
  }
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  const row = entryRow(page, entry.title, entry.customer);
  await expect(row).toBeVisible();
  return row;
}

/** The list row of the entry titled `title` (of `customer`, when titles repeat). */
export function entryRow(page: Page, title: string, customer?: string): Locator {
  const rows = page.getByRole('list', { name: 'Entries' }).getByRole('listitem').filter({ has: page.getByText(title, { exact: true }) });
  return customer === undefined ? rows : rows.filter({ hasText: customer });
}

/**
 * Selects a row by clicking its title: the code, its bar and its buttons take clicks for
 * themselves (copy, open), so a click in the middle of an OTP row does not select it.
 */
export async function selectRow(row: Locator): Promise<void> {
  await row.locator('.entry-title').click();
  await expect(row).toHaveAttribute('aria-current', 'true');
}

/** The details pane of the entry titled `title`. */
export function detailsPane(page: Page, title: string): Locator {
  return page.getByRole('region', { name: `Details of ${title}` });
}

/** Signs in on the sign-in screen (after a lock). */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
}

/** Opens the Team server screen from the account menu. */
export async function openTeamServer(page: Page): Promise<void> {
  await page.getByRole('button', { name: /^Account: / }).click();
  await page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: 'Team server' }).click();
}

/** Signs `user` in to the team server at `url` from the Team server screen (no second step), which turns live sync on. */
export async function signInToTeamServer(page: Page, url: string, user: string, password: string): Promise<void> {
  await openTeamServer(page);
  await page.getByLabel('Server address').fill(url);
  await page.getByLabel('Your name on the server').fill(user);
  await page.getByLabel('Server password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `Signed in to ${url}; live sync is on.` })).toBeVisible();
}

/** The text on the clipboard, read the way a page reads it. */
export function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Opens the account menu (the signed-in person's name in the top bar) and picks `action` there. */
export async function accountAction(page: Page, action: 'Two-step sign-in' | 'Change password'): Promise<void> {
  await page.getByRole('button', { name: /^Account: / }).click();
  await page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: action }).click();
}
