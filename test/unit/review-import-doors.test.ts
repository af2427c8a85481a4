// Import after its fixes, a hostile review's cases in pure code: what was left of the classes.
import { describe, expect, it } from 'vitest';
import { keepassxcCsvImporter } from '../../shared/import/keepassxc-csv';
import { readMappedCsv } from '../../shared/import/mapped-csv';
import { readOtpauthList } from '../../shared/import/otpauth';
import { MAX_IMPORT_ENTRIES } from '../../shared/import/types';
import { buildMigrationUri } from '../../shared/otp';
import type { MigrationEntry } from '../../shared/otp/migration';

describe('class 7: the importer unguards only what Crewvault guarded', () => {
  it("a KeePassXC export (which writes cells as they are, unguarded) keeps a password that starts with an apostrophe and a formula character", async () => {
    // KeePassXC's CsvExporter::addColumn quotes and doubles quotes, nothing else, and its header
    // has no "Formula guard" column (Crewvault's does): its cells are read as written.
    const passwords = ["'-x9Q!r", "'=Tq4", "'+1 (ops)", "'@home"];
    const rows = passwords.map((p, i) => `"Root/Acme","Entry ${i}","alice","${p}","","","","","",""`);
    const csv = `"Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created"\n${rows.join('\n')}\n`;
    const read = await keepassxcCsvImporter.read(Buffer.from(csv), {} as never);
    expect(read.entries.map((e) => e.password)).toEqual(passwords);
  });
});

describe('class 4: entry counts bounded as they are read, not after', () => {
  const oneLine = (count: number): string => {
    const entries: MigrationEntry[] = Array.from({ length: count }, () => ({ params: { kind: 'totp', secret: 'AA', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, account: '' }));
    return buildMigrationUri(entries);
  };

  it('an otpauth list of Google export lines past MAX_IMPORT_ENTRIES is refused by the reader (as Ente, Aegis and 2FAS are)', () => {
    // 2,800 entries as Google writes them fit a 64 KiB line (~9,800 minimal ones do); a 64 MiB
    // file holds millions (measured before: a 6.5 MB file of minimal entries was 980,000
    // entries and 514 MB resident before the vault's count refused it).
    const line = oneLine(2_800);
    expect(line.length).toBeLessThan(65_536);
    const text = Array.from({ length: 36 }, () => line).join('\n');
    expect(() => readOtpauthList(text)).toThrow(/at most 100,?000/);
  });

  it('a mapped CSV of more rows than MAX_IMPORT_ENTRIES is refused by the reader, not materialised whole first', () => {
    // Rows are counted as they are split, not once all are objects (measured before: a 3.2 MB
    // one-column sheet was 644 MB resident for `crewvault import --columns` alone).
    const text = `Title\n${'a\n'.repeat(MAX_IMPORT_ENTRIES + 1)}`;
    expect(() => readMappedCsv(Buffer.from(text), { title: 'Title' })).toThrow(/at most 100,?000/);
  });
});
