// Export defect classes through a real vault, by every door that exports (the `crewvault`
// binary, the app's router, the vault session itself) and every format, .kdbx included:
// A. a KeePassXC CSV cell a teammate wrote as a formula reaches the file guarded;
// B. a long but legal file name (250 bytes of UTF-8) is written;
// C. the audit log says what became of an export: "exported" once when the file is in place,
//    "not written (<reason>)" when it is not, and never a file the log does not know of.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeNewFile } from '../../electron/export/new-file';
import { EXPORTERS } from '../../electron/export/registry';
import { Vault } from '../../electron/vault/vault';
import type { FileWritten } from '../../shared/api/contract';
import { unguardCsvCell } from '../../shared/export/keepassxc-csv';
import { readCsv } from '../../shared/import/csv';
import type { AuditRecord } from '../../shared/model';
import { crewvault, type CliResult } from '../support/cli';
import { errorCode, newRouter, ok } from '../support/router';
import { manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const PW = 'pw for the tests';
const KDBX_PW = 'a new kdbx password';
const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const ENTRY_PASSWORD = '-mail pw 42';
const FORMULA = '=HYPERLINK("http://x/?"&A1)';
const NOTES = "@SUM(1+1)*cmd|' /C calc'!A0";

/** The rows an export left in the log, as the `crewvault audit` listing shows them. */
function exportLines(audit: string): string[] {
  return audit.split('\n').filter((line) => line.includes('entries.export'));
}

describe('crewvault export: audited as what happened, any name the file system takes', () => {
  let folder: string;
  let vault: string;

  function alice(input: string, ...args: string[]): CliResult {
    return crewvault([...args.slice(0, 1), '--vault', vault, '--as', 'alice', ...args.slice(1)], { input });
  }

  function audit(): string {
    const listed = alice(`${PW}\n`, 'audit');
    expect(listed.status).toBe(0);
    return listed.stdout;
  }

  beforeEach(() => {
    folder = tempFolder();
    vault = path.join(folder, 'team.crewvault');
    expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
    expect(alice(`${PW}\n${RFC}\n`, 'add', '--customer', 'Acme', '--title', FORMULA, '--username', '+ops', '--otp', '-').status).toBe(0);
    expect(alice(`${PW}\n${ENTRY_PASSWORD}\n${NOTES}\n`, 'add', '--customer', 'Globex', '--title', 'Mail', '--password-prompt', '--notes', '-').status).toBe(0);
  });

  it('a write that fails is audited as not written, with its reason; nothing claims it was exported', () => {
    const missing = path.join(folder, 'missing', 'export.csv');
    const failed = alice(`${PW}\n${PW}\n`, 'export', '--format', 'keepassxc-csv', '--plaintext', missing);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^crewvault: INVALID_INPUT: Cannot write [^\n]*export\.csv \(ENOENT\); nothing was written\.\n$/);
    const kdbx = alice(`${PW}\n${PW}\n${KDBX_PW}\n`, 'export', '--format', 'kdbx', '--plaintext', path.join(folder, 'missing', 'export.kdbx'));
    expect(kdbx.status).toBe(1);
    // A name the file system refuses outright (a file where a folder should be) is refused as
    // the name is checked, before anything is opened: no row at all.
    const notAFolder = alice(`${PW}\n${PW}\n`, 'export', '--format', 'otpauth', '--plaintext', path.join(vault, 'export.txt'));
    expect(notAFolder.stderr).toMatch(/^crewvault: INVALID_INPUT: Cannot write [^\n]*export\.txt \(ENOTDIR\); nothing was written\.\n$/);
    const lines = exportLines(audit());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('entries.export  keepassxc-csv: not written (ENOENT); 2 opened (1 with a one-time password), 0 without one left out');
    expect(lines[1]).toContain('entries.export  kdbx: not written (ENOENT); 2 opened');
    for (const line of lines) expect(line).not.toMatch(/\bexported\b/);
    expect(readdirSync(folder).filter((name) => !name.startsWith('team.crewvault'))).toEqual([]);
    for (const secret of [RFC, ENTRY_PASSWORD, KDBX_PW, PW]) expect(audit() + failed.stderr + kdbx.stderr).not.toContain(secret);
  });

  it('a success is audited once, after which the file is there: every format, to a file or to standard output', () => {
    for (const exporter of EXPORTERS) {
      const file = path.join(folder, `out.${exporter.name}`);
      const input = exporter.encrypted ? `${PW}\n${PW}\n${KDBX_PW}\n` : `${PW}\n${PW}\n`;
      expect(alice(input, 'export', '--format', exporter.name, '--plaintext', file).status).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(alice(`${PW}\n${PW}\n`, 'export', '--format', 'otpauth', '--plaintext', '-').status).toBe(0);
    const lines = exportLines(audit());
    expect(lines.map((line) => /entries\.export {2}([\w-]+): \d+ exported/.exec(line)?.[1])).toEqual([...EXPORTERS.map((e) => e.name), 'otpauth']);
  });

  it('writes to a 250-byte UTF-8 name, and a CSV cell a teammate wrote as a formula reaches it guarded', () => {
    const name = `${'é'.repeat(123)}.csv`;
    expect(Buffer.byteLength(name)).toBe(250);
    const file = path.join(folder, name);
    const done = alice(`${PW}\n${PW}\n`, 'export', '--format', 'keepassxc-csv', '--plaintext', file);
    expect(done.status, done.stderr).toBe(0);
    expect(readdirSync(folder).filter((n) => !n.startsWith('team.crewvault'))).toEqual([name]);
    const [, acme, globex] = readCsv(readFileSync(file, 'utf8')).map((row) => row.fields);
    expect(acme?.slice(1, 3)).toEqual([`'${FORMULA}`, "'+ops"]);
    expect(globex?.slice(1, 6)).toEqual(['Mail', '', `'${ENTRY_PASSWORD}`, '', `'${NOTES}`]);
    expect([...(acme ?? []), ...(globex ?? [])].map(unguardCsvCell)).toEqual(expect.arrayContaining([FORMULA, '+ops', ENTRY_PASSWORD, NOTES]));
    expect(exportLines(audit())).toHaveLength(1);
  });
});

describe('Export… through the router: the same rule', () => {
  it('for every format, a failed write is audited as not written and a success once as exported', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('entries.create', { customer: 'Acme', title: FORMULA, username: 'admin', password: 'hunter2!', otp: { secret: 'JBSWY3DPEHPK3PXP', issuer: 'Microsoft' } }));
    const folder = tempFolder();
    const rowsOf = async (): Promise<AuditRecord[]> => (ok(await router.call('audit.list', {})) as AuditRecord[]).filter((r) => r.action === 'entries.export');
    for (const exporter of EXPORTERS) {
      const input = { format: exporter.name, password: PASSWORD, plaintext: true, ...(exporter.encrypted ? { databasePassword: KDBX_PW } : {}) };
      expect(errorCode(await router.call('vault.export', { ...input, path: path.join(folder, 'missing', `x.${exporter.name}`) }))).toBe('INVALID_INPUT');
      const failed = (await rowsOf()).filter((r) => r.detail.startsWith(`${exporter.name}:`));
      expect(failed.map((r) => r.detail)).toEqual([expect.stringMatching(new RegExp(`^${exporter.name}: not written \\(ENOENT\\); 1 opened`))]);
      const file = path.join(folder, `x.${exporter.name}`);
      expect(ok(await router.call('vault.export', { ...input, path: file })) as FileWritten).toMatchObject({ path: file, entries: 1 });
      const after = (await rowsOf()).filter((r) => r.detail.startsWith(`${exporter.name}:`));
      expect(after.filter((r) => r.detail.includes(' exported '))).toHaveLength(1);
      expect(after).toHaveLength(2);
    }
    const all = JSON.stringify(await rowsOf());
    for (const secret of ['hunter2!', 'JBSWY3DPEHPK3PXP', KDBX_PW, PASSWORD]) expect(all).not.toContain(secret);
  });
});

