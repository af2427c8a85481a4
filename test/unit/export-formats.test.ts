// The shared exporters (issue #12) against one list of opened entries, each read back by the
// importer of the same name: what the format holds comes back unchanged (awkward characters
// included), what it cannot hold is left out as its header says, and its shape is the one the
// other app writes (KeePassXC's CSV header, Aegis's vault versions).
import { describe, expect, it } from 'vitest';
import { utf8Decode } from '../../shared/bytes';
import { aegisExporter } from '../../shared/export/aegis';
import { KEEPASSXC_CSV_HEADER, keepassxcCsvExporter } from '../../shared/export/keepassxc-csv';
import { entryOtpUri, otpauthExporter } from '../../shared/export/otpauth';
import { SHARED_EXPORTERS } from '../../shared/export/registry';
import type { ExportEntry } from '../../shared/export/types';
import { aegisImporter } from '../../shared/import/aegis';
import { keepassxcCsvImporter } from '../../shared/import/keepassxc-csv';
import { otpauthImporter } from '../../shared/import/otpauth';
import { SHARED_IMPORTERS } from '../../shared/import/registry';
import type { ImportCrypto, ImportedEntry } from '../../shared/import/types';
import type { OtpParams } from '../../shared/otp';

const AT = Date.UTC(2026, 10, 30, 5, 24, 36);
const totp = (secret: string, more: Partial<OtpParams> = {}): OtpParams => ({ kind: 'totp', secret, algorithm: 'SHA1', digits: 6, period: 30, counter: 0, ...more });

