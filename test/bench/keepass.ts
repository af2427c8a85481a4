/**
 * The peer for the vault bench: the same entries in KeePassXC databases, opened by
 * `keepassxc-cli show -t`.
 *
 * keepassxc-cli (2.7) cannot choose a KDF: `import` and `db-create` always write KDBX 3.1 with
 * AES-KDF, taking only a target decryption time (`-t MS`, which it turns into AES rounds by a
 * benchmark). So the bench makes two databases per size:
 * - `import`: our KeePass 2.x XML through `keepassxc-cli import -t <Crewvault's Argon2id time>`:
 *   KeePassXC's own file, matched on KDF *time* (AES-KDF needs no memory).
 * - `argon2id`: the same database, exported by `keepassxc-cli export -f xml` (so the XML is
 *   what KeePassXC itself writes), wrapped here as KDBX 4.0 with Argon2id at exactly
 *   Crewvault's parameters (m=64 MiB, t=3, p=1), AES-256-CBC, gzip, ChaCha20 protected
 *   values: matched on KDF *parameters*, memory included.
 * Both are checked by the bench: keepassxc-cli must print the entry's current code.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import argon2 from 'argon2';
import type { BenchEntry } from './dataset';

export const KEEPASSXC_CLI = 'keepassxc-cli';

export function keepassxcVersion(): string | null {
  const probe = spawnSync(KEEPASSXC_CLI, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return null;
  return probe.stdout.trim();
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlUnescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_all, name: string) => {
    switch (name) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(name.startsWith('#x') ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
    }
  });
}

function uuid(): string {
  return randomBytes(16).toString('base64');
}

/** KeePass 2.x XML: one group per customer under the root, one entry per credential, the
 * TOTP in an `otp` string field holding the otpauth URI (KeePassXC's own convention). */
export function keepassXml(entries: readonly BenchEntry[]): string {
  const byCustomer = new Map<string, BenchEntry[]>();
  for (const e of entries) {
    const list = byCustomer.get(e.customer);
    if (list) list.push(e);
    else byCustomer.set(e.customer, [e]);
  }
  const str = (key: string, value: string, protect = false): string =>
    `<String><Key>${key}</Key><Value${protect ? ' ProtectInMemory="True"' : ''}>${xmlEscape(value)}</Value></String>`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<KeePassFile>\n',
    '<Meta><Generator>crewvault bench</Generator><DatabaseName>bench</DatabaseName>',
    '<MemoryProtection><ProtectTitle>False</ProtectTitle><ProtectUserName>False</ProtectUserName><ProtectPassword>True</ProtectPassword><ProtectURL>False</ProtectURL><ProtectNotes>False</ProtectNotes></MemoryProtection></Meta>\n',
    `<Root><Group><UUID>${uuid()}</UUID><Name>Root</Name>\n`,
  ];
  for (const [customer, list] of byCustomer) {
    out.push(`<Group><UUID>${uuid()}</UUID><Name>${xmlEscape(customer)}</Name>\n`);
    for (const e of list) {
      out.push(
        `<Entry><UUID>${uuid()}</UUID>`,
        str('Title', e.title),
        str('UserName', e.username),
        str('Password', e.password, true),
        str('URL', e.url),
        str('Notes', e.notes),
        e.otpUri ? str('otp', e.otpUri) : '',
        '</Entry>\n',
      );
    }
    out.push('</Group>\n');
  }
  out.push('</Group></Root>\n</KeePassFile>\n');
  return out.join('');
}