describe('VaultSession.exportEntries: no export the log does not know of', () => {
  async function auditAfter(file: string, clock: ReturnType<typeof manualClock>): Promise<AuditRecord[]> {
    const vault = Vault.open(file, clock);
    try {
      const session = await vault.signIn(OWNER, PASSWORD);
      try {
        return (await session.auditLog()).filter((r) => r.action === 'entries.export');
      } finally {
        session.lock();
      }
    } finally {
      await vault.close();
    }
  }

  it('a session locked while the file was being written leaves no file (its row could not be written)', async () => {
    const clock = manualClock();
    const { file, session } = await newVault(clock);
    await session.createEntry({ customer: 'Acme', title: 'Router', password: 'router pw' });
    const target = path.join(tempFolder(), 'export.csv');
    const exporting = session.exportEntries(PASSWORD, {
      format: 'keepassxc-csv',
      otpOnly: false,
      deliver: async (_opened, audited) => {
        session.lock();
        await writeNewFile(target, new TextEncoder().encode('router pw\n'), audited);
      },
    });
    await expect(exporting).rejects.toMatchObject({ code: 'LOCKED' });
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(path.dirname(target))).toEqual([]);
    expect(await auditAfter(file, clock)).toEqual([]);
  });

  it('a deliverer that fails before any file is audited as not written; one that never asks is still audited, once', async () => {
    const clock = manualClock();
    const { file, session } = await newVault(clock);
    await session.createEntry({ customer: 'Acme', title: 'Router', password: 'router pw' });
    const failing = session.exportEntries(PASSWORD, { format: 'aegis', otpOnly: true, deliver: () => Promise.reject(new Error('router pw')) });
    await expect(failing).rejects.toThrow();
    const quiet = await session.exportEntries(PASSWORD, { format: 'otpauth', otpOnly: false, deliver: () => Promise.resolve() });
    expect(quiet.entries).toHaveLength(1);
    const twice = await session.exportEntries(PASSWORD, { format: 'kdbx', otpOnly: false, deliver: async (_opened, audited) => { await audited(); await audited(); } });
    expect(twice.entries).toHaveLength(1);
    session.lock();
    expect((await auditAfter(file, clock)).map((r) => r.detail)).toEqual([
      'aegis: not written (INTERNAL); 0 opened (0 with a one-time password), 1 without one left out',
      'otpauth: 1 exported (0 with a one-time password), 0 without one left out',
      'kdbx: 1 exported (0 with a one-time password), 0 without one left out',
    ]);
  });
});
