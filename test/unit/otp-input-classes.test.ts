// Four classes of defect in how OTP input from a file is read, each checked on cases of its
// own, through the real parsers and importers:
//   1. counts and lengths from a file are bounded before use: INVALID_INPUT, never a RangeError;
//   2. Steam's one shape (5 characters, SHA1, 30 s) is enforced wherever a key comes in;
//   3. an otpauth label is split before percent-decoding, so an issuer's own colon survives;
//   4. no error or problem repeats a field's text, which may be a misplaced secret.
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { aegisImporter } from '../../shared/import/aegis';
import { enteImporter } from '../../shared/import/ente';
import { readOtpauthList } from '../../shared/import/otpauth';
import { twofasImporter } from '../../shared/import/twofas';
import type { ImportResult } from '../../shared/import/types';
import {
  buildMigrationUri,
  buildOtpUri,
  MAX_BATCH_PAGES,
  parseMigrationUri,
  parseOtpUri,
  resolveOtpSpec,
  steamParams,
  validateOtpParams,
  type OtpParams,
  type OtpUri,
} from '../../shared/otp';
import { readMessage } from '../../shared/otp/protobuf';
import { nodeImportCrypto } from '../support/import-crypto';
import { varint } from '../support/protobuf-bytes';

const PLANTED = 'PLANTEDSECRET7';
const SECRET = 'JBSWY3DPEHPK3PXP';
const STEAM_SECRET = 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ';