function cli(args: readonly string[], input: string, stdoutFile?: string): void {
  const fd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w', 0o600);
  try {
    const result = spawnSync(KEEPASSXC_CLI, args, { input, encoding: 'utf8', stdio: ['pipe', fd ?? 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`keepassxc-cli ${args[0] ?? ''} failed (exit ${result.status}): ${result.stderr.trim().split('\n').pop() ?? ''}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `keepassxc-cli import -p -t MS`: the password twice on stdin, as its prompt asks. */
export function importXml(xmlFile: string, kdbxFile: string, password: string, decryptionTimeMs: number): void {
  cli(['import', '-q', '-p', '-t', String(Math.max(1, Math.round(decryptionTimeMs))), xmlFile, kdbxFile], `${password}\n${password}\n`);
}

/** `keepassxc-cli export -f xml` into `xmlFile` (plain XML: it holds the passwords). */
export function exportXml(kdbxFile: string, password: string, xmlFile: string): void {
  cli(['export', '-q', '-f', 'xml', kdbxFile], `${password}\n`, xmlFile);
}

// ---- KDBX 4.0 writer ---------------------------------------------------------------------

export interface Argon2Params {
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

const KDBX_SIG1 = 0x9aa2d903;
const KDBX_SIG2 = 0xb54bfb67;
const KDBX_VERSION_4_0 = 0x00040000;
const AES256_CBC_UUID = Buffer.from('31c1f2e6bf714350be5805216afc5aff', 'hex');
const ARGON2D_UUID = Buffer.from('ef636ddf8c29444b91f7a9a403e30a0c', 'hex');
const ARGON2ID_UUID = Buffer.from('9e298b1956db4773b23dfc3ec6f0a1e6', 'hex');
const AES_KDF_UUID = Buffer.from('c9d9f39a628a4460bf740d08c18a4fea', 'hex');
const INNER_STREAM_CHACHA20 = 3;
const HMAC_BLOCK_BYTES = 1024 * 1024;

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

export function headerField(id: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.of(id), u32(data.length), data]);
}

const VD_UINT32 = 0x04;
const VD_UINT64 = 0x05;
const VD_BYTES = 0x42;

function variantDictionary(items: ReadonlyArray<readonly [type: number, name: string, value: Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.of(0x00, 0x01)]; // version 1.0
  for (const [type, name, value] of items) {
    const key = Buffer.from(name, 'utf8');
    parts.push(Buffer.of(type), u32(key.length), key, u32(value.length), value);
  }
  parts.push(Buffer.of(0));
  return Buffer.concat(parts);
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Turns KeePassXC's exported XML (protected values in clear, marked ProtectInMemory) into
 * KDBX inner XML (marked Protected, XORed with the ChaCha20 stream in document order). */
function protectValues(xml: string, innerKey: Buffer): string {
  const keyIv = sha512(innerKey);
  const stream = createCipheriv('chacha20', keyIv.subarray(0, 32), Buffer.concat([Buffer.alloc(4), keyIv.subarray(32, 44)]));
  return xml
    .replace(/<Value ProtectInMemory="True"\/>/g, '<Value/>')
    .replace(/<Value ProtectInMemory="True">([^<]*)<\/Value>/g, (_all, text: string) => `<Value Protected="True">${stream.update(Buffer.from(xmlUnescape(text), 'utf8')).toString('base64')}</Value>`);
}

/** Writes `xml` (as `keepassxc-cli export -f xml` prints it) as a KDBX 4.0 file, password
 * only, Argon2id with `kdf`. */
export async function writeKdbx4(file: string, xml: string, password: string, kdf: Argon2Params): Promise<void> {
  const innerKey = randomBytes(64);
  const innerHeader = Buffer.concat([headerField(1, u32(INNER_STREAM_CHACHA20)), headerField(2, innerKey), headerField(0, Buffer.alloc(0))]);
  const payload = gzipSync(Buffer.concat([innerHeader, Buffer.from(protectValues(xml, innerKey), 'utf8')]));
  writeFileSync(file, await kdbx4Container(payload, password, kdf), { mode: 0o600 });
}

/** A KDBX 4.0 file around `gzipped` (the inner header and XML, already gzipped, or any bytes
 * that claim to be: the tests' decompression bomb), password only, Argon2id with `kdf`. */
export async function kdbx4Container(gzipped: Buffer, password: string, kdf: Argon2Params): Promise<Buffer> {
  const masterSeed = randomBytes(32);
  const iv = randomBytes(16);
  const salt = randomBytes(32);
  const kdfParams = variantDictionary([
    [VD_BYTES, '$UUID', ARGON2ID_UUID],
    [VD_BYTES, 'S', salt],
    [VD_UINT32, 'P', u32(kdf.parallelism)],
    [VD_UINT64, 'M', u64(BigInt(kdf.memoryKiB) * 1024n)],
    [VD_UINT64, 'I', u64(BigInt(kdf.iterations))],
    [VD_UINT32, 'V', u32(0x13)],
  ]);
  const header = Buffer.concat([
    u32(KDBX_SIG1),
    u32(KDBX_SIG2),
    u32(KDBX_VERSION_4_0),
    headerField(2, AES256_CBC_UUID),
    headerField(3, u32(1)), // gzip
    headerField(4, masterSeed),
    headerField(7, iv),
    headerField(11, kdfParams),
    headerField(0, Buffer.from('\r\n\r\n', 'latin1')),
  ]);

  // Composite key of a password-only database: SHA-256 over the password key's SHA-256.
  const composite = sha256(sha256(Buffer.from(password, 'utf8')));
  const transformed = await argon2.hash(composite, {
    type: argon2.argon2id,
    raw: true,
    hashLength: 32,
    salt,
    memoryCost: kdf.memoryKiB,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    version: 0x13,
  });
  const cipherKey = sha256(masterSeed, transformed);
  const hmacBase = sha512(masterSeed, transformed, Buffer.of(1));
  const blockKey = (index: bigint): Buffer => sha512(u64(index), hmacBase);

  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const encrypted = Buffer.concat([cipher.update(gzipped), cipher.final()]);

  const out: Buffer[] = [header, sha256(header), createHmac('sha256', blockKey(0xffffffffffffffffn)).update(header).digest()];
  let index = 0n;
  for (let offset = 0; ; offset += HMAC_BLOCK_BYTES) {
    const data = encrypted.subarray(offset, Math.min(offset + HMAC_BLOCK_BYTES, encrypted.length));
    const mac = createHmac('sha256', blockKey(index)).update(u64(index)).update(u32(data.length)).update(data).digest();
    out.push(mac, u32(data.length), data);
    index++;
    if (data.length === 0) break; // the empty block ends the stream
  }
  return Buffer.concat(out);
}

/** What a .kdbx file's outer header says about its format and KDF, e.g.
 * "KDBX 4.0, Argon2id m=64 MiB t=3 p=1" or "KDBX 3.1, AES-KDF 11,111,111 rounds". */
export function describeKdbx(file: string): string {
  const buf = readFileSync(file).subarray(0, 4096);
  if (buf.readUInt32LE(0) !== KDBX_SIG1 || buf.readUInt32LE(4) !== KDBX_SIG2) return 'not a KDBX file';
  const minor = buf.readUInt16LE(8);
  const major = buf.readUInt16LE(10);
  const sizeBytes = major >= 4 ? 4 : 2;
  let offset = 12;
  let kdf = 'unknown KDF';
  while (offset < buf.length) {
    const id = buf[offset] ?? 0;
    const size = sizeBytes === 4 ? buf.readUInt32LE(offset + 1) : buf.readUInt16LE(offset + 1);
    const data = buf.subarray(offset + 1 + sizeBytes, offset + 1 + sizeBytes + size);
    offset += 1 + sizeBytes + size;
    if (id === 0) break;
    if (id === 6 && major < 4) kdf = `AES-KDF ${Number(data.readBigUInt64LE(0)).toLocaleString('en-US')} rounds`;
    if (id === 11) kdf = describeKdfParameters(data);
  }
  return `KDBX ${major}.${minor}, ${kdf}`;
}

function describeKdfParameters(dict: Buffer): string {
  const values = new Map<string, Buffer>();
  let offset = 2;
  while (offset < dict.length) {
    const type = dict[offset] ?? 0;
    if (type === 0) break;
    const nameLength = dict.readUInt32LE(offset + 1);
    const name = dict.subarray(offset + 5, offset + 5 + nameLength).toString('utf8');
    const valueLength = dict.readUInt32LE(offset + 5 + nameLength);
    values.set(name, dict.subarray(offset + 9 + nameLength, offset + 9 + nameLength + valueLength));
    offset += 9 + nameLength + valueLength;
  }
  const id = values.get('$UUID');
  if (id?.equals(AES_KDF_UUID)) return `AES-KDF ${Number(values.get('R')?.readBigUInt64LE(0) ?? 0n).toLocaleString('en-US')} rounds`;
  const name = id?.equals(ARGON2ID_UUID) ? 'Argon2id' : id?.equals(ARGON2D_UUID) ? 'Argon2d' : 'unknown KDF';
  const memory = Number(values.get('M')?.readBigUInt64LE(0) ?? 0n) / (1024 * 1024);
  const iterations = Number(values.get('I')?.readBigUInt64LE(0) ?? 0n);
  const parallelism = values.get('P')?.readUInt32LE(0) ?? 0;
  return `${name} m=${memory} MiB t=${iterations} p=${parallelism}`;
}
