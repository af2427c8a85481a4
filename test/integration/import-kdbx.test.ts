/**
 * KeePass .kdbx through the importer (electron/import/kdbx.ts, a streaming reader; its own
 * tests against kdbxweb's are import-kdbx-stream.test.ts): a KDBX 3.1 / AES-KDF database made by
 * `keepassxc-cli import`, and a KDBX 4 / Argon2id one (KeePassXC's own XML export wrapped by
 * the bench's writer and read back by `keepassxc-cli show`), both against the one list of
 * expected entries. Then every way a file can be wrong: password, damage, truncation, another
 * format, a KDF set to run for ever.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kdbxImporter } from '../../electron/import/kdbx';
import { CrewvaultError } from '../../shared/errors';
import { totpCode } from '../../shared/otp';
import { nodeImportCrypto } from '../../electron/import/crypto';
import {
  asExpected,
  BROKEN_SECRET_FRAGMENT,
  BROKEN_TITLE,
  EXPECTED_CREDENTIALS,
  FIXTURE_PASSWORD,
} from '../fixtures/import/expected-password-managers';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)));
const codeAt = (params: Parameters<typeof totpCode>[0], atMs: number): string => totpCode(params, atMs).code;
const withPassword = (password?: string) => ({ crypto: nodeImportCrypto, ...(password === undefined ? {} : { password }) });

async function rejection(promise: Promise<unknown>): Promise<CrewvaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw error;
  }
  throw new Error('expected a CrewvaultError');
}

describe.each(['keepassxc-kdbx3-aeskdf.kdbx', 'keepassxc-kdbx4-argon2id.kdbx'])('%s', (name) => {
  const data = fixture(name);

  it('is detected from its signature and needs a password', () => {
    expect(kdbxImporter.detect(data)).toBe(true);
    expect(kdbxImporter.needsPassword(data)).toBe(true);
  });

  it('reads the expected list, codes included; the broken entry is a problem, the Recycle Bin left out', async () => {
    const result = await kdbxImporter.read(data, withPassword(FIXTURE_PASSWORD));
    expect(result.format).toBe('kdbx');
    expect(result.entries.map((e) => asExpected(e, codeAt))).toEqual(EXPECTED_CREDENTIALS);
    expect(result.problems).toEqual([{ where: `entry 9 '${BROKEN_TITLE}'`, message: 'Digits must be 6, 7 or 8.' }]);
    expect(JSON.stringify(result.problems)).not.toContain(BROKEN_SECRET_FRAGMENT);
    expect(result.warnings).toEqual(['1 entry in the Recycle Bin left out.']);
  });

  it('says WRONG_PASSWORD for a wrong password and USAGE for none', async () => {
    expect((await rejection(kdbxImporter.read(data, withPassword('not-it')))).code).toBe('WRONG_PASSWORD');
    expect((await rejection(kdbxImporter.read(data, withPassword()))).code).toBe('USAGE');
  });

  it('says INVALID_INPUT in one line for a truncated or damaged file', async () => {
    for (const damaged of [data.subarray(0, 200), flipByte(data, data.length - 100)]) {
      const error = await rejection(kdbxImporter.read(damaged, withPassword(FIXTURE_PASSWORD)));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).not.toContain('\n');
    }
  });

  it('says which of wrong password or damage a file cut at its end can be', async () => {
    const error = await rejection(kdbxImporter.read(data.subarray(0, data.length - 40), withPassword(FIXTURE_PASSWORD)));
    // KDBX 4 authenticates every block; KDBX 3.1 has no MAC, so a cut file fails its key check.
    if (name.includes('kdbx4')) expect(error.code).toBe('INVALID_INPUT');
    else expect(error).toMatchObject({ code: 'WRONG_PASSWORD', message: expect.stringMatching(/or the file is damaged/) as string });
  });
});

function flipByte(data: Uint8Array, at: number): Uint8Array {
  const copy = data.slice();
  copy[at] = (copy[at] ?? 0) ^ 0xff;
  return copy;
}

describe('not a usable .kdbx', () => {
  it('is not detected from other content', () => {
    expect(kdbxImporter.detect(new TextEncoder().encode('"Group","Title"'))).toBe(false);
    expect(kdbxImporter.detect(new Uint8Array(4))).toBe(false);
  });

  it('refuses other bytes, a KeePass 1 database and a huge file with one clear error', async () => {
    expect(await rejection(kdbxImporter.read(new Uint8Array(64), withPassword('x')))).toMatchObject({ code: 'INVALID_INPUT', message: 'Not a KeePass .kdbx database.' });
    const kdb = Uint8Array.of(0x03, 0xd9, 0xa2, 0x9a, 0x65, 0xfb, 0x4b, 0xb5, 0, 0, 0, 0);
    expect((await rejection(kdbxImporter.read(kdb, withPassword('x')))).message).toMatch(/KeePass 1 \(\.kdb\)/);
    const huge = new Uint8Array(257 * 1024 * 1024);
    expect((await rejection(kdbxImporter.read(huge, withPassword('x')))).message).toMatch(/too large/);
  });

  it('refuses AES-KDF rounds no real database uses, before running them', async () => {
    const data = fixture('keepassxc-kdbx3-aeskdf.kdbx').slice();
    // KDBX 3.1 header: fields [id:1][size:2][data] from offset 12; field 6 holds the rounds.
    let at = 12;
    while (data[at] !== 6) at += 3 + ((data[at + 1] ?? 0) | ((data[at + 2] ?? 0) << 8));
    data.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], at + 3);
    const started = Date.now();
    expect((await rejection(kdbxImporter.read(data, withPassword(FIXTURE_PASSWORD)))).message).toMatch(/AES-KDF rounds/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

// A hostile file from a review: AES-KDF rounds kdbxweb would run without a ceiling (a chain of
// promises that filled 4 GB before a wrong password could even be found wrong). Refused from
// the header, before any key is derived (hostile-kdbx-make.mjs writes them).
describe('hostile AES-KDF rounds', () => {
  it.each([
    ['hostile-aeskdf-v4-huge-rounds.kdbx', /more AES-KDF rounds than Crewvault will run/],
    ['hostile-aeskdf-v3-size9.kdbx', /AES-KDF rounds field is malformed/],
  ])('%s is refused before any work, whatever the password', async (name, message) => {
    await expect(kdbxImporter.read(fixture(name), withPassword('anything'))).rejects.toThrow(message);
    await expect(kdbxImporter.read(fixture(name), withPassword('pw'))).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown);
  });
});