/** What `run` throws, which must be a CrewvaultError (a RangeError or TypeError fails the test). */
function thrown(run: () => unknown): CrewvaultError {
  try {
    run();
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw new Error(`expected a CrewvaultError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a refusal');
}

function expectOneLine(message: string): void {
  expect(message).not.toMatch(/[\r\n]/);
  expect(message.length).toBeGreaterThan(0);
}

/** Everything an import says to a person. */
function said(result: ImportResult): string {
  return JSON.stringify([result.problems, result.warnings]);
}

// ---- a Google Authenticator export built byte by byte, independent of the parser's writer ----
const numberField = (field: number, value: bigint): number[] => [...varint(BigInt(field << 3)), ...varint(value)];
const bytesField = (field: number, bytes: readonly number[]): number[] => [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes];
const text = (value: string): number[] => Array.from(utf8Encode(value));

function entryBytes(overrides: { algorithm?: bigint; digits?: bigint; type?: bigint } = {}): number[] {
  return [
    ...bytesField(1, Array.from('12345678901234567890', (c) => c.charCodeAt(0))),
    ...bytesField(2, text('alice')),
    ...bytesField(3, text('Acme')),
    ...numberField(4, overrides.algorithm ?? 1n),
    ...numberField(5, overrides.digits ?? 1n),
    ...numberField(6, overrides.type ?? 2n),
  ];
}

function migrationUri(payload: readonly number[]): string {
  return `otpauth-migration://offline?data=${encodeURIComponent(Buffer.from(payload).toString('base64'))}`;
}

function exportWith(batch: { size?: bigint; index?: bigint; id?: bigint }, entries: number[][] = [entryBytes()]): string {
  return migrationUri([
    ...entries.flatMap((e) => bytesField(1, e)),
    ...numberField(2, 1n),
    ...(batch.size === undefined ? [] : numberField(3, batch.size)),
    ...(batch.index === undefined ? [] : numberField(4, batch.index)),
    ...(batch.id === undefined ? [] : numberField(5, batch.id)),
  ]);
}

// ---- plain Aegis and 2FAS files ----
const readAegis = (entries: unknown[]): Promise<ImportResult> =>
  aegisImporter.read(utf8Encode(JSON.stringify({ version: 1, header: { slots: null, params: null }, db: { version: 3, entries, groups: [] } })), { crypto: nodeImportCrypto });
const aegisTotp = (info: Record<string, unknown>, type: unknown = 'totp'): Record<string, unknown> => ({
  type,
  name: 'alice',
  issuer: 'Acme',
  info: { secret: SECRET, algo: 'SHA1', digits: 6, period: 30, ...info },
});

const readTwofas = (services: unknown[]): Promise<ImportResult> =>
  twofasImporter.read(utf8Encode(JSON.stringify({ schemaVersion: 4, services, groups: [] })), { crypto: nodeImportCrypto });
const twofasService = (otp: Record<string, unknown>): Record<string, unknown> => ({
  name: 'Acme',
  secret: SECRET,
  otp: { account: 'alice', issuer: 'Acme', digits: 6, period: 30, algorithm: 'SHA1', tokenType: 'TOTP', ...otp },
});

const readEnte = (lines: string[]): Promise<ImportResult> => enteImporter.read(utf8Encode(lines.join('\n')), { crypto: nodeImportCrypto });

describe('1. counts and lengths read from a file are bounded', () => {
  it.each([
    ['a page count of 2^32', { size: 2n ** 32n }],
    ['a page count of 2^32 + 1 (not cut to 32 bits and read as 1)', { size: 2n ** 32n + 1n }],
    ['a page count of 2^63 - 1', { size: 2n ** 63n - 1n }],
    ['a page count just over the limit', { size: BigInt(MAX_BATCH_PAGES + 1) }],
    ['a negative page count', { size: -1n }],
    ['a page number equal to the count', { size: 3n, index: 3n }],
    ['a negative page number', { size: 3n, index: -1n }],
    ['a page number of 2^32', { size: 3n, index: 2n ** 32n }],
  ])('refuses %s with INVALID_INPUT, on one line', (_name, batch) => {
    const error = thrown(() => parseMigrationUri(exportWith(batch)));
    expect(error.code).toBe('INVALID_INPUT');
    expectOneLine(error.message);
  });

  it('reads the largest allowed count, a missing count as one page, and a negative batch id', () => {
    expect(parseMigrationUri(exportWith({ size: BigInt(MAX_BATCH_PAGES), index: BigInt(MAX_BATCH_PAGES - 1) }))).toMatchObject({ batchSize: MAX_BATCH_PAGES, batchIndex: MAX_BATCH_PAGES - 1 });
    expect(parseMigrationUri(exportWith({}))).toMatchObject({ batchSize: 1, batchIndex: 0 });
    expect(parseMigrationUri(exportWith({ size: 2n, index: 1n, id: -123456n })).batchId).toBe(-123456);
  });

  it('turns a huge page count into a problem of its line in the otpauth list, reading the other lines', () => {
    const good = `otpauth://totp/Acme:bob?secret=${SECRET}&issuer=Acme`;
    const result = readOtpauthList([exportWith({ size: 2n ** 32n }), good, exportWith({ size: 5n, index: 2n ** 40n })].join('\n'));
    expect(result.entries.map((e) => e.username)).toEqual(['bob']);
    expect(result.problems.map((p) => p.where)).toEqual(['Line 1', 'Line 3']);
  });

  it('refuses a length running past the message, however large, without allocating it', () => {
    for (const length of [2n ** 32n, 2n ** 62n, 2n ** 64n - 1n]) {
      const bytes = Uint8Array.from([...varint(BigInt((1 << 3) | 2)), ...varint(length), 1, 2, 3]);
      expect(() => readMessage(bytes)).toThrow('message ends inside a field');
      const error = thrown(() => parseMigrationUri(migrationUri(Array.from(bytes))));
      expect(error.code).toBe('INVALID_URI');
    }
  });

  it('skips an entry whose own field length is too large, reading the others', () => {
    const broken = [...varint(BigInt((2 << 3) | 2)), ...varint(2n ** 40n), 0x41];
    const batch = parseMigrationUri(exportWith({}, [entryBytes(), broken]));
    expect(batch.entries).toHaveLength(1);
    expect(batch.problems).toEqual([{ index: 2, message: 'Entry 2 skipped: message ends inside a field' }]);
  });

  it('does not read an enum of 2^32 + 1 as 1 (SHA1, six digits, HOTP)', () => {
    const batch = parseMigrationUri(exportWith({}, [
      entryBytes({ algorithm: 2n ** 32n + 1n }),
      entryBytes({ digits: 2n ** 32n + 1n }),
      entryBytes({ type: 2n ** 32n + 1n }),
    ]));
    expect(batch.entries).toEqual([]);
    expect(batch.problems.map((p) => p.index)).toEqual([1, 2, 3]);
    for (const p of batch.problems) expect(p.message).not.toContain(String(2n ** 32n + 1n));
  });

  it('refuses huge numbers in Aegis and 2FAS entries as problems of those entries', async () => {
    const aegis = await readAegis([aegisTotp({ digits: 2 ** 53 }), aegisTotp({ period: 2 ** 40 }), aegisTotp({ counter: -1 }, 'hotp'), aegisTotp({})]);
    expect(aegis.entries).toHaveLength(1);
    expect(aegis.problems).toHaveLength(3);
    const twofas = await readTwofas([twofasService({ digits: 1e300 }), twofasService({ period: Number.MAX_SAFE_INTEGER }), twofasService({})]);
    expect(twofas.entries).toHaveLength(1);
    expect(twofas.problems).toHaveLength(2);
  });

  it('refuses huge digits, period and counter parameters in an otpauth URI', () => {
    for (const query of ['digits=4294967296', 'period=99999999999999999999', 'counter=9007199254740993', `digits=${'9'.repeat(400)}`]) {
      const error = thrown(() => parseOtpUri(`otpauth://hotp/x?secret=${SECRET}&${query}`));
      expect(error.code).toBe('INVALID_URI');
      expectOneLine(error.message);
    }
  });
});

describe("2. Steam's shape is enforced by validateOtpParams and every import route", () => {
  const steam = (change: Partial<OtpParams>): OtpParams => ({ ...steamParams(STEAM_SECRET), ...change });

  it('accepts steamParams and refuses any other digits, algorithm or period', () => {
    expect(validateOtpParams(steamParams(STEAM_SECRET))).toEqual(steamParams(STEAM_SECRET));
    for (const change of [{ digits: 6 }, { algorithm: 'SHA256' as const }, { algorithm: 'SHA512' as const }, { period: 60 }, { period: 15 }, { digits: 8, period: 60 }]) {
      const error = thrown(() => validateOtpParams(steam(change)));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/^Steam Guard codes always have 5 characters, SHA1 and a 30-second period/);
    }
  });

  it('names every part of the shape that differs', () => {
    expect(thrown(() => validateOtpParams(steam({ algorithm: 'SHA256', period: 60 }))).message).toContain('this key differs in its algorithm and period.');
  });

  it('refuses a Steam Aegis entry of another shape and reads a proper one', async () => {
    const result = await readAegis([
      aegisTotp({ secret: STEAM_SECRET, digits: 5, period: 60 }, 'steam'),
      aegisTotp({ secret: STEAM_SECRET, digits: 5, algo: 'SHA256' }, 'steam'),
      aegisTotp({ secret: STEAM_SECRET, digits: 6 }, 'steam'),
      aegisTotp({ secret: STEAM_SECRET, digits: 5 }, 'steam'),
    ]);
    expect(result.entries.map((e) => e.otp?.params)).toEqual([steamParams(STEAM_SECRET)]);
    expect(result.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^Steam Guard codes .*differs in its period\.$/),
      expect.stringMatching(/^Steam Guard codes .*differs in its algorithm\.$/),
      expect.stringMatching(/^Steam Guard codes .*differs in its digits\.$/),
    ]);
  });

  it('refuses a 2FAS STEAM service of another shape, and gives one without digits 5', async () => {
    const result = await readTwofas([
      twofasService({ tokenType: 'STEAM', digits: 5, period: 60 }),
      twofasService({ tokenType: 'STEAM', digits: 5, algorithm: 'SHA512' }),
      twofasService({ tokenType: 'STEAM', digits: undefined }),
    ]);
    expect(result.entries.map((e) => e.otp?.params)).toEqual([{ ...steamParams(SECRET) }]);
    expect(result.problems).toHaveLength(2);
    for (const p of result.problems) expect(p.message).toMatch(/^Steam Guard codes/);
  });

  it('refuses encoder=steam with another shape in an otpauth URI, an otpauth list and an Ente export', async () => {
    const odd = [
      `otpauth://totp/Steam:gamer?secret=${STEAM_SECRET}&encoder=steam&period=60`,
      `otpauth://totp/Steam:gamer?secret=${STEAM_SECRET}&encoder=steam&algorithm=SHA256`,
      `otpauth://totp/Steam:gamer?secret=${STEAM_SECRET}&encoder=steam&digits=6`,
    ];
    for (const uri of odd) expect(thrown(() => parseOtpUri(uri)).message).toMatch(/^Steam Guard codes/);
    const list = readOtpauthList([...odd, `otpauth://totp/Steam:gamer?secret=${STEAM_SECRET}&encoder=steam&digits=5&period=30`].join('\n'));
    expect(list.entries.map((e) => e.otp?.params)).toEqual([steamParams(STEAM_SECRET)]);
    expect(list.problems).toHaveLength(3);
    const ente = await readEnte([
      `otpauth://steam/Steam:gamer?algorithm=SHA1&digits=5&issuer=Steam&period=45&secret=${STEAM_SECRET}&codeDisplay=%7B%7D`,
      `otpauth://steam/Steam:gamer?algorithm=SHA1&digits=5&issuer=Steam&period=30&secret=${STEAM_SECRET}&codeDisplay=%7B%7D`,
    ]);
    expect(ente.entries.map((e) => e.otp?.params)).toEqual([steamParams(STEAM_SECRET)]);
    expect(ente.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^Steam Guard codes .*differs in its period\.$/)]);
  });

  it('takes the whole shape when a person switches a key to Steam', () => {
    const resolved = resolveOtpSpec({ uri: `otpauth://totp/x?secret=${STEAM_SECRET}&algorithm=SHA512&digits=8&period=60`, kind: 'steam' });
    expect(resolved.params).toEqual(steamParams(STEAM_SECRET));
  });
});

