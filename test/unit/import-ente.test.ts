// The Ente Auth importer against fixtures written by make-authenticator-fixtures.py (URIs as
// Ente's export writes them: codeDisplay with tags and note, commas as %2C, type steam) and the
// one list of expected entries, whose codes come from oathtool. Broken inputs are built here.
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

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)));
const fixtureText = (name: string): string => readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url), 'utf8');
const read = (data: Uint8Array): Promise<ImportResult> => enteImporter.read(data, { crypto: nodeImportCrypto });
const readText = (text: string): Promise<ImportResult> => read(utf8Encode(text));

async function failure(promise: Promise<unknown>): Promise<CrewvaultError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof CrewvaultError)) throw new Error(`expected a CrewvaultError, got ${String(error)}`);
  return error;
}

function expectNoSecret(texts: readonly string[]): void {
  const secrets = [...EXPECTED_ENTRIES.map((e) => e.otp.secret), 'JBSW0Y3DPEHPK3PXP'];
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

const display = (fields: Record<string, unknown>): string =>
  encodeURIComponent(JSON.stringify({ pinned: false, trashed: false, tags: [], note: '', position: 0, ...fields }));

it('claims no other format\'s fixture', () => {
  const others = readdirSync(new URL('../fixtures/import/', import.meta.url)).filter((f) => !f.startsWith('ente-') && !/\.(ts|py|sh|mjs)$/.test(f));
  expect(others.length).toBeGreaterThan(0);
  expect(others.filter((f) => enteImporter.detect(fixture(f)))).toEqual([]);
});

describe.each(['ente-plain.txt', 'ente-comma.txt'])('%s', (name) => {
  const data = fixture(name);

  it('is recognised from its content as Ente alone', () => {
    expect(enteImporter.detect(data)).toBe(true);
    expect(aegisImporter.detect(data)).toBe(false);
    expect(twofasImporter.detect(data)).toBe(false);
    expect(enteImporter.needsPassword(data)).toBe(false);
  });

  it('reads every expected entry, customers from tags, notes, codes as oathtool computes them', async () => {
    const result = await read(data);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.format).toBe('ente');
    expect(result.entries.map(asExpected)).toEqual(expectedFor());
    expect(result.where?.[4]).toBe(name === 'ente-plain.txt' ? "line 5 'Steam'" : "line 1, code 5 'Steam'");
  });
});

