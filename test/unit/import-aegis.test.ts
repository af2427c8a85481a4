// The Aegis importer against fixtures written by make-authenticator-fixtures.py (Python's
// cryptography, not node:crypto or the importer) and the one list of expected entries, whose
// codes come from oathtool. Broken inputs are built here from those fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { aegisImporter } from '../../shared/import/aegis';
import { enteImporter } from '../../shared/import/ente';
import { twofasImporter } from '../../shared/import/twofas';
import type { ImportResult } from '../../shared/import/types';
import { asExpected, EXPECTED_ENTRIES, expectedFor } from '../fixtures/import/expected';
import { nodeImportCrypto } from '../support/import-crypto';

const PASSWORD = 'correct horse ✓ battery';
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)));
const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const bytesOf = (value: unknown): Uint8Array => utf8Encode(JSON.stringify(value));
const read = (data: Uint8Array, password?: string): Promise<ImportResult> =>
  aegisImporter.read(data, { crypto: nodeImportCrypto, ...(password === undefined ? {} : { password }) });

/** The error `promise` rejects with, which must be a CrewvaultError. */
async function failure(promise: Promise<unknown>): Promise<CrewvaultError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof CrewvaultError)) throw new Error(`expected a CrewvaultError, got ${String(error)}`);
  return error;
}

/** No secret of the fixtures (nor the bad ones planted here) in anything said to a person. */
function expectNoSecret(texts: readonly string[]): void {
  const secrets = [...EXPECTED_ENTRIES.map((e) => e.otp.secret), 'JBSW0Y3DPEHPK3PXP', PASSWORD];
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

/** A plain vault (content version 3) with `entries` replaced or added. */
function plainVault(change: (db: Record<string, unknown>) => void): Uint8Array {
  const vault = json('aegis-plain.json');
  change(vault.db as Record<string, unknown>);
  return bytesOf(vault);
}

it('claims no other format\'s fixture', () => {
  const others = readdirSync(new URL('../fixtures/import/', import.meta.url)).filter((f) => !f.startsWith('aegis-') && !/\.(ts|py|sh|mjs)$/.test(f));
  expect(others.length).toBeGreaterThan(0);
  expect(others.filter((f) => aegisImporter.detect(fixture(f)))).toEqual([]);
});

describe.each([
  ['aegis-plain.json', undefined],
  ['aegis-plain-v2.json', undefined],
  ['aegis-encrypted.json', PASSWORD],
] as const)('%s', (name, password) => {
  const data = fixture(name);

  it('is recognised from its content as Aegis alone', () => {
    expect(aegisImporter.detect(data)).toBe(true);
    expect(twofasImporter.detect(data)).toBe(false);
    expect(enteImporter.detect(data)).toBe(false);
    expect(aegisImporter.needsPassword(data)).toBe(password !== undefined);
  });

  it('reads every expected entry, customers from groups, codes as oathtool computes them', async () => {
    const result = await read(data, password);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.format).toBe('aegis');
    expect(result.entries.map(asExpected)).toEqual(expectedFor());
    expect(result.where?.[0]).toBe("entry 1 'GitHub'");
  });
});