describe('3. an otpauth label is split before percent-decoding', () => {
  const totp: OtpParams = { kind: 'totp', secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };

  it.each([
    ['an encoded colon in the issuer, with the issuer parameter', `otpauth://totp/ACME%3ACorp:alice?secret=${SECRET}&issuer=ACME%3ACorp`, 'ACME:Corp', 'alice'],
    ['an encoded colon in the issuer, without the parameter', `otpauth://totp/ACME%3ACorp:alice?secret=${SECRET}`, 'ACME:Corp', 'alice'],
    ['an unencoded colon in the issuer, matched by the parameter', `otpauth://totp/ACME:Corp:alice?secret=${SECRET}&issuer=ACME:Corp`, 'ACME:Corp', 'alice'],
    ['only an encoded separator (the Key Uri Format allows %3A)', `otpauth://totp/Example%3Aalice%40google.com?secret=${SECRET}`, 'Example', 'alice@google.com'],
    ['a space after the separator', `otpauth://totp/Example:%20alice?secret=${SECRET}&issuer=Example`, 'Example', 'alice'],
    ['a colon in the account after a plain issuer', `otpauth://totp/Acme:ops%3Aadmin?secret=${SECRET}&issuer=Acme`, 'Acme', 'ops:admin'],
    ['a label that is only an issuer with a colon', `otpauth://totp/ACME%3ACorp?secret=${SECRET}&issuer=ACME%3ACorp`, 'ACME:Corp', 'ACME:Corp'],
  ])('reads %s', (_name, uri, issuer, account) => {
    const parsed = parseOtpUri(uri);
    expect(parsed.issuer).toBe(issuer);
    expect(parsed.account).toBe(account);
  });

  const awkward = ['ACME:Corp', 'a:b:c', '100% sure', 'what?', 'C#', 'R&D', 'two words', 'Jürgen & Söhne', '東京:銀行', 'plus+sign', 'literal %3A text', 'x%y'];
  const cases: OtpUri[] = [
    ...awkward.map((issuer, i): OtpUri => ({ params: totp, issuer, account: awkward[(i + 1) % awkward.length] ?? '', extra: [] })),
    ...awkward.map((account): OtpUri => ({ params: totp, account, extra: [] })),
    { params: totp, issuer: 'Only:Issuer', account: '', extra: [] },
    { params: { ...totp, kind: 'hotp', counter: 7 }, issuer: 'ACME%3ACorp', account: 'a%3Ab', extra: [['note', 'a:b&c=d#e']] },
  ];

  it.each(cases)('round-trips issuer $issuer, account $account through buildOtpUri and parseOtpUri', (parts) => {
    expect(parseOtpUri(buildOtpUri(parts))).toEqual(parts);
  });

  it('round-trips an issuer with a colon through a Google Authenticator export', () => {
    const entries = [{ params: totp, issuer: 'ACME:Corp', account: 'alice' }, { params: totp, issuer: 'Plain', account: 'x:y' }];
    expect(parseMigrationUri(buildMigrationUri(entries)).entries).toEqual(entries);
  });

  it('keeps an issuer colon out of a 2FAS label\'s account', async () => {
    const result = await readTwofas([{ name: 'ACME:Corp', secret: SECRET, otp: { label: 'ACME:Corp:alice', issuer: 'ACME:Corp', tokenType: 'TOTP' } }]);
    expect(result.entries[0]?.username).toBe('alice');
  });
});

