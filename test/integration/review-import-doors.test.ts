// Import and export after their fixes, a hostile review's cases, through real parts (the
// `crewvault` binary on a real vault file, the router over a real vault).
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ImportPreview } from '../../shared/api/contract';
import type { Router } from '../../electron/router';
import { crewvault, initCliVault, type CliResult } from '../support/cli';
import { newRouter, ok } from '../support/router';
import { OWNER, PASSWORD, tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('class 9: the audit row of an export', () => {
  let folder: string;
  let vault: string;
  const alice = (input: string, ...args: string[]): CliResult => crewvault([...args.slice(0, 1), '--vault', vault, '--as', 'alice', ...args.slice(1)], { input });

  beforeEach(() => {
    folder = tempFolder();
    vault = path.join(folder, 'team.crewvault');
    expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
    expect(alice(`${PW}\n${RFC}\n`, 'add', '--customer', 'Acme', '--title', 'VPN', '--otp', '-').status).toBe(0);
  });

  it('a target name the file system refuses (over 255 bytes) is not logged as "exported"', () => {
    // Legal path, illegal name: refused as the name is checked, before any secret is opened
    // (it had been taken for "not there", the row written, and only the link failed).
    const file = path.join(folder, `${'a'.repeat(300)}.txt`);
    const result = alice(`${PW}\n${PW}\n`, 'export', '--format', 'otpauth', '--plaintext', file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('(ENAMETOOLONG); nothing was written.');
    expect(readdirSync(folder).filter((n) => !n.startsWith('team.crewvault'))).toEqual([]);
    const rows = alice(`${PW}\n`, 'audit').stdout.split('\n').filter((l) => l.includes('entries.export'));
    // Nothing was exported, or even opened: no row.
    expect(rows).toEqual([]);
  });
});

describe('class 3: every CLI error is one printable line', () => {
  it('an unknown command name with a line break and an escape sequence', () => {
    const result = crewvault(['lsit\ncrewvault: Imported 9 entries\u001b]0;pwned\u0007']);
    expect(result.status).toBe(2);
    // One line, no control characters: the door's oneLine, as for every other error.
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect([...result.stderr.trimEnd()].filter((ch) => ch < ' ' || ch === '\u007f')).toEqual([]);
  });
});

describe('class 1: all-or-nothing import', () => {
  let vault: string;
  let folder: string;
  beforeEach(() => {
    ({ folder, vault } = initCliVault(PW, tempFolder));
  });

  it("an Ente export with a code in Ente's trash imports without --skip-bad (as the Recycle Bin and 1Password's deleted items do)", () => {
    const display = (trashed: boolean): string => encodeURIComponent(JSON.stringify({ pinned: false, trashed, tags: ['Acme'], note: '', position: 0 }));
    const file = path.join(folder, 'ente.txt');
    writeFileSync(file, [
      `otpauth://totp/GitHub:octo?secret=${RFC}&issuer=GitHub&codeDisplay=${display(false)}`,
      `otpauth://totp/Old:me?secret=JBSWY3DPEHPK3PXP&issuer=Old&codeDisplay=${display(true)}`,
    ].join('\n'));
    const result = crewvault(['import', '--vault', vault, '--format', 'ente', file], { input: `${PW}\n` });
    // A deleted code is the person's choice, not a broken entry: refusing the file over it
    // forces --skip-bad, which then lets real broken entries through unseen as well.
    expect(result.stderr).not.toContain('cannot import');
    expect(result.status).toBe(0);
    expect(crewvault(['list', '--vault', vault], { input: `${PW}\n` }).stdout).toContain('GitHub');
  });
});

async function upload(router: Router, bytes: Buffer): Promise<string> {
  const { uploadId, chunkBytes } = ok(await router.call('import.begin', { size: bytes.length })) as { uploadId: string; chunkBytes: number };
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
    ok(await router.call('import.chunk', { uploadId, offset, data: bytes.subarray(offset, offset + chunkBytes).toString('base64') }));
  }
  return uploadId;
}

describe('class 3: what the router hands back about a file is one printable line', () => {
  it("import.preview's warnings carry an entry's title raw (line breaks, escapes, any length)", async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    // A short (40-bit) key gives a warning naming the entry by its title.
    const title = `VPN\r\ncrewvault: Imported 9 entries\u001b[2J${'x'.repeat(5000)}`;
    const csv = `"Group","Title","Username","Password","URL","Notes","TOTP"\n"Root/Acme","${title}","alice","pw","","","otpauth://totp/A:b?secret=JBSWY3DP&issuer=A"\n`;
    const uploadId = await upload(router, Buffer.from(csv));
    const preview = ok(await router.call('import.preview', { uploadId, format: 'keepassxc-csv' })) as ImportPreview;
    expect(preview.warnings.length).toBeGreaterThan(0);
    // Problems and warnings alike are made printable and bounded by the vault (import-export.ts).
    for (const warning of preview.warnings) {
      expect([...warning].filter((ch) => ch < ' ' || ch === '\u007f')).toEqual([]);
      expect(warning.length).toBeLessThanOrEqual(500);
    }
  });
});
