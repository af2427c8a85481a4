// A Google Authenticator export built byte by byte here, with its own protobuf writer, so the
// parser is checked against the wire format rather than against its own builder.
import { describe, expect, it } from 'vitest';
import { buildMigrationUri, decodeSecret, encodeSecret, parseMigrationUri, type MigrationEntry } from '../../shared/otp';
import { varint } from '../support/protobuf-bytes';

const bytesField = (field: number, bytes: Uint8Array | string): number[] => {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return [...varint((field << 3) | 2), ...varint(data.length), ...data];
};
const numberField = (field: number, value: number | bigint): number[] => [...varint(field << 3), ...varint(value)];

interface RawEntry { secret?: Uint8Array; name: string; issuer: string; algorithm: number; digits: number; type: number; counter: number }
function otpParameters(e: RawEntry): number[] {
  return [
    ...(e.secret ? bytesField(1, e.secret) : []),
    ...bytesField(2, e.name),
    ...bytesField(3, e.issuer),
    ...numberField(4, e.algorithm),
    ...numberField(5, e.digits),
    ...numberField(6, e.type),
    ...numberField(7, e.counter),
  ];
}
function exportUri(entries: RawEntry[], trailer: number[] = []): string {
  const payload = [
    ...entries.flatMap((e) => bytesField(1, Uint8Array.from(otpParameters(e)))),
    ...numberField(2, 1), ...numberField(3, 2), ...numberField(4, 1), ...numberField(5, -7 >>> 0),
    ...trailer,
  ];
  return `otpauth-migration://offline?data=${encodeURIComponent(Buffer.from(payload).toString('base64'))}`;
}

const key1 = Buffer.from('12345678901234567890');
const key2 = Buffer.from('Hi!\xde\xad\xbe\xef\x00', 'latin1'); // 64 bits: under the 80-bit warning line

describe('parseMigrationUri', () => {
  const uri = exportUri([
    { secret: key1, name: 'ops@acme.com', issuer: 'Acme Corp', algorithm: 1, digits: 1, type: 2, counter: 0 },
    { secret: key2, name: 'Jürgen GmbH:jü@x.de', issuer: '', algorithm: 2, digits: 2, type: 1, counter: 5 },
    { secret: key1, name: 'legacy', issuer: 'Old', algorithm: 4, digits: 1, type: 2, counter: 0 },
    { name: 'empty', issuer: 'Nobody', algorithm: 1, digits: 1, type: 2, counter: 0 },
    { secret: key1, name: 'defaults', issuer: '', algorithm: 0, digits: 0, type: 0, counter: 0 },
  ], [...numberField(9, 3), ...bytesField(10, 'unknown field, skipped')]);

  const batch = parseMigrationUri(uri);

  it('reads every good entry with its name, issuer, secret, algorithm, digits, type and counter', () => {
    expect(batch.entries).toEqual([
      { params: { kind: 'totp', secret: encodeSecret(key1), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'Acme Corp', account: 'ops@acme.com' },
      {
        params: { kind: 'hotp', secret: encodeSecret(key2), algorithm: 'SHA256', digits: 8, period: 30, counter: 5 },
        issuer: 'Jürgen GmbH',
        account: 'jü@x.de',
        warning: { code: 'SHORT_SECRET', message: expect.stringContaining('64 bits') as string },
      },
      { params: { kind: 'totp', secret: encodeSecret(key1), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, account: 'defaults' },
    ]);
    expect(Array.from(decodeSecret(batch.entries[1]?.params.secret ?? ''))).toEqual(Array.from(key2));
  });

  it('reports each bad entry by position without sinking the others', () => {
    expect(batch.problems).toEqual([
      { index: 3, message: 'Entry 3 skipped: it uses MD5, which Crewvault does not support' },
      { index: 4, message: 'Entry 4 skipped: it has no secret key' },
    ]);
  });

  it('reads the batch position of a split export', () => {
    expect(batch.batchSize).toBe(2);
    expect(batch.batchIndex).toBe(1);
  });

  it('accepts raw "+" and "/" in the data (base64, not form encoding)', () => {
    const raw = uri.replace(/%2B/g, '+').replace(/%2F/g, '/').replace(/%3D/g, '=');
    expect(parseMigrationUri(raw).entries).toHaveLength(3);
  });

  it.each([
    ['otpauth://totp/x?secret=AAAA', /should start with otpauth-migration:\/\/offline\?data=/],
    ['otpauth-migration://offline?foo=1', /no data parameter/],
    ['otpauth-migration://offline?data=!!!!', /damaged/],
    [`otpauth-migration://offline?data=${encodeURIComponent(Buffer.from([0x0a, 0x20, 0x01]).toString('base64'))}`, /damaged/],
  ])('refuses %s', (input, message) => {
    expect(() => parseMigrationUri(input)).toThrow(message);
  });
});

describe('buildMigrationUri', () => {
  it('round-trips through the parser', () => {
    const entries: MigrationEntry[] = [
      { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', algorithm: 'SHA512', digits: 8, period: 30, counter: 0 }, issuer: 'Acme', account: 'a@acme.com' },
      { params: { kind: 'hotp', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA1', digits: 6, period: 30, counter: 2 ** 40 }, account: 'no-issuer' },
    ];
    expect(parseMigrationUri(buildMigrationUri(entries)).entries).toEqual(entries);
  });

  it('refuses what the format cannot hold', () => {
    const steam: MigrationEntry = { params: { kind: 'steam', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 5, period: 30, counter: 0 }, account: 'x' };
    expect(() => buildMigrationUri([steam])).toThrow(/only 6- or 8-digit/);
  });
});
