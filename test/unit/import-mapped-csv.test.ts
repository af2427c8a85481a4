/**
 * A spreadsheet's CSV with a column mapping the person confirms (issue #12): the fixture
 * (spreadsheet.csv, RFC 4180 written by hand, its own column names) holds the shared
 * password-manager list; read through a mapping it gives the same entries and codes (oathtool
 * agrees). An unmapped title, a column not in the file, or one mapped twice is one clear line.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { csvColumns, guessCsvMapping, mappedCsvImporter, readMappedCsv } from '../../shared/import/mapped-csv';
import { totpCode, type OtpParams } from '../../shared/otp';
import { nodeImportCrypto } from '../../electron/import/crypto';
import { IMPORTERS } from '../../electron/import/registry';
import { asExpected, BROKEN_SECRET_FRAGMENT, EXPECTED_CREDENTIALS, PASSWORD_MANAGER_CODES_AT_MS } from '../fixtures/import/expected-password-managers';

const data = new Uint8Array(readFileSync(new URL('../fixtures/import/spreadsheet.csv', import.meta.url)));
const codeAt = (params: OtpParams, atMs: number): string => totpCode(params, atMs).code;
const MAPPING = { customer: 'Client', title: 'Account', username: 'Login', password: 'Secret', url: 'Website', notes: 'Comment', otp: '2FA seed' } as const;

function oathtool(params: OtpParams): string {
  return execFileSync('oathtool', [`--totp=${params.algorithm}`, '-d', String(params.digits), '-s', `${params.period}s`, '-b', '-N', '2026-01-01 00:00:00 UTC', params.secret], { encoding: 'utf8' }).trim();
}

function failure(work: () => unknown): CrewvaultError {
  try {
    work();
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw error;
  }
  throw new Error('expected a CrewvaultError');
}

describe('a spreadsheet CSV through a confirmed mapping', () => {
  it('is never recognised by auto: which column is which is the person\'s to say', () => {
    expect(IMPORTERS.filter((i) => i.detect(data)).map((i) => i.name)).toEqual([]);
  });

  it('lists its columns and guesses a mapping for the person to confirm', () => {
    const columns = csvColumns(data);
    expect(columns).toEqual(['Client', 'Account', 'Login', 'Secret', 'Website', 'Comment', '2FA seed', 'Favourite']);
    expect(guessCsvMapping(columns)).toEqual({ title: 'Account', customer: 'Client', username: 'Login', url: 'Website', notes: 'Comment' });
    expect(guessCsvMapping(['Name', 'TOTP', 'Password'])).toEqual({ title: 'Name', password: 'Password', otp: 'TOTP' });
  });

  it('reads the expected list through the mapping, codes included (oathtool agrees), the bad key named by its line', async () => {
    const result = await mappedCsvImporter.read(data, { crypto: nodeImportCrypto, mapping: MAPPING });
    expect(result.format).toBe('csv');
    expect(result.entries.map((e) => asExpected(e, codeAt))).toEqual(EXPECTED_CREDENTIALS);
    expect(result.problems.map((p) => p.where)).toEqual(["line 11 'Broken'"]);
    expect(result.problems[0]?.message).toContain('Secret key has "1" at position 8');
    expect(result.where?.[2]).toBe("line 4 'AWS'");
    expect(JSON.stringify(result)).not.toContain(BROKEN_SECRET_FRAGMENT);
    for (const entry of result.entries) {
      if (entry.otp?.params.kind === 'totp') expect(oathtool(entry.otp.params), entry.title).toBe(codeAt(entry.otp.params, PASSWORD_MANAGER_CODES_AT_MS));
    }
  });

  it('matches column names without case or surrounding spaces, and needs only the title', () => {
    const result = readMappedCsv(data, { title: ' account ' });
    expect(result.entries.map((e) => e.title)).toEqual(['Personal mail', 'GitHub', 'AWS', 'Backup server', 'Steam', 'Core router', 'VPN', 'Jira', 'Broken']);
    expect(result.entries.every((e) => e.otp === undefined && e.password === undefined)).toBe(true);
  });

  it('refuses in one line: the title unmapped, a column not in the file, a column mapped twice, no mapping at all', async () => {
    const unmapped = failure(() => readMappedCsv(data, { otp: '2FA seed' }));
    expect(unmapped).toMatchObject({ code: 'INVALID_INPUT', message: 'Map the title column (the file\'s first line names 8 columns).' });
    const missing = failure(() => readMappedCsv(data, { title: 'Account', otp: 'TOTP' }));
    expect(missing.message).toBe('The column "TOTP" mapped to otp is not in the file (the file\'s first line names 8 columns).');
    const twice = failure(() => readMappedCsv(data, { title: 'Account', notes: 'account' }));
    expect(twice.message).toBe('The column "account" is mapped to both title and notes.');
    await expect(mappedCsvImporter.read(data, { crypto: nodeImportCrypto })).rejects.toMatchObject({ code: 'USAGE' });
    expect(failure(() => csvColumns(utf8Encode(''))).code).toBe('INVALID_INPUT');
  });

  it('skips a row without a title, naming its line, and keeps the rest', () => {
    const result = readMappedCsv(utf8Encode('Name,Key\nGitHub,JBSWY3DPEHPK3PXP\n,GEZDGNBVGY3TQOJQ\n'), { title: 'Name', otp: 'Key' });
    expect(result.entries.map((e) => e.title)).toEqual(['GitHub']);
    expect(result.problems).toEqual([{ where: 'line 3', message: 'The item has no name.' }]);
  });
});
