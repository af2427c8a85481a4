// The 2FAS importer against fixtures written by make-authenticator-fixtures.py (schema 2, 3 and
// 4 as 2FAS for Android writes them; the encrypted one sealed with Python's cryptography) and the
// one list of expected entries, whose codes come from oathtool. Broken inputs are built here.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode, utf8Encode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { aegisImporter } from '../../shared/import/aegis';
import { enteImporter } from '../../shared/import/ente';
import { twofasImporter } from '../../shared/import/twofas';
import type { ImportResult } from '../../shared/import/types';
import { asExpected, EXPECTED_ENTRIES, expectedFor, withoutNotes } from '../fixtures/import/expected';
import { nodeImportCrypto } from '../support/import-crypto';

const PASSWORD = 'correct horse ✓ battery';
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)));
const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const bytesOf = (value: unknown): Uint8Array => utf8Encode(JSON.stringify(value));
const read = (data: Uint8Array, password?: string): Promise<ImportResult> =>
  twofasImporter.read(data, { crypto: nodeImportCrypto, ...(password === undefined ? {} : { password }) });

async function failure(promise: Promise<unknown>): Promise<CrewvaultError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof CrewvaultError)) throw new Error(`expected a CrewvaultError, got ${String(error)}`);
  return error;
}

function expectNoSecret(texts: readonly string[]): void {
  const secrets = [...EXPECTED_ENTRIES.map((e) => e.otp.secret), 'JBSW0Y3DPEHPK3PXP', PASSWORD];
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

/** The schema 4 backup with its services changed. */
function plainBackup(change: (backup: Record<string, unknown>, services: Array<Record<string, unknown>>) => void): Uint8Array {
  const backup = json('2fas-v4.2fas');
  change(backup, backup.services as Array<Record<string, unknown>>);
  return bytesOf(backup);
}

const service = (name: string, otp: Record<string, unknown>, secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'): Record<string, unknown> =>
  ({ name, secret, updatedAt: 0, otp: { account: 'someone', ...otp }, order: { position: 99 } });

it('claims no other format\'s fixture', () => {
  const others = readdirSync(new URL('../fixtures/import/', import.meta.url)).filter((f) => !f.startsWith('2fas-') && !/\.(ts|py|sh|mjs)$/.test(f));
  expect(others.length).toBeGreaterThan(0);
  expect(others.filter((f) => twofasImporter.detect(fixture(f)))).toEqual([]);
});

describe.each([
  // Schema 2 knew only TOTP, so its fixture holds only the TOTP entries.
  ['2fas-v2.2fas', undefined, expectedFor(['totp'])],
  ['2fas-v3.2fas', undefined, expectedFor()],
  ['2fas-v4.2fas', undefined, expectedFor()],
  ['2fas-v4-encrypted.2fas', PASSWORD, expectedFor()],
] as const)('%s', (name, password, expected) => {
  const data = fixture(name);

  it('is recognised from its content as 2FAS alone', () => {
    expect(twofasImporter.detect(data)).toBe(true);
    expect(aegisImporter.detect(data)).toBe(false);
    expect(enteImporter.detect(data)).toBe(false);
    expect(twofasImporter.needsPassword(data)).toBe(password !== undefined);
  });

  it('reads every expected entry, customers from groups, codes as oathtool computes them', async () => {
    const result = await read(data, password);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.format).toBe('2fas');
    // 2FAS has no notes field.
    expect(result.entries.map(asExpected)).toEqual(withoutNotes(expected));
    expect(result.where?.[0]).toBe("entry 1 'GitHub'");
  });
});

describe('encrypted 2FAS backup', () => {
  const data = fixture('2fas-v4-encrypted.2fas');

  it('refuses a wrong or missing password as WRONG_PASSWORD', async () => {
    const wrong = await failure(read(data, 'correct horse battery'));
    expect(wrong.code).toBe('WRONG_PASSWORD');
    expect((await failure(read(data))).code).toBe('WRONG_PASSWORD');
    expectNoSecret([wrong.message]);
  });

  it('with the reference opening, damaged services are INVALID_INPUT, not a wrong password', async () => {
    const backup = json('2fas-v4-encrypted.2fas');
    const [sealed = '', salt, iv] = (backup.servicesEncrypted as string).split(':');
    const bytes = base64Decode(sealed);
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    backup.servicesEncrypted = [base64Encode(bytes), salt, iv].join(':');
    const error = await failure(read(bytesOf(backup), PASSWORD));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/damaged.*the password is right/);
  });

  it('without a reference, a failing tag means a wrong password; with the right one it reads', async () => {
    const backup = json('2fas-v4-encrypted.2fas');
    delete backup.reference;
    expect((await failure(read(bytesOf(backup), 'nope'))).code).toBe('WRONG_PASSWORD');
    expect((await read(bytesOf(backup), PASSWORD)).entries).toHaveLength(EXPECTED_ENTRIES.length);
  });

  it.each([
    ['two parts', (s: string) => s.split(':').slice(0, 2).join(':')],
    ['not base64', (s: string) => s.replace(/^./, '*')],
    ['a ciphertext shorter than its tag', (s: string) => ['AAAA', ...s.split(':').slice(1)].join(':')],
  ])('servicesEncrypted with %s is INVALID_INPUT', async (_name, change) => {
    const backup = json('2fas-v4-encrypted.2fas');
    backup.servicesEncrypted = change(backup.servicesEncrypted as string);
    const error = await failure(read(bytesOf(backup), PASSWORD));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/^The 2FAS backup is damaged: its servicesEncrypted/);
  });
});

