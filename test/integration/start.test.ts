// `npm start` where Electron's binary is missing: one clear line naming the browser host, a
// non-zero exit, and no attempt to download anything.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempFolder } from '../support/vault';

it('says in one line that Electron is missing and names crewvault serve', () => {
  const result = spawnSync(process.execPath, [path.resolve('scripts/start-electron.mjs')], {
    encoding: 'utf8',
    // An empty folder as Electron's dist: the binary is missing whether or not this machine has one.
    env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: tempFolder() },
  });
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toContain('npx crewvault serve');
  expect(result.stderr).not.toContain('Downloading');
});
