// A large `crewvault import` at a terminal says how far it is (issue #12: "a progress bar …
// on the CLI, to stderr, only on a TTY"): one stderr line rewritten every 1,000 entries and
// cleared at the end; a piped run prints none of it. In process, with a real vault file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/main';
import { runScripted } from '../support/scripted-cli';
import { manualClock, tempFolder } from '../support/vault';

const PW = 'pw for the tests';

async function importAt(vault: string, file: string, interactive: boolean): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(['import', '--vault', vault, file], {
    out: (text) => { stdout += text; },
    err: (text) => { stderr += text; },
    readStdin: () => Promise.resolve(Buffer.alloc(0)),
    readSecret: () => Promise.resolve(PW),
    interactive,
    now: () => Date.now(),
    env: {},
  });
  return { status, stdout, stderr };
}

describe('crewvault import progress', () => {
  it('rewrites one line every 1,000 entries at a terminal and clears it; says nothing of it when piped', async () => {
    const folder = tempFolder();
    const vault = path.join(folder, 'team.crewvault');
    expect((await runScripted(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], [PW], manualClock())).status).toBe(0);
    const list = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `otpauth://totp/Acme:${prefix}${i}?secret=JBSWY3DPEHPK3PXP&issuer=Acme`).join('\n');
    const big = path.join(folder, 'big.txt');
    writeFileSync(big, list('user', 2500));
    const atTerminal = await importAt(vault, big, true);
    expect(atTerminal.stdout).toBe('Imported 2500 entries; skipped 0 lines.\n');
    expect(atTerminal.stderr).toBe('\rcrewvault: importing: 1000 of 2500 entries written\rcrewvault: importing: 2000 of 2500 entries written\r\x1b[K');
    const piped = path.join(folder, 'piped.txt');
    writeFileSync(piped, list('other', 1500));
    const quiet = await importAt(vault, piped, false);
    expect(quiet).toEqual({ status: 0, stdout: 'Imported 1500 entries; skipped 0 lines.\n', stderr: '' });
  });
});
