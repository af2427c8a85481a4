// A second hostile review of the import/export fixes, through real parts: the router over a
// real vault file, the real export writer (its link() wrapped only to act at that moment), a
// second connection to the same vault file, the real CLI.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { buildMigrationUri, encodeSecret } from '../../shared/otp';
import { crewvault } from '../support/cli';
import { newRouter, ok } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';

/** What happens, outside Crewvault, the moment link() has put a name in place (a timing hook only). */
const afterLink = vi.hoisted(() => ({ run: undefined as undefined | ((target: string) => void) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const link = async (from: string, to: string): Promise<void> => {
    await real.link(from, to);
    afterLink.run?.(to);
  };
  return { ...real, default: { ...real, link }, link };
});

describe('export: the audit row and the file', () => {
  it('an export whose bytes were in place for anyone to copy has an "exported" row (another Crewvault process writing to the vault at that moment)', async () => {
    const { router, vaultPath } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'VPN', password: 'hunter2-secret', otp: { secret: 'JBSWY3DPEHPK3PXP', issuer: 'Acme' } }));
    const file = path.join(path.dirname(vaultPath), 'export.csv');
    // The moment the export is at its name: the person copies it (`cp export.csv ~/elsewhere`),
    // and another Crewvault process (the app syncing, a second CLI) is writing to the vault.
    const other = new Database(vaultPath);
    let copied: string | undefined;
    afterLink.run = (target) => {
      if (target !== file) return;
      copied = readFileSync(file, 'utf8');
      other.exec('BEGIN IMMEDIATE');
    };
    const reply = await router.call('vault.export', { format: 'keepassxc-csv', path: file, password: PASSWORD, plaintext: true });
    afterLink.run = undefined;
    other.exec('ROLLBACK');
    other.close();
    // The export was readable at its name, holding the password …
    expect(copied).toContain('hunter2-secret');
    // … so the vault's log says it was exported: the row went in before the name appeared.
    const audit = ok(await router.call('audit.list', {})) as Array<{ action: string; detail: string | null }>;
    const rows = audit.filter((r) => r.action === 'entries.export').map((r) => r.detail ?? '');
    expect({ reply: reply.ok ? 'ok' : reply.error.code, rows }).toEqual({ reply: 'ok', rows: [expect.stringMatching(/^keepassxc-csv: 1 exported/)] });
  });
});

describe('import: the 100,000-entry bound', () => {
  it('a Google export of exactly 100,000 entries with one page missing is read (the page named), not refused as "more than 100,000 entries"', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'crewvault-review-two-'));
    const vault = path.join(folder, 'team.crewvault');
    const PW = 'pw for the tests';
    expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
    // 200 pages of 500 entries, of an export of 201 pages: page 201 was not scanned.
    const lines: string[] = [];
    for (let page = 0; page < 200; page++) {
      const entries = Array.from({ length: 500 }, (_, i) => {
        const n = page * 500 + i;
        const secret = new Uint8Array(10);
        new DataView(secret.buffer).setUint32(0, n);
        return { issuer: 'Acme', account: `user${n}`, params: { kind: 'totp' as const, secret: encodeSecret(secret), algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 } };
      });
      lines.push(buildMigrationUri(entries, { index: page, size: 201, id: 7 }));
    }
    const file = path.join(folder, 'google.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = crewvault(['import', '--vault', vault, '--as', 'alice', '--dry-run', '--skip-bad', file], { input: `${PW}\n` });
    expect(result.stderr).not.toContain('more than 100,000 entries');
    expect(result.stderr).toContain('page 201 of 201 is missing');
    expect(result.stdout).toContain('Would import 100000 entries');
  }, 120_000);
});
