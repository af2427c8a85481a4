/**
 * Each test gets its own `crewvault serve` (the real CLI, the real router, a real vault file
 * in a temp folder) and a page opened at the one-time launch URL it printed: the page's first
 * load trades the code for the session cookie, as a person's browser does, and every RPC
 * after that rides on the cookie. Each test has its own browser context, so its own cookies.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAUNCH_URL } from '../support/launch-url';

export const OWNER = 'alice';
export const PASSWORD = 'correct horse battery staple';

export interface Host {
  /** The launch URL: it works once, so only the first `page.goto` of a test may use it. */
  readonly url: string;
  /** The app without a launch code, for a page that holds the session already or must not. */
  readonly origin: string;
  readonly vault: string;
  readonly folder: string;
}

async function startServe(folder: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string; vault: string }> {
  const vault = path.join(folder, 'team.crewvault');
  // Its own config file, so the "last vault used" it remembers stays in the test's folder.
  const env = { ...process.env, CREWVAULT_CONFIG: path.join(folder, 'config.json') };
  const child = spawn(process.execPath, [path.resolve('bin/crewvault.mjs'), 'serve', '--vault', vault, '--no-open'], { env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = LAUNCH_URL.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`crewvault serve exited with ${code}`)));
  });
  return { child, url, vault };
}

export const test = base.extend<{ host: Host; vaultPage: Page }>({
  host: async ({ browserName: _browserName }, use) => {
    const folder = mkdtempSync(path.join(tmpdir(), 'crewvault-e2e-'));
    const { child, url, vault } = await startServe(folder);
    await use({ url, origin: new URL(url).origin, vault, folder });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(folder, { recursive: true, force: true });
  },
  /** A page signed in to a new vault owned by OWNER. */
  vaultPage: async ({ page, host }, use) => {
    await page.goto(host.url);
    // The launch code is traded and gone from the address bar before the app asks anything.
    await expect(page).toHaveURL(`${host.origin}/`);
    await page.getByLabel('Username').fill(OWNER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create vault' }).click();
    await expect(page.getByLabel('Search')).toBeVisible();
    await use(page);
  },
});

export { expect };
