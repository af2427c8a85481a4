/**
 * KeePassXC's CSV export (a real `keepassxc-cli export -f csv`, see keepassxc-make.sh) against
 * the one list of expected entries, and the KeePass entry conversion the .kdbx importer shares:
 * every way KeePass stores an OTP, refused ones as problems that never show the key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { convertKeePassEntry, keepassxcCsvImporter, type KeePassEntryFields } from '../../shared/import/keepassxc-csv';
import { totpCode } from '../../shared/otp';
import { utf8Encode } from '../../shared/bytes';
import { nodeImportCrypto } from '../../electron/import/crypto';
import {
  asExpected,
  BROKEN_SECRET_FRAGMENT,
  BROKEN_TITLE,
  EXPECTED_CREDENTIALS,
} from '../fixtures/import/expected-password-managers';

const FIXTURE = new URL('../fixtures/import/keepassxc-export.csv', import.meta.url);
const options = { crypto: nodeImportCrypto };
const codeAt = (params: Parameters<typeof totpCode>[0], atMs: number): string => totpCode(params, atMs).code;

function csv(text: string): Uint8Array {
  return utf8Encode(text);
}

function entry(fields: Partial<KeePassEntryFields> & { extra?: Record<string, string> }): KeePassEntryFields {
  const extra = fields.extra ?? {};
  return {
    groups: fields.groups ?? ['Acme'],
    title: fields.title ?? 'Entry',
    username: fields.username ?? '',
    password: fields.password ?? '',
    url: fields.url ?? '',
    notes: fields.notes ?? '',
    field: (name) => extra[name],
  };
}

async function rejection(promise: Promise<unknown>): Promise<CrewvaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw error;
  }
  throw new Error('expected a CrewvaultError');
}

describe('KeePassXC CSV', () => {
  const data = new Uint8Array(readFileSync(FIXTURE));

  it('is detected from its header, and needs no password', () => {
    expect(keepassxcCsvImporter.detect(data)).toBe(true);
    expect(keepassxcCsvImporter.needsPassword(data)).toBe(false);
    expect(keepassxcCsvImporter.detect(csv('folder,favorite,type,name,notes,fields,reprompt,login_uri\n'))).toBe(false);
    expect(keepassxcCsvImporter.detect(csv('{"encrypted":false}'))).toBe(false);
  });

  it('reads the real export as the expected list, codes included', async () => {
    const result = await keepassxcCsvImporter.read(data, options);
    expect(result.format).toBe('keepassxc-csv');
    expect(result.entries.map((e) => asExpected(e, codeAt))).toEqual(EXPECTED_CREDENTIALS);
    expect(result.where?.length).toBe(result.entries.length);
  });

  it('refuses the broken entry with the OTP engine\'s message, never its key, and leaves out the Recycle Bin', async () => {
    const result = await keepassxcCsvImporter.read(data, options);
    expect(result.problems).toEqual([{ where: `entry 9 '${BROKEN_TITLE}'`, message: 'The digits parameter is not a whole number from 6 to 8.' }]);
    expect(JSON.stringify(result.problems)).not.toContain(BROKEN_SECRET_FRAGMENT);
    expect(result.warnings).toEqual(['1 entry in the Recycle Bin left out.']);
  });

  it('reads an older export without the TOTP and later columns', async () => {
    const result = await keepassxcCsvImporter.read(csv('"Group","Title","Username","Password","URL","Notes"\n"Root","A","u","p","",""\n'), options);
    expect(result.entries).toEqual([{ title: 'A', username: 'u', password: 'p' }]);
  });

  it('gives one clear error for a file that is not KeePassXC CSV, damaged quoting or a huge file', async () => {
    expect((await rejection(keepassxcCsvImporter.read(csv('a,b,c\n1,2,3\n'), options))).code).toBe('INVALID_INPUT');
    const cut = readFileSync(FIXTURE, 'utf8').slice(0, 300);
    const damaged = await rejection(keepassxcCsvImporter.read(csv(cut), options));
    expect(damaged.code).toBe('INVALID_INPUT');
    expect(damaged.message).toMatch(/^Line \d+: a quoted field is never closed\.$/);
    const huge = await rejection(keepassxcCsvImporter.read(new Uint8Array(33 * 1024 * 1024), options));
    expect(huge.code).toBe('INVALID_INPUT');
    expect(huge.message).toMatch(/too large/);
  });
});

describe('convertKeePassEntry: every way KeePass keeps an OTP', () => {
  const SECRET = 'AY5KNSXUWMO6DAC54VFWMZ5R2UNHVIIZ';

  it('reads KeeOtp settings, with its hash mode', () => {
    const { entry: e } = convertKeePassEntry(entry({ extra: { otp: `key=${SECRET}&size=8&step=60&otpHashMode=SHA512` } }));
    expect(e.otp).toEqual({ params: { kind: 'totp', secret: SECRET, algorithm: 'SHA512', digits: 8, period: 60, counter: 0 }, issuer: 'Entry' });
  });

  it('reads a legacy TOTP Seed without settings as the defaults, and "30;S" as Steam', () => {
    expect(convertKeePassEntry(entry({ extra: { 'TOTP Seed': SECRET } })).entry.otp?.params).toEqual({ kind: 'totp', secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 });
    expect(convertKeePassEntry(entry({ extra: { 'TOTP Seed': SECRET, 'TOTP Settings': '30;S' } })).entry.otp?.params.kind).toBe('steam');
  });

  it('reads KeePass 2.47 TimeOtp fields (base32, hex)', () => {
    const hex = convertKeePassEntry(entry({ extra: { 'TimeOtp-Secret-Hex': '3132333435363738393031323334353637383930', 'TimeOtp-Algorithm': 'HMAC-SHA-256', 'TimeOtp-Length': '8' } }));
    // RFC 6238's SHA-1 seed "12345678901234567890" in hex is base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
    expect(hex.entry.otp?.params).toEqual({ kind: 'totp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', algorithm: 'SHA256', digits: 8, period: 30, counter: 0 });
    expect(convertKeePassEntry(entry({ extra: { 'TimeOtp-Secret-Base32': SECRET } })).entry.otp?.params.secret).toBe(SECRET);
  });

  it('prefers the otp field over a legacy seed, as KeePassXC does', () => {
    const { entry: e } = convertKeePassEntry(entry({ extra: { otp: `otpauth://totp/X?secret=${SECRET}&issuer=Site`, 'TOTP Seed': 'GEZDGNBVGY3TQOJQ' } }));
    expect(e.otp).toEqual({ params: { kind: 'totp', secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'Site' });
  });

  it('refuses a bad key character with the OTP engine\'s message instead of "sanitising" it', () => {
    const run = (): unknown => convertKeePassEntry(entry({ extra: { 'TOTP Seed': 'AY5KNSX1WMO6DAC5' } }));
    expect(run).toThrow('Secret key has "1" at position 8 (did you mean the letter I or L?)');
    expect(run).toThrow(expect.objectContaining({ code: 'INVALID_SECRET' }) as Error);
  });

  it('refuses an otp field that is neither a URI nor KeeOtp, and settings that are not step;digits', () => {
    expect(() => convertKeePassEntry(entry({ extra: { otp: SECRET } }))).toThrow(/neither an otpauth:\/\/ URI nor KeeOtp/);
    expect(() => convertKeePassEntry(entry({ extra: { 'TOTP Seed': SECRET, 'TOTP Settings': '30' } }))).toThrow(/not "step;digits"/);
    expect(() => convertKeePassEntry(entry({ extra: { 'TOTP Seed': SECRET, 'TOTP Settings': '0;6' } }))).toThrow(/Period must be/);
  });

  it('titles an untitled entry by its URL, and refuses one with nothing to name it by', () => {
    expect(convertKeePassEntry(entry({ title: '', url: 'https://x.example' })).entry.title).toBe('https://x.example');
    expect(() => convertKeePassEntry(entry({ title: '' }))).toThrow(/no title/);
  });
});