describe('encrypted Aegis export', () => {
  const data = fixture('aegis-encrypted.json');

  it('refuses a wrong or missing password as WRONG_PASSWORD', async () => {
    const wrong = await failure(read(data, 'correct horse battery'));
    expect(wrong.code).toBe('WRONG_PASSWORD');
    expect((await failure(read(data))).code).toBe('WRONG_PASSWORD');
    expectNoSecret([wrong.message]);
  });

  it('calls contents changed after sealing damaged, not a wrong password', async () => {
    const vault = json('aegis-encrypted.json');
    const db = vault.db as string;
    vault.db = (db[0] === 'A' ? 'B' : 'A') + db.slice(1);
    const error = await failure(read(bytesOf(vault), PASSWORD));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/damaged/);
  });

  it('refuses a file with only a biometric slot, saying how to export it', async () => {
    const vault = json('aegis-encrypted.json');
    const header = vault.header as { slots: Array<{ type: number }> };
    header.slots = header.slots.filter((s) => s.type !== 1);
    const error = await failure(read(bytesOf(vault), PASSWORD));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/no password slot/);
  });

  it('refuses scrypt parameters no Aegis uses before running them', async () => {
    const vault = json('aegis-encrypted.json');
    const header = vault.header as { slots: Array<Record<string, unknown>> };
    for (const slot of header.slots) if (slot.type === 1) slot.n = 2 ** 30;
    const started = Date.now();
    const error = await failure(read(bytesOf(vault), PASSWORD));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/scrypt parameters/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('entries Aegis holds that Crewvault cannot take', () => {
  it('reports each bad entry by position and name, reading the rest', async () => {
    const data = plainVault((db) => {
      const entries = db.entries as unknown[];
      entries.push(
        { type: 'totp', name: 'a', issuer: 'Broken', info: { secret: 'JBSW0Y3DPEHPK3PXP', algo: 'SHA1', digits: 6, period: 30 } },
        { type: 'motp', name: 'b', issuer: 'Old token', info: { secret: 'JBSWY3DPEHPK3PXP', algo: 'MD5', digits: 6, period: 10, pin: '1234' } },
        { type: 'totp', name: 'c', issuer: 'Nine', info: { secret: 'JBSWY3DPEHPK3PXP', algo: 'SHA1', digits: 9, period: 30 } },
        { type: 'totp', name: 'd', issuer: 'Whirlpool', info: { secret: 'JBSWY3DPEHPK3PXP', algo: 'WHIRLPOOL', digits: 6, period: 30 } },
        { type: 'fido', issuer: 'Key' },
        { type: 'hotp', issuer: 'No counter', info: { secret: 'JBSWY3DPEHPK3PXP', algo: 'SHA1', digits: 6 } },
        'not an entry',
      );
    });
    const result = await read(data);
    expect(result.entries.map(asExpected)).toEqual(expectedFor());
    expect(result.problems).toEqual([
      { where: "entry 7 'Broken'", message: expect.stringMatching(/^Secret key has "0" at position 5 \(did you mean the letter O\?\)/) as unknown },
      { where: "entry 8 'Old token'", message: 'Aegis mOTP entries are not supported by Crewvault.' },
      { where: "entry 9 'Nine'", message: 'Digits must be 6, 7 or 8.' },
      { where: "entry 10 'Whirlpool'", message: 'Unsupported algorithm: use SHA1, SHA256 or SHA512.' },
      { where: "entry 11 'Key'", message: 'its OTP type is not totp, hotp or steam.' },
      { where: "entry 12 'No counter'", message: 'its counter is not a whole number.' },
      { where: 'entry 13', message: 'it is not an entry object.' },
    ]);
    expectNoSecret(result.problems.map((p) => `${p.where}: ${p.message}`));
  });

  it('warns of a short key, a second group and a nameless entry, and still imports them', async () => {
    const data = plainVault((db) => {
      const [acme, globex] = (db.groups as Array<{ uuid: string }>).map((g) => g.uuid);
      const entries = db.entries as Array<Record<string, unknown>>;
      entries.push(
        { type: 'totp', name: '', issuer: '', info: { secret: 'JBSWY3DPEHPK3PX', algo: 'SHA1', digits: 6, period: 30 }, groups: [acme, globex] },
        { type: 'totp', name: 'x', issuer: 'Gone group', info: { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', algo: 'SHA1', digits: 6, period: 30 }, groups: ['0c0ffee0-0000-4000-8000-000000000000'] },
      );
    });
    const result = await read(data);
    expect(result.problems).toEqual([]);
    expect(result.entries.slice(6)).toMatchObject([{ customer: 'Acme Corp', title: 'Aegis entry 7' }, { title: 'Gone group', username: 'x' }]);
    expect(result.entries[7]?.customer).toBeUndefined();
    expect(result.warnings).toEqual([
      'entry 7: is in 2 Aegis groups; imported under the first, "Acme Corp".',
      expect.stringMatching(/^entry 7: This secret key is only 72 bits/) as unknown,
      'entry 7: has neither issuer nor name; imported as "Aegis entry 7".',
    ]);
  });

  it('reads a newer content version where its fields match, with a warning', async () => {
    const result = await read(plainVault((db) => (db.version = 4)));
    expect(result.entries.map(asExpected)).toEqual(expectedFor());
    expect(result.warnings).toEqual(['Aegis content version 4 is newer than this importer knows (3): read where its fields match.']);
  });
});

describe('input that is not an Aegis export', () => {
  it.each([
    ['empty', new Uint8Array()],
    ['not JSON', utf8Encode('hello, world')],
    ['JSON of another shape', bytesOf({ version: 1, entries: [] })],
    ['truncated', fixture('aegis-plain.json').subarray(0, 900)],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ])('%s gives one INVALID_INPUT line', async (_name, data) => {
    const error = await failure(read(data));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).not.toContain('\n');
    expectNoSecret([error.message]);
    expect(aegisImporter.needsPassword(data)).toBe(false);
  });

  it('a truncated export is still recognised as Aegis, so its error names Aegis', () => {
    expect(aegisImporter.detect(fixture('aegis-plain.json').subarray(0, 900))).toBe(true);
    expect(aegisImporter.detect(utf8Encode('{"services": []}'))).toBe(false);
  });

  it('refuses 50 MB of junk without parsing it', async () => {
    const junk = new Uint8Array(50 * 1024 * 1024).fill(0x5b); // "[[[[…"
    const started = Date.now();
    const error = await failure(read(junk));
    expect(error.message).toMatch(/too large/);
    expect(aegisImporter.detect(junk)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports 20,000 junk entries one by one and refuses more than 100,000 at once', async () => {
    const many = await read(plainVault((db) => (db.entries = Array.from({ length: 20_000 }, (_, i) => ({ type: 'totp', issuer: `junk ${i}` })))));
    expect(many.entries).toEqual([]);
    expect(many.problems).toHaveLength(20_000);
    expect(many.problems[19_999]).toEqual({ where: "entry 20000 'junk 19999'", message: 'it has no OTP settings ("info").' });
    const tooMany = await failure(read(plainVault((db) => (db.entries = new Array<number>(100_001).fill(0)))));
    expect(tooMany.message).toMatch(/at most 100000/);
  });
});
