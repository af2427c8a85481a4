/**
 * The streaming .kdbx reader (electron/import/kdbx*.ts) against kdbxweb's DOM reader, the one
 * it replaced, kept here as the oracle: the same entries, problems, warnings and places, on
 * databases that hold what the fixtures do not — history with protected values (the inner
 * stream must be taken in document order, history included), attachments (inner header in
 * KDBX 4, Meta ▸ Binaries in 3.1), nested groups, a Recycle Bin, every KDF and cipher and no
 * compression — written by keepassxc-cli (KDBX 3.1, and its XML export wrapped as KDBX 4) and
 * by kdbxweb. Then the bounds: a decompression bomb, a text that never ends, and the KDBX 3.1
 * header hash; and the Salsa20 written out for KDBX 3.1 against kdbxweb's.
 */
import '../../electron/import/kdbxweb-argon2'; // kdbxweb writes and reads the reference databases with Argon2
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as kdbxweb from 'kdbxweb';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeImportCrypto } from '../../electron/import/crypto';
import { kdbxImporter, readKdbx } from '../../electron/import/kdbx';
import { readKdbxHeader } from '../../electron/import/kdbx-header';
import { Salsa20 } from '../../electron/import/kdbx-inner-stream';
import { KeePassXmlReader } from '../../electron/import/kdbx-xml';
import { KDBX_LIMITS } from '../../electron/import/kdbx-payload';
import { CrewvaultError } from '../../shared/errors';
import { KeePassCollector, type KeePassEntryFields } from '../../shared/import/keepassxc-csv';
import type { ImportResult } from '../../shared/import/types';
import { exportXml, headerField, importXml, kdbx4Container, u32, writeKdbx4 } from '../bench/keepass';

