// The worker threads that check signatures ahead (electron/vault/replica-verify.ts) hold a process
// open while any check of theirs is out, however many are out at once: real processes
// (test/support/verify-overlap-child.ts, bundled as the CLI is) each ask a small check and a large
// one together and wait with nothing else open, as a CLI sync waits for its last page's checks.
// Before the workers counted their requests, the small check's answer let go of the process while
// the large one was still being checked, and every child exited 13 before printing (an unsettled
// top-level await). Several children at once, twice.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleChild } from '../support/bundle-child';

const CHILD = path.resolve(import.meta.dirname, '../../dist/test/verify-overlap-child.mjs');

function runChild(mode = ''): Promise<{ readonly code: number | null; readonly out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, '4000', mode], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => { out += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('signature checks ahead, several at once', () => {
  beforeAll(async () => {
    await bundleChild(path.resolve(import.meta.dirname, '../support/verify-overlap-child.ts'), CHILD);
  });

  it('keep the process open until the last of them is answered', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 2; round++) {
      const runs = await Promise.all(Array.from({ length: 3 }, () => runChild()));
      for (const run of runs) {
        expect(run.code).toBe(0);
        expect(JSON.parse(run.out)).toEqual({ small: 64, large: 4000 });
      }
    }
  });

  it('let the process end when a worker ends under a check, its share verified here instead', { timeout: 120_000 }, async () => {
    const runs = await Promise.all(Array.from({ length: 3 }, () => runChild('end')));
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toEqual({ small: 64, large: 4000 });
    }
  });
});