describe('4. no message repeats text from the file', () => {
  it.each([
    ['digits', `otpauth://totp/x?secret=${SECRET}&digits=${PLANTED}`],
    ['digits, all figures', `otpauth://totp/x?secret=${SECRET}&digits=12345678901234`],
    ['period', `otpauth://totp/x?secret=${SECRET}&period=${PLANTED}`],
    ['counter', `otpauth://hotp/x?secret=${SECRET}&counter=-${PLANTED}`],
    ['algorithm', `otpauth://totp/x?secret=${SECRET}&algorithm=${PLANTED}`],
    ['encoder', `otpauth://totp/x?secret=${SECRET}&encoder=${PLANTED}`],
    ['type', `otpauth://${PLANTED}/x?secret=${SECRET}`],
    ['scheme', `${PLANTED}://x?secret=${SECRET}`],
    ['unknown parameter with broken encoding', `otpauth://totp/x?secret=${SECRET}&${PLANTED}=%zz`],
    ['known parameter with broken encoding', `otpauth://totp/x?secret=${SECRET}&issuer=${PLANTED}%zz`],
    ['steam digits', `otpauth://totp/x?secret=${STEAM_SECRET}&encoder=steam&digits=12345678901234`],
  ])('parseOtpUri names the %s, not its value', (_name, uri) => {
    const error = thrown(() => parseOtpUri(uri));
    expect(error.message).not.toContain(PLANTED);
    expect(error.message).not.toContain('12345678901234');
    expectOneLine(error.message);
  });

  it('keeps the error codes: INVALID_URI for the URI, INVALID_SECRET for the key', () => {
    expect(thrown(() => parseOtpUri(`otpauth://totp/x?secret=${SECRET}&digits=${PLANTED}`)).code).toBe('INVALID_URI');
    expect(thrown(() => parseOtpUri('otpauth://totp/x?secret=JBSW0Y3DPEHPK3PXP')).code).toBe('INVALID_SECRET');
  });

  it('validateOtpParams names the field, not its value', () => {
    const base: OtpParams = { kind: 'totp', secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };
    const bad = [
      { ...base, kind: PLANTED },
      { ...base, algorithm: PLANTED },
      { ...base, digits: 7654321 },
      { ...base, period: 7654321 },
      { ...base, counter: -7654321 },
      { ...base, kind: 'steam', digits: 7654321 },
    ] as unknown as OtpParams[];
    for (const params of bad) {
      const error = thrown(() => validateOtpParams(params));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).not.toContain(PLANTED);
      expect(error.message).not.toContain('7654321');
    }
  });

  it('the Aegis importer does not quote a type, algorithm or number field', async () => {
    const result = await readAegis([
      aegisTotp({}, PLANTED),
      aegisTotp({ algo: PLANTED }),
      aegisTotp({ digits: PLANTED }),
      aegisTotp({ period: PLANTED }),
      aegisTotp({ counter: PLANTED }, 'hotp'),
      aegisTotp({ algo: { nested: PLANTED } }),
    ]);
    expect(result.problems).toHaveLength(6);
    expect(said(result)).not.toContain(PLANTED);
  });

  it('the 2FAS importer does not quote a token type, algorithm or number field', async () => {
    const result = await readTwofas([
      twofasService({ tokenType: PLANTED }),
      twofasService({ algorithm: PLANTED }),
      twofasService({ digits: PLANTED }),
      twofasService({ period: PLANTED }),
      twofasService({ tokenType: 'HOTP', counter: PLANTED }),
      twofasService({ tokenType: [PLANTED] }),
    ]);
    expect(result.problems).toHaveLength(6);
    expect(said(result)).not.toContain(PLANTED);
  });

  it('the Ente and otpauth list importers do not quote a parameter', async () => {
    const lines = [
      `otpauth://totp/Acme:a?secret=${SECRET}&digits=${PLANTED}&codeDisplay=%7B%7D`,
      `otpauth://totp/Acme:a?secret=${SECRET}&algorithm=${PLANTED}&codeDisplay=%7B%7D`,
      `otpauth://${PLANTED}/Acme:a?secret=${SECRET}&codeDisplay=%7B%7D`,
    ];
    const ente = await readEnte(lines);
    expect(ente.problems).toHaveLength(3);
    expect(said(ente)).not.toContain(PLANTED);
    const list = readOtpauthList(lines.join('\n'));
    expect(list.problems).toHaveLength(3);
    expect(said(list)).not.toContain(PLANTED);
  });
});