describe('what Ente writes differently', () => {
  it('reads CRLF lines, a byte-order mark, an unencoded "#", the old "Algorithm.sha256" and a Steam URI without digits', async () => {
    const text = [
      '\uFEFFotpauth://totp/Lab:desk #4?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Lab&algorithm=Algorithm.sha256',
      'otpauth://steam/Steam:gaben?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=Steam',
      '',
    ].join('\r\n');
    const result = await readText(text);
    expect(result.problems).toEqual([]);
    expect(result.entries).toEqual([
      { title: 'Lab', username: 'desk #4', otp: { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', algorithm: 'SHA256', digits: 6, period: 30, counter: 0 }, issuer: 'Lab' } },
      { title: 'Steam', username: 'gaben', otp: { params: { kind: 'steam', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA1', digits: 5, period: 30, counter: 0 }, issuer: 'Steam' } },
    ]);
  });

  it("leaves out codes in Ente's trash, counted in a warning (not a problem that stops the import); warns of extra tags and unreadable display settings", async () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const result = await readText([
      `otpauth://totp/Old:me?secret=${secret}&issuer=Old&codeDisplay=${display({ trashed: true })}`,
      `otpauth://totp/Tagged:me?secret=${secret}&issuer=Tagged&codeDisplay=${display({ tags: ['Acme', 'Globex'] })}`,
      `otpauth://totp/Odd:me?secret=${secret}&issuer=Odd&codeDisplay=%7Bnot-json`,
    ].join('\n'));
    expect(result.problems).toEqual([]);
    expect(result.entries.map((e) => [e.customer, e.title])).toEqual([['Acme', 'Tagged'], [undefined, 'Odd']]);
    expect(result.warnings).toEqual([
      `line 2 'Tagged': has 2 tags; imported under the first, "Acme".`,
      "line 3 'Odd': its tags and note could not be read; imported without them.",
      "1 code in Ente Auth's trash left out.",
    ]);
  });

  it('reports each bad code by line with the OTP engine\'s message, reading the rest', async () => {
    const lines = fixtureText('ente-plain.txt').trimEnd().split('\n');
    lines.splice(1, 0,
      'otpauth://totp/Broken:me?secret=JBSW0Y3DPEHPK3PXP&issuer=Broken',
      'otpauth://motp/Old:me?secret=JBSWY3DPEHPK3PXP',
      'https://example.com/not-a-code',
      'otpauth://totp/Nine:me?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=9');
    const result = await readText(lines.join('\n'));
    expect(result.entries.map(asExpected)).toEqual(expectedFor());
    expect(result.problems).toEqual([
      { where: 'line 2', message: expect.stringMatching(/^Secret key has "0" at position 5 \(did you mean the letter O\?\)/) as unknown },
      { where: 'line 3', message: 'Unknown OTP type: an otpauth URI is otpauth://totp/… or otpauth://hotp/….' },
      { where: 'line 4', message: 'Not an otpauth:// URI (it is a web address).' },
      { where: 'line 5', message: 'The digits parameter is not a whole number from 6 to 8.' },
    ]);
    expectNoSecret(result.problems.map((p) => `${p.where}: ${p.message}`));
  });

  it('leaves a bare otpauth list (no codeDisplay) to the generic importer, but reads it when asked', async () => {
    const bare = utf8Encode('otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=A\n');
    expect(enteImporter.detect(bare)).toBe(false);
    expect((await read(bare)).entries).toHaveLength(1);
  });

  it("recognises Ente's encrypted export and says to export plain text", async () => {
    const encrypted = utf8Encode(JSON.stringify({ version: 1, kdfParams: { memLimit: 1, opsLimit: 1, salt: 'AA==' }, encryptedData: 'AA==', encryptionNonce: 'AA==' }));
    expect(enteImporter.detect(encrypted)).toBe(true);
    const error = await failure(read(encrypted));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/export again from Ente Auth as plain text/);
  });
});

describe('input that is not an Ente export', () => {
  it.each([
    ['empty', ''],
    ['blank lines and commas', '\n , ,\n\n'],
  ])('%s gives one INVALID_INPUT line', async (_name, text) => {
    const error = await failure(readText(text));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('The file holds no otpauth URIs, so it is not an Ente Auth export.');
  });

  it('a truncated export reads the whole codes and reports the cut one', async () => {
    const text = fixtureText('ente-plain.txt');
    const result = await readText(text.slice(0, text.indexOf('secret=', text.indexOf('otpauth://steam'))));
    expect(result.entries.map(asExpected)).toEqual(expectedFor().slice(0, 4));
    expect(result.problems).toEqual([{ where: 'line 5', message: 'The URI has no secret parameter.' }]);
  });

  it('refuses 50 MB of junk without reading it, and is not fooled by non-UTF-8', async () => {
    const junk = new Uint8Array(50 * 1024 * 1024).fill(0x2c); // ",,,,…"
    expect((await failure(read(junk))).message).toMatch(/too large/);
    expect(enteImporter.detect(junk)).toBe(false);
    expect((await failure(read(new Uint8Array([0x6f, 0xff, 0xfe])))).message).toMatch(/not UTF-8/);
  });

  it('reports a line too long to be a URI, and refuses more than 100,000 codes at once', async () => {
    const long = await readText(`otpauth://totp/A?secret=${'A'.repeat(70_000)}\n`);
    expect(long.problems).toEqual([{ where: 'line 1', message: 'it is longer than 65536 characters, so not an otpauth URI.' }]);
    const many = await failure(readText('otpauth://x,'.repeat(100_001)));
    expect(many.message).toMatch(/more than 100000 codes/);
  });
});