const PASSWORD = 'stream-test pass';
const FAST_ARGON2 = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
const dir = mkdtempSync(path.join(tmpdir(), 'crewvault-kdbx-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What electron/import/kdbx.ts did before it streamed: kdbxweb's DOM, walked the same way. */
async function oracle(data: Uint8Array, password: string): Promise<ImportResult> {
  const db = await kdbxweb.Kdbx.load(new Uint8Array(data).buffer, new kdbxweb.KdbxCredentials(kdbxweb.ProtectedValue.fromString(password)));
  const text = (entry: kdbxweb.KdbxEntry, name: string): string | undefined => {
    const value = entry.fields.get(name);
    return value === undefined ? undefined : typeof value === 'string' ? value : value.getText();
  };
  const fields = (entry: kdbxweb.KdbxEntry, groups: readonly string[]): KeePassEntryFields => ({
    groups,
    title: text(entry, 'Title') ?? '',
    username: text(entry, 'UserName') ?? '',
    password: text(entry, 'Password') ?? '',
    url: text(entry, 'URL') ?? '',
    notes: text(entry, 'Notes') ?? '',
    field: (name) => text(entry, name),
  });
  const collector = new KeePassCollector();
  const bin = db.meta.recycleBinEnabled ? db.meta.recycleBinUuid : undefined;
  const walk = (group: kdbxweb.KdbxGroup, trail: readonly string[], inBin: boolean): void => {
    for (const entry of group.entries) collector.add(fields(entry, trail), inBin);
    for (const child of group.groups) walk(child, [...trail, child.name ?? ''], inBin || (bin !== undefined && child.uuid.equals(bin)));
  };
  walk(db.getDefaultGroup(), [], false);
  return collector.result('kdbx');
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

const SECRETS = ['JBSWY3DPEHPK3PXP', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'KRUGKIDROVUWG2ZAMJZG653OEBTG66BA'];

// ---- keepassxc-cli ------------------------------------------------------------------------

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const uuid = (): string => randomBytes(16).toString('base64');

/** KeePass 2.x XML with what the fixtures lack: history whose passwords are protected, nested groups, a bin. */
function keepassXmlWithHistory(count: number): string {
  const str = (key: string, value: string, protect = false): string =>
    `<String><Key>${key}</Key><Value${protect ? ' ProtectInMemory="True"' : ''}>${xmlEscape(value)}</Value></String>`;
  const entry = (i: number, history: number): string => {
    const own = [
      str('Title', `Service ${i} — ü & <b>`),
      str('UserName', `user${i}@example.com`),
      str('Password', `pw-${i}-${'x'.repeat(i % 40)}`, true),
      str('URL', `https://service${i}.example.com`),
      str('Notes', i % 3 === 0 ? `line one\nline two of ${i}` : ''),
      i % 2 === 0 ? str('otp', `otpauth://totp/Service%20${i}:user${i}?secret=${SECRETS[i % 3] ?? ''}&issuer=Service%20${i}`, true) : '',
      i % 5 === 0 ? str('Custom secret', `custom ${i}`, true) : '',
    ].join('');
    const older = Array.from({ length: history }, (_, h) =>
      `<Entry><UUID>${uuid()}</UUID>${str('Title', `Service ${i} (old ${h})`)}${str('Password', `old-${h}-${i}`, true)}${str('otp', `otpauth://totp/x?secret=${SECRETS[h % 3] ?? ''}`, true)}</Entry>`).join('');
    return `<Entry><UUID>${uuid()}</UUID>${own}${history > 0 ? `<History>${older}</History>` : ''}</Entry>`;
  };
  const bin = uuid();
  const out = [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><KeePassFile><Meta><Generator>stream test</Generator>',
    '<MemoryProtection><ProtectTitle>False</ProtectTitle><ProtectUserName>False</ProtectUserName><ProtectPassword>True</ProtectPassword><ProtectURL>False</ProtectURL><ProtectNotes>False</ProtectNotes></MemoryProtection>',
    `<RecycleBinEnabled>True</RecycleBinEnabled><RecycleBinUUID>${bin}</RecycleBinUUID></Meta><Root><Group><UUID>${uuid()}</UUID><Name>Root</Name>`,
    entry(0, 1),
  ];
  let i = 1;
  for (const customer of ['Acme & Sons', 'Globex', 'Müller GmbH']) {
    out.push(`<Group><UUID>${uuid()}</UUID><Name>${xmlEscape(customer)}</Name>`);
    for (const end = i + Math.floor(count / 3); i < end; i++) out.push(entry(i, i % 4));
    out.push(`<Group><UUID>${uuid()}</UUID><Name>Servers</Name>${entry(i++, 2)}</Group></Group>`);
  }
  out.push(`<Group><UUID>${bin}</UUID><Name>Recycle Bin</Name>${entry(i, 1)}</Group>`);
  out.push('</Group></Root></KeePassFile>');
  return out.join('');
}

describe('databases written by keepassxc-cli, read the same as kdbxweb read them', () => {
  const xmlFile = path.join(dir, 'history.xml');
  const kdbx3 = path.join(dir, 'history-kdbx3.kdbx');
  const kdbx4 = path.join(dir, 'history-kdbx4.kdbx');
  let made: Promise<void> | undefined;
  const make = (): Promise<void> => {
    made ??= (async () => {
      writeFileSync(xmlFile, keepassXmlWithHistory(300));
      importXml(xmlFile, kdbx3, PASSWORD, 100); // its least: KDBX 3.1, AES-KDF, Salsa20 protected values
      const exported = path.join(dir, 'exported.xml');
      exportXml(kdbx3, PASSWORD, exported);
      await writeKdbx4(kdbx4, readFileSync(exported, 'utf8'), PASSWORD, FAST_ARGON2); // ChaCha20
    })();
    return made;
  };

  it('writes its XML in the order the reader converts entries as they close (no second read)', async () => {
    await make();
    const reader = new KeePassXmlReader({ stream: { xor: () => { throw new Error('nothing here is Protected'); } }, mode: 'stream', maxTextChars: KDBX_LIMITS.maxTextChars });
    // keepassxc-cli's export marks protected values ProtectInMemory, in clear: no stream needed.
    expect(() => reader.write(readFileSync(path.join(dir, 'exported.xml'), 'utf8'))).not.toThrow();
    expect(reader.finish().entries).toHaveLength(304);
  });

  it.each([['KDBX 3.1 (keepassxc-cli import)', kdbx3, 3], ['KDBX 4 (its XML export, wrapped)', kdbx4, 4]])('%s', async (_name, file, major) => {
    await make();
    const data = new Uint8Array(readFileSync(file));
    expect(readKdbxHeader(data).major).toBe(major);
    const streamed = await readKdbx(data, PASSWORD);
    expect(streamed).toEqual(await oracle(data, PASSWORD));
    // Not vacuous: every entry outside the bin came through, each password from the inner stream.
    expect(streamed.entries).toHaveLength(304);
    expect(streamed.entries.find((e) => e.title.startsWith('Service 150 '))).toMatchObject({ customer: 'Globex', password: `pw-150-${'x'.repeat(30)}`, username: 'user150@example.com' });
    expect(streamed.warnings).toEqual(['1 entry in the Recycle Bin left out.']);
  });
});

// ---- kdbxweb, every variant -------------------------------------------------------------------

interface Variant {
  readonly version: 3 | 4;
  readonly kdf?: string;
  readonly chacha20?: boolean;
  readonly gzip: boolean;
}

async function kdbxwebDatabase(variant: Variant): Promise<Uint8Array> {
  const protect = (text: string): kdbxweb.ProtectedValue => kdbxweb.ProtectedValue.fromString(text);
  const db = kdbxweb.Kdbx.create(new kdbxweb.KdbxCredentials(protect(PASSWORD)), 'Stream test');
  db.setVersion(variant.version);
  if (variant.version === 3) db.header.keyEncryptionRounds = 2000;
  if (variant.kdf !== undefined) db.setKdf(variant.kdf);
  if (variant.kdf === kdbxweb.Consts.KdfId.Aes) db.header.kdfParameters?.set('R', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(2000));
  if (variant.chacha20) db.header.dataCipherUuid = new kdbxweb.KdbxUuid(kdbxweb.Consts.CipherId.ChaCha20);
  db.header.compression = variant.gzip ? kdbxweb.Consts.CompressionAlgorithm.GZip : kdbxweb.Consts.CompressionAlgorithm.None;

  const root = db.getDefaultGroup();
  const acme = db.createGroup(root, 'Acme & <Sons>');
  const servers = db.createGroup(acme, 'Servers');
  const globex = db.createGroup(root, 'Globex');
  const attachment = await db.createBinary(protect('-----BEGIN PRIVATE KEY-----'));
  const plainAttachment = await db.createBinary(new TextEncoder().encode('a plain attachment').buffer);
  const add = (group: kdbxweb.KdbxGroup, fields: Record<string, string | kdbxweb.ProtectedValue>, older: readonly string[] = []): kdbxweb.KdbxEntry => {
    const entry = db.createEntry(group);
    // Each earlier password is pushed to the history (protected there too), then replaced.
    for (const password of older) {
      entry.fields.set('Password', protect(password));
      entry.fields.set('otp', protect(`otpauth://totp/old?secret=${SECRETS[1] ?? ''}`));
      entry.pushHistory();
    }
    for (const [name, value] of Object.entries(fields)) entry.fields.set(name, value);
    return entry;
  };
  for (let i = 0; i < 60; i++) {
    const group = [root, acme, servers, globex][i % 4] ?? root;
    const entry = add(group, {
      Title: `Entry ${i} ✓`,
      UserName: `user${i}`,
      Password: protect(i % 7 === 0 ? '' : `password ${i} ${'é'.repeat(i % 9)}`),
      URL: `https://e${i}.example`,
      Notes: i % 2 ? `notes ${i}\nsecond line` : '',
      ...(i % 3 === 0 ? { otp: protect(`otpauth://totp/E${i}?secret=${SECRETS[i % 3] ?? ''}&digits=${i % 6 === 0 ? 8 : 6}`) } : {}),
      ...(i % 10 === 1 ? { 'TOTP Seed': protect(SECRETS[2] ?? ''), 'TOTP Settings': '30;8' } : {}),
      ...(i % 10 === 2 ? { otp: `key=${SECRETS[0] ?? ''}&size=8&step=60&otpHashMode=SHA256` } : {}),
    }, Array.from({ length: i % 3 }, (_, h) => `old ${h} of ${i}`));
    if (i % 11 === 0) entry.binaries.set('key.pem', attachment);
    if (i % 13 === 0) entry.binaries.set('readme.txt', plainAttachment);
  }
  add(globex, { Title: 'Broken', otp: protect(`otpauth://totp/B?secret=${SECRETS[0] ?? ''}&digits=12`) });
  db.remove(add(acme, { Title: 'Deleted', Password: protect('gone') }));
  return new Uint8Array(await db.save());
}

describe('databases written by kdbxweb, every cipher, KDF and compression', () => {
  const { KdfId } = kdbxweb.Consts;
  it.each<[string, Variant]>([
    ['KDBX 3.1, AES-KDF, gzip, Salsa20', { version: 3, gzip: true }],
    ['KDBX 3.1, AES-KDF, no compression', { version: 3, gzip: false }],
    ['KDBX 4, Argon2d, AES-256, gzip', { version: 4, kdf: KdfId.Argon2d, gzip: true }],
    ['KDBX 4, Argon2id, ChaCha20, no compression', { version: 4, kdf: KdfId.Argon2id, chacha20: true, gzip: false }],
    ['KDBX 4, AES-KDF, ChaCha20, gzip', { version: 4, kdf: KdfId.Aes, chacha20: true, gzip: true }],
  ])('%s', async (_name, variant) => {
    const data = await kdbxwebDatabase(variant);
    const streamed = await readKdbx(data, PASSWORD);
    expect(streamed).toEqual(await oracle(data, PASSWORD));
    expect(streamed.entries).toHaveLength(60);
    expect(streamed.entries.find((e) => e.title === 'Entry 13 ✓')).toMatchObject({ customer: 'Acme & <Sons>', password: `password 13 ${'é'.repeat(4)}`, notes: 'notes 13\nsecond line' });
    expect(streamed.problems).toEqual([{ where: expect.stringMatching(/^entry \d+ 'Broken'$/) as string, message: 'The digits parameter is not a whole number from 6 to 8.' }]);
    expect(streamed.warnings).toEqual(['1 entry in the Recycle Bin left out.']);
    expect((await rejection(readKdbx(data, 'not it'))).code).toBe('WRONG_PASSWORD');
  });

  it('keeps a tab in a field, which kdbxweb dropped (XML allows it; KeePassXC keeps it)', async () => {
    const db = kdbxweb.Kdbx.create(new kdbxweb.KdbxCredentials(kdbxweb.ProtectedValue.fromString(PASSWORD)), 'Tabs');
    db.setKdf(kdbxweb.Consts.KdfId.Argon2id);
    const entry = db.createEntry(db.createGroup(db.getDefaultGroup(), 'Acme'));
    entry.fields.set('Title', 'Tabbed');
    entry.fields.set('Notes', 'column\tcolumn');
    const result = await readKdbx(new Uint8Array(await db.save()), PASSWORD);
    expect(result.entries[0]).toMatchObject({ title: 'Tabbed', notes: 'column\tcolumn' });
  });
});

describe('XML out of the order KeePass writes, read again keeping every entry', () => {
  const xml = (meta: string, root: string): string => `<?xml version="1.0" encoding="UTF-8"?><KeePassFile>${meta}${root}</KeePassFile>`;
  const entry = (title: string, password = 'pw'): string =>
    `<Entry><String><Key>Title</Key><Value>${title}</Value></String><String><Key>Password</Key><Value ProtectInMemory="True">${password} of ${title}</Value></String></Entry>`;
  const group = (uuidText: string, name: string, body: string, nameLast = false): string =>
    `<Group><UUID>${uuidText}</UUID>${nameLast ? '' : `<Name>${name}</Name>`}${body}${nameLast ? `<Name>${name}</Name>` : ''}</Group>`;
  const binUuid = uuid();
  const meta = `<Meta><RecycleBinEnabled>True</RecycleBinEnabled><RecycleBinUUID>${binUuid}</RecycleBinUUID></Meta>`;
  it.each([
    ['an entry after a subgroup', xml(meta, `<Root>${group(uuid(), 'Root', entry('r1') + group(uuid(), 'Acme', group(uuid(), 'Servers', entry('s1')) + entry('a1')) + entry('r2'))}</Root>`)],
    ['a group named after its entries', xml(meta, `<Root>${group(uuid(), 'Root', group(uuid(), 'Acme', entry('a1') + entry('a2'), true) + group(binUuid, 'Recycle Bin', entry('gone')))}</Root>`)],
    ['Meta after Root', xml('', `<Root>${group(uuid(), 'Root', group(uuid(), 'Acme', entry('a1')) + group(binUuid, 'Recycle Bin', entry('gone')))}</Root>${meta}`)],
  ])('%s', async (_name, text) => {
    const file = path.join(dir, 'out-of-order.kdbx');
    await writeKdbx4(file, text, PASSWORD, FAST_ARGON2);
    const data = new Uint8Array(readFileSync(file));
    const streamed = await readKdbx(data, PASSWORD);
    expect(streamed).toEqual(await oracle(data, PASSWORD));
    expect(streamed.entries.length).toBeGreaterThan(0);
    expect(streamed.entries.every((e) => e.password === `pw of ${e.title}`)).toBe(true);
  });
});

// ---- bounds -------------------------------------------------------------------------------

describe('bounds a hostile .kdbx cannot pass', () => {
  it('refuses a decompression bomb (1 MB claiming over 1 GiB) with one line, in seconds', async () => {
    // A KDBX 4 inner header whose attachment claims 4 GiB of zeros: gzip members of 16 MiB of
    // zeros each (~16 KB apiece), 65 of them, one after another as gzip allows.
    const innerStart = Buffer.concat([headerField(1, u32(3)), headerField(2, randomBytes(64)), Buffer.of(3), u32(0xffff_ffff)]);
    const zeros = Buffer.alloc(16 * 1024 * 1024);
    const member = gzipSync(zeros);
    const bomb = Buffer.concat([gzipSync(Buffer.concat([innerStart, zeros])), ...Array.from({ length: 64 }, () => member)]);
    const data = new Uint8Array(await kdbx4Container(bomb, PASSWORD, FAST_ARGON2));
    expect(data.length).toBeLessThan(2 * 1024 * 1024);
    const started = Date.now();
    const error = await rejection(kdbxImporter.read(data, { crypto: nodeImportCrypto, password: PASSWORD }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', message: `The KeePass database unpacks to more than ${KDBX_LIMITS.maxInflatedBytes / 1024 / 1024} MiB: refused as a decompression bomb; nothing was imported.` });
    expect(error.message).not.toContain('\n');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('holds the ceiling on XML too, and on one text that never ends', async () => {
    const entry = (notes: string): string => `<Entry><String><Key>Title</Key><Value>T</Value></String><String><Key>Notes</Key><Value>${notes}</Value></String></Entry>`;
    const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?><KeePassFile><Meta></Meta><Root><Group><Name>Root</Name>${body}</Group></Root></KeePassFile>`;
    const file = path.join(dir, 'long.kdbx');
    await writeKdbx4(file, xml(entry('n'.repeat(300_000)) + ' '.repeat(2 * 1024 * 1024)), PASSWORD, FAST_ARGON2);
    const data = new Uint8Array(readFileSync(file));
    expect(await readKdbx(data, PASSWORD)).toMatchObject({ entries: [{ title: 'T', notes: 'n'.repeat(300_000) }] });
    expect(await rejection(readKdbx(data, PASSWORD, { ...KDBX_LIMITS, maxInflatedBytes: 1024 * 1024 }))).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/^The KeePass database unpacks to more than 1 MiB: refused as a decompression bomb/) as string });
    expect(await rejection(readKdbx(data, PASSWORD, { ...KDBX_LIMITS, maxTextChars: 100_000 }))).toMatchObject({ code: 'INVALID_INPUT', message: 'The KeePass database holds a field or attachment longer than 100,000 characters; nothing was imported.' });
  });

  it('refuses a DTD (KeePass writes none), so no entity is ever expanded', async () => {
    const file = path.join(dir, 'dtd.kdbx');
    await writeKdbx4(file, '<?xml version="1.0"?><!DOCTYPE KeePassFile [<!ENTITY a "aaaaaaaaaa">]><KeePassFile><Meta/><Root><Group><Name>&a;</Name></Group></Root></KeePassFile>', PASSWORD, FAST_ARGON2);
    expect(await rejection(readKdbx(new Uint8Array(readFileSync(file)), PASSWORD))).toMatchObject({ code: 'INVALID_INPUT', message: 'The KeePass database is damaged or cut short.' });
  });

  it('checks a KDBX 3.1 header against the hash its XML holds (3.1 has no header MAC)', async () => {
    const data = new Uint8Array(readFileSync(new URL('../fixtures/import/keepassxc-kdbx3-aeskdf.kdbx', import.meta.url)));
    const { end } = readKdbxHeader(data);
    const changed = data.slice();
    changed[end - 1] = (changed[end - 1] ?? 0) ^ 0x01; // the end-of-header field's own bytes: read by nothing else
    expect(await rejection(readKdbx(changed, 'fixture-pass'))).toMatchObject({ code: 'INVALID_INPUT', message: 'The KeePass database is damaged or cut short.' });
  });
});

describe('Salsa20 (KDBX 3.1 protected values)', () => {
  it('gives the keystream kdbxweb gives, across block edges and in pieces', () => {
    for (let round = 0; round < 5; round++) {
      const key = randomBytes(32);
      const nonce = randomBytes(8);
      const theirs = new kdbxweb.Salsa20(key, nonce).getBytes(1000);
      const ours = new Salsa20(key, nonce);
      const pieces = [1, 63, 64, 65, 7, 800].map((n) => ours.xor(new Uint8Array(n)));
      expect(Buffer.concat(pieces)).toEqual(Buffer.from(theirs));
    }
  });
});
