// QR code images on the import path (issue #12): a Google Authenticator export split over
// three QR pages, its protobuf written here byte by byte (from the format's public
// description) and drawn by qrencode (1-bit palette PNGs, and 8-bit RGBA with -t PNG32),
// decoded by electron/import/png.ts and jsQR; the codes checked against the list oathtool
// computed. `crewvault import a.png b.png …` joins the pages and names one missing.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { readQrImages } from '../../electron/import/qr-images';
import { decodePng } from '../../electron/import/png';
import { IMPORTERS } from '../../electron/import/registry';
import { chooseImporter } from '../../shared/import/registry';
import { hotpCode, totpCode } from '../../shared/otp';
import { CODES_AT_MS, EXPECTED_ENTRIES, type ExpectedEntry } from '../fixtures/import/expected';
import { crewvault } from '../support/cli';
import { base32Bytes } from '../support/totp';
import { tempFolder } from '../support/vault';

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
const bytesField = (field: number, data: Uint8Array): number[] => [...varint((field << 3) | 2), ...varint(data.length), ...data];
const numberField = (field: number, value: number): number[] => [...varint(field << 3), ...varint(value)];

/** Google's MigrationPayload.OtpParameters: algorithm 1 SHA1, 2 SHA256, 3 SHA512; digits 1 six, 2 eight; type 1 HOTP, 2 TOTP. */
function otpParameters(e: ExpectedEntry): number[] {
  const algorithm = { SHA1: 1, SHA256: 2, SHA512: 3 }[e.otp.algorithm];
  return [
    ...bytesField(1, base32Bytes(e.otp.secret)),
    ...bytesField(2, Buffer.from(e.username ?? e.title)),
    ...bytesField(3, Buffer.from(e.title)),
    ...numberField(4, algorithm),
    ...numberField(5, e.otp.digits === 8 ? 2 : 1),
    ...numberField(6, e.otp.kind === 'hotp' ? 1 : 2),
    ...numberField(7, e.otp.counter),
  ];
}

function page(entries: readonly ExpectedEntry[], index: number, size: number): string {
  const payload = [...entries.flatMap((e) => bytesField(1, Uint8Array.from(otpParameters(e)))), ...numberField(2, 1), ...numberField(3, size), ...numberField(4, index), ...numberField(5, 4242)];
  return `otpauth-migration://offline?data=${encodeURIComponent(Buffer.from(payload).toString('base64'))}`;
}

/** What Google's export can hold of the list: 6 or 8 digits, 30 s, no Steam. */
const GOOGLE = EXPECTED_ENTRIES.filter((e) => e.otp.kind !== 'steam' && e.otp.period === 30 && (e.otp.digits === 6 || e.otp.digits === 8));
const PAGES = [GOOGLE.slice(0, 1), GOOGLE.slice(1, 2), GOOGLE.slice(2)].map((entries, i, all) => page(entries, i, all.length));

let folder: string;
let files: string[];

beforeEach(() => {
  folder = tempFolder();
  files = PAGES.map((uri, i) => {
    const file = path.join(folder, `page${i + 1}.png`);
    execFileSync('qrencode', [...(i === 1 ? ['-t', 'PNG32'] : []), '-o', file, uri]);
    return file;
  });
});