describe('services Crewvault cannot take', () => {
  it('reports each bad service by position and name, reading the rest', async () => {
    const data = plainBackup((_backup, services) => {
      (services as unknown[]).push(
        service('Broken', { tokenType: 'TOTP' }, 'JBSW0Y3DPEHPK3PXP'),
        service('SHA-224', { algorithm: 'SHA224' }),
        service('Yubico', { tokenType: 'YUBI' }),
        service('Eleven', { digits: 11 }),
        service('Minus', { tokenType: 'HOTP', counter: -1 }),
        { name: 'No secret', otp: {} },
        42,
      );
    });
    const result = await read(data);
    expect(result.entries.map(asExpected)).toEqual(withoutNotes(expectedFor()));
    expect(result.problems).toEqual([
      { where: "entry 7 'Broken'", message: expect.stringMatching(/^Secret key has "0" at position 5 \(did you mean the letter O\?\)/) as unknown },
      { where: "entry 8 'SHA-224'", message: 'Unsupported algorithm: use SHA1, SHA256 or SHA512.' },
      { where: "entry 9 'Yubico'", message: 'its token type is not TOTP, HOTP or STEAM.' },
      { where: "entry 10 'Eleven'", message: 'Digits must be 6, 7 or 8.' },
      { where: "entry 11 'Minus'", message: `Counter must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.` },
      { where: "entry 12 'No secret'", message: 'it has no secret key.' },
      { where: 'entry 13', message: 'it is not a service object.' },
    ]);
    expectNoSecret(result.problems.map((p) => `${p.where}: ${p.message}`));
  });

  it('takes defaults where 2FAS leaves fields out, and the account from an old "Issuer:account" label', async () => {
    const data = plainBackup((_backup, services) => {
      services.splice(0, services.length, { name: 'Bare', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otp: { label: 'Bare Inc:jo' } }, service('Lost group', {}));
      (services[1] as Record<string, unknown>).groupId = 'no-such-group';
    });
    const result = await read(data);
    expect(result.entries).toEqual([
      { title: 'Bare', username: 'jo', otp: { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'Bare' } },
      expect.objectContaining({ title: 'Lost group', username: 'someone' }) as unknown,
    ]);
    expect(result.warnings).toEqual(["entry 2 'Lost group': names a group the backup does not list; imported without a customer."]);
  });

  it('reads a newer schema where its fields match, with a warning', async () => {
    const result = await read(plainBackup((backup) => (backup.schemaVersion = 5)));
    expect(result.entries.map(asExpected)).toEqual(withoutNotes(expectedFor()));
    expect(result.warnings).toEqual(['2FAS backup schema 5 is newer than this importer knows (4): read where its fields match; check the entries.']);
  });
});

describe('input that is not a 2FAS backup', () => {
  it.each([
    ['empty', new Uint8Array()],
    ['not JSON', utf8Encode('services: []')],
    ['JSON of another shape', bytesOf({ services: [] })],
    ['truncated', fixture('2fas-v4.2fas').subarray(0, 700)],
    ['services that are not a list', bytesOf({ schemaVersion: 4, services: 'GitHub' })],
  ])('%s gives one INVALID_INPUT line', async (_name, data) => {
    const error = await failure(read(data));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).not.toContain('\n');
    expectNoSecret([error.message]);
  });

  it('a truncated backup is still recognised as 2FAS, so its error names 2FAS', async () => {
    const cut = fixture('2fas-v4.2fas').subarray(0, 700);
    expect(twofasImporter.detect(cut)).toBe(true);
    expect((await failure(read(cut))).message).toBe('The file is not a 2FAS backup: it is not JSON.');
  });

  it('refuses 50 MB of junk without parsing it', async () => {
    const junk = new Uint8Array(50 * 1024 * 1024).fill(0x7b); // "{{{{…"
    const started = Date.now();
    expect((await failure(read(junk))).message).toMatch(/too large/);
    expect(twofasImporter.detect(junk)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses more than 100,000 services at once', async () => {
    const error = await failure(read(bytesOf({ schemaVersion: 4, services: new Array<number>(100_001).fill(0) })));
    expect(error.message).toMatch(/at most 100000/);
  });
});