const ENTRIES: readonly ExportEntry[] = [
  {
    customer: 'Acme', title: 'GitHub', username: 'ops@acme.example', password: 'gh"pass,1', url: 'https://github.com/login',
    notes: 'two\nlines, "quoted"', otp: { params: totp('AXQCRFCDTWMS2LD33TLURK3XM3DML25C'), issuer: 'GitHub' }, createdAt: AT, updatedAt: AT + 1000,
  },
  {
    customer: 'Acme', title: 'VPN', username: 'helpdesk', password: '', url: '', notes: '',
    otp: { params: { kind: 'hotp', secret: 'H2OYLADPBTSCKEQ2N4QOVHM7I5VDZK26', algorithm: 'SHA256', digits: 8, period: 30, counter: 42 } }, createdAt: AT, updatedAt: AT,
  },
  {
    customer: 'Zürcher Bank', title: 'Steam', username: '', password: '', url: '', notes: 'ünïcode ✓',
    otp: { params: { kind: 'steam', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA1', digits: 5, period: 30, counter: 0 }, issuer: 'Steam' }, createdAt: AT, updatedAt: AT,
  },
  {
    customer: 'Zürcher Bank', title: 'Admin: portal', username: 'a:b', password: 'p', url: 'https://bank.example', notes: '',
    otp: { params: totp('UYZK25ND42CGRS36QE23R5TEQMCGLKAD', { algorithm: 'SHA512', digits: 8, period: 60 }) }, createdAt: AT, updatedAt: AT,
  },
  { customer: 'Acme', title: 'Router', username: 'admin', password: 'r0uter', url: 'http://10.0.0.1', notes: 'Rack 4', otp: null, createdAt: AT, updatedAt: AT },
];
const WITH_OTP = ENTRIES.filter((e) => e.otp);

let uuids = 0;
const OPTIONS = { randomUuid: () => `00000000-0000-4000-8000-${String(++uuids).padStart(12, '0')}` };
// The plain formats need no cryptography to read.
const NO_CRYPTO = {} as ImportCrypto;

async function roundTrip(exporter: typeof otpauthExporter, importer: typeof otpauthImporter): Promise<ImportedEntry[]> {
  const bytes = await exporter.write(ENTRIES, OPTIONS);
  expect(importer.detect(bytes)).toBe(true);
  const read = await importer.read(bytes, { crypto: NO_CRYPTO });
  expect(read.problems).toEqual([]);
  expect(read.warnings).toEqual([]);
  return read.entries;
}

describe('shared exporters', () => {
  it('each is named after the importer that reads it back, and auto-detection agrees', async () => {
    for (const exporter of SHARED_EXPORTERS) {
      const bytes = await exporter.write(ENTRIES, OPTIONS);
      expect(SHARED_IMPORTERS.find((i) => i.detect(bytes))?.name).toBe(exporter.name);
    }
  });

  it('otpauth: one URI per OTP entry, issuer (else customer) and account (else title)', async () => {
    const text = utf8Decode(await otpauthExporter.write(ENTRIES, OPTIONS));
    expect(text.split('\n')).toEqual([...WITH_OTP.map((e) => entryOtpUri(e)), '']);
    expect(text).toContain('otpauth://hotp/Acme:helpdesk?secret=H2OYLADPBTSCKEQ2N4QOVHM7I5VDZK26&issuer=Acme&algorithm=SHA256&digits=8&counter=42\n');
    const back = await roundTrip(otpauthExporter, otpauthImporter);
    expect(back).toEqual(WITH_OTP.map((e) => {
      const issuer = e.otp?.issuer ?? e.customer;
      return { customer: issuer, title: issuer, username: e.username || e.title, otp: { params: e.otp?.params, issuer } };
    }));
  });

  it('aegis: plain vault file 1, content 3, a group per customer, title as issuer', async () => {
    uuids = 0;
    const json = JSON.parse(utf8Decode(await aegisExporter.write(ENTRIES, OPTIONS))) as {
      version: number; header: unknown; db: { version: number; groups: unknown[]; entries: Array<{ type: string; info: Record<string, unknown> }> };
    };
    expect(json.version).toBe(1);
    expect(json.header).toEqual({ slots: null, params: null });
    expect(json.db.version).toBe(3);
    expect(json.db.groups).toEqual([
      { uuid: '00000000-0000-4000-8000-000000000001', name: 'Acme' },
      { uuid: '00000000-0000-4000-8000-000000000004', name: 'Zürcher Bank' },
    ]);
    expect(json.db.entries.map((e) => e.type)).toEqual(['totp', 'hotp', 'steam', 'totp']);
    expect(json.db.entries[1]?.info).toEqual({ secret: 'H2OYLADPBTSCKEQ2N4QOVHM7I5VDZK26', algo: 'SHA256', digits: 8, counter: 42 });
    const back = await roundTrip(aegisExporter, aegisImporter);
    expect(back).toEqual(WITH_OTP.map((e) => ({
      customer: e.customer,
      title: e.title,
      ...(e.username ? { username: e.username } : {}),
      ...(e.notes ? { notes: e.notes } : {}),
      otp: { params: e.otp?.params, issuer: e.title },
    })));
  });

  it('keepassxc-csv: KeePassXC\'s header, every entry, every field quoted, reads back whole', async () => {
    const text = utf8Decode(await keepassxcCsvExporter.write(ENTRIES, OPTIONS));
    expect(text.split('\n')[0]).toBe(KEEPASSXC_CSV_HEADER.map((h) => `"${h}"`).join(','));
    expect(text).toContain('"Root/Acme","GitHub","ops@acme.example","gh""pass,1","https://github.com/login","two\nlines, ""quoted""",');
    expect(text).toContain('"0","2026-11-30T05:24:37Z","2026-11-30T05:24:36Z","yes"\n');
    const back = await roundTrip(keepassxcCsvExporter, keepassxcCsvImporter);
    expect(back).toEqual(ENTRIES.map((e) => ({
      customer: e.customer,
      title: e.title,
      ...(e.username ? { username: e.username } : {}),
      ...(e.password ? { password: e.password } : {}),
      ...(e.url ? { url: e.url } : {}),
      ...(e.notes ? { notes: e.notes } : {}),
      ...(e.otp ? { otp: { params: e.otp.params, issuer: e.otp.issuer ?? e.customer } } : {}),
    })));
  });

  it('an empty vault exports a valid empty file in every format', async () => {
    for (const exporter of SHARED_EXPORTERS) {
      const bytes = await exporter.write([], OPTIONS);
      if (exporter.name === 'otpauth') expect(bytes.length).toBe(0);
      else expect((await SHARED_IMPORTERS.find((i) => i.name === exporter.name)?.read(bytes, { crypto: NO_CRYPTO }))?.entries).toEqual([]);
    }
  });
});