/** A white 8×8 RGB PNG with no QR code in it, written here from the PNG specification. */
function blankPng(): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([head, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(8, 0);
  header.writeUInt32BE(8, 4);
  header[8] = 8;
  header[9] = 2;
  const rows = Buffer.concat(Array.from({ length: 8 }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(24, 0xff)])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describe('QR code images', () => {
  it('decodes qrencode\'s 1-bit palette and 8-bit RGBA PNGs to black modules on white', () => {
    for (const file of files.slice(0, 2)) {
      const image = decodePng(readFileSync(file), 'It');
      const values = new Set(image.data);
      expect(values.has(0) && values.has(255)).toBe(true);
    }
  });

  it('joins a three-page Google export, every code as oathtool computed it', () => {
    const bytes = readFileSync(files[0] ?? '');
    expect(chooseImporter(IMPORTERS, 'auto', bytes).name).toBe('qr');
    const read = readQrImages(files.map((file) => ({ name: path.basename(file), bytes: readFileSync(file) })));
    expect(read.problems).toEqual([]);
    expect(read.entries.map((e) => e.title)).toEqual(GOOGLE.map((e) => e.title));
    read.entries.forEach((entry, i) => {
      const expected = GOOGLE[i];
      const params = entry.otp?.params;
      if (!expected || !params) throw new Error('missing entry');
      expect(params.secret).toBe(expected.otp.secret);
      expect(params.kind === 'hotp' ? hotpCode(params).code : totpCode(params, CODES_AT_MS).code).toBe(expected.code);
    });
    expect(read.where).toEqual(['image 1 (page1.png)', 'image 2 (page2.png)', ...GOOGLE.slice(2).map(() => 'image 3 (page3.png)')]);
  });

  it('names an image with no QR code, and a damaged one, and still reads the rest', () => {
    const cut = readFileSync(files[2] ?? '').subarray(0, 200);
    const read = readQrImages([
      { name: 'page1.png', bytes: readFileSync(files[0] ?? '') },
      { name: 'blank.png', bytes: blankPng() },
      { name: 'cut.png', bytes: cut },
    ]);
    expect(read.entries.map((e) => e.title)).toEqual([GOOGLE[0]?.title]);
    expect(read.problems).toEqual([
      { where: 'image 2 (blank.png)', message: 'No QR code found in it.' },
      { where: 'image 3 (cut.png)', message: 'It is not a readable PNG image (cut short).' },
      { where: 'Google export', message: 'pages 2, 3 of 3 are missing: export or scan them too.' },
    ]);
  });
});

describe('crewvault import with QR code images', () => {
  const PW = 'pw for the tests';

  it('names the page missing and imports nothing; told to skip it, imports the pages given and takes it later', () => {
    const vault = path.join(folder, 'team.crewvault');
    expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
    const stopped = crewvault(['import', '--vault', vault, files[0] ?? '', files[2] ?? '', '--customer', 'Phones'], { input: `${PW}\n` });
    expect(stopped.stderr).toBe(`crewvault: cannot import: Google export: page 2 of 3 is missing: export or scan it too.\ncrewvault: INVALID_INPUT: 1 entry cannot be imported (listed above), so nothing was imported: fix them, or pass --skip-bad to import the other ${GOOGLE.length - 1} entries without them.\n`);
    expect(stopped.status).toBe(1);
    expect(crewvault(['list', '--vault', vault], { input: `${PW}\n` }).stdout).toBe('');
    const partial = crewvault(['import', '--vault', vault, files[0] ?? '', files[2] ?? '', '--customer', 'Phones', '--skip-bad'], { input: `${PW}\n` });
    expect(partial.stderr).toBe('crewvault: skipped: Google export: page 2 of 3 is missing: export or scan it too.\n');
    expect(partial.stdout).toBe(`Imported ${GOOGLE.length - 1} entries; skipped 1 entry.\n`);
    expect(partial.status).toBe(1);
    // Alone, page 2 goes in; the others are named as missing from what was given this time.
    const rest = crewvault(['import', '--vault', vault, files[1] ?? '', '--customer', 'Phones', '--skip-bad'], { input: `${PW}\n` });
    expect(rest.stderr).toBe('crewvault: skipped: Google export: pages 1, 3 of 3 are missing: export or scan them too.\n');
    expect(rest.stdout).toBe('Imported 1 entry; skipped 1 entry.\n');
    const listed = crewvault(['list', '--vault', vault], { input: `${PW}\n` }).stdout;
    for (const e of GOOGLE) expect(listed).toContain(`Phones/${e.title}`);
  });

  it('refuses, before any sign-in, several FILEs that are not all QR images', () => {
    const text = path.join(folder, 'list.txt');
    writeFileSync(text, 'otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP\n');
    const refused = crewvault(['import', '--vault', path.join(folder, 'none.crewvault'), files[0] ?? '', text]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^crewvault: USAGE: several FILEs are read only as QR code images \(PNG\), and .*list\.txt is not one/);
  });
});
