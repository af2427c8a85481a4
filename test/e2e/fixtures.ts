/**
 * Each test gets its own `crewvault serve` (the real CLI, the real router, a real vault file
 * in a temp folder) and a page opened at the URL it printed, token included.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const OWNER = 'alice';
export const PASSWORD = 'correct horse battery staple';

export interface Host {
  readonly url: string;
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
      const match = /(http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})/.exec(out);
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
    await use({ url, vault, folder });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(folder, { recursive: true, force: true });
  },
  /** A page signed in to a new vault owned by OWNER. */
  vaultPage: async ({ page, host }, use) => {
    await page.goto(host.url);
    await page.getByLabel('Username').fill(OWNER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create vault' }).click();
    await expect(page.getByLabel('Search')).toBeVisible();
    await use(page);
  },
});

export { expect };
