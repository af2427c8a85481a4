// Plain exports read back (issue #12): a vault with TOTP (SHA1/256/512, 6/8 digits, 30/60 s),
// HOTP with a counter, Steam, passwords, notes, usernames and URLs across two customers,
// exported in each format by the real binary (secrets on stdin), imported into an EMPTY vault
// with `crewvault import`, and every entry the format can hold compared field by field, its
// code checked against oathtool at a fixed instant (Steam, which oathtool lacks, against the
// source vault). The .kdbx is opened by keepassxc-cli too, which must show the same code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import type { VaultSession } from '../../electron/vault/service';
import { crewvault, type CliResult } from '../support/cli';

const PW = 'pw for the tests';
const KDBX_PW = 'new kdbx password ✓';
/** 2023-11-14T22:13:20Z: one fixed instant for every code. */
const AT_SECONDS = 1_700_000_000;

interface Source {
  readonly customer: string;
  readonly title: string;
  readonly username: string;
  readonly url: string;
  readonly password: string;
  readonly notes: string;
  readonly otp?: {
    readonly uri: string;
    readonly secret: string;
    /** The issuer the URI sets (absent: the vault builds URIs with the customer). */
    readonly issuer?: string;
    /** oathtool's arguments for the code at AT_SECONDS (or at the counter); absent for Steam. */
    readonly oathtool?: readonly string[];
  };
}

const KEYS = {
  sha1: 'AXQCRFCDTWMS2LD33TLURK3XM3DML25C',
  sha256: 'UYZK25ND42CGRS36QE23R5TEQMCGLKAD',
  sha512: 'DOY7POOEZEJXDGGEINNGDYBVTD2ZB3HHDOY7POOEZEJXDGGE',
  hotp: 'H2OYLADPBTSCKEQ2N4QOVHM7I5VDZK26',
  steam: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ',
  plain: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
};
const NOW = `@${AT_SECONDS}`;

const SOURCES: readonly Source[] = [
  {
    customer: 'Acme', title: 'GitHub', username: 'ops@acme.example', url: 'https://github.com/login', password: 'gh"pass,1', notes: 'Org owner; backup codes in the safe',
    otp: { uri: `otpauth://totp/GitHub:ops%40acme.example?secret=${KEYS.sha1}&issuer=GitHub`, secret: KEYS.sha1, issuer: 'GitHub', oathtool: ['--totp', '-N', NOW, '-b', KEYS.sha1] },
  },
  {
    customer: 'Acme', title: 'AWS root', username: 'root@acme.example', url: 'https://aws.amazon.com', password: 'aws-pw-2', notes: '',
    otp: { uri: `otpauth://totp/AWS:root?secret=${KEYS.sha256}&issuer=AWS&algorithm=SHA256&digits=8&period=60`, secret: KEYS.sha256, issuer: 'AWS', oathtool: ['--totp=SHA256', '-d', '8', '-s', '60s', '-N', NOW, '-b', KEYS.sha256] },
  },
  {
    customer: 'Acme', title: 'VPN', username: 'helpdesk', url: '', password: '', notes: 'Hardware token replacement',
    otp: { uri: `otpauth://hotp/Acme%20VPN:helpdesk?secret=${KEYS.hotp}&issuer=Acme%20VPN&counter=42`, secret: KEYS.hotp, issuer: 'Acme VPN', oathtool: ['-c', '42', '-b', KEYS.hotp] },
  },
  {
    customer: 'Globex', title: 'Microsoft 365', username: 'admin@globex.example', url: 'https://portal.office.com', password: 'm365 pw', notes: '',
    otp: { uri: `otpauth://totp/Microsoft:admin?secret=${KEYS.sha512}&issuer=Microsoft&algorithm=SHA512&digits=8`, secret: KEYS.sha512, issuer: 'Microsoft', oathtool: ['--totp=SHA512', '-d', '8', '-N', NOW, '-b', KEYS.sha512] },
  },
  {
    customer: 'Globex', title: 'Steam', username: 'gaben', url: '', password: '', notes: '',
    otp: { uri: `otpauth://totp/Steam:gaben?secret=${KEYS.steam}&issuer=Steam&encoder=steam`, secret: KEYS.steam, issuer: 'Steam' },
  },
  {
    // No issuer in its URI: exports name the customer, as the vault's own URI does.
    customer: 'Globex', title: 'Firewall', username: '', url: '', password: '', notes: '',
    otp: { uri: `otpauth://totp/fw?secret=${KEYS.plain}&period=60`, secret: KEYS.plain, oathtool: ['--totp', '-s', '60s', '-N', NOW, '-b', KEYS.plain] },
  },
  { customer: 'Globex', title: 'Router', username: 'admin', url: 'http://10.0.0.1', password: 'r0uter,"pw"', notes: 'Rack 4, top' },
  { customer: 'Acme', title: 'Wiki', username: 'editor', url: '', password: 'wiki-pw', notes: '' },
];

/** What the entry must be after a round trip through `format`; undefined: the format leaves it out. */
interface Expected {
  readonly customer: string;
  readonly title: string;
  readonly username: string;
  readonly url: string;
  readonly password: string;
  readonly notes: string;
  readonly issuer?: string;
}

function expectedAfter(format: string, source: Source): Expected | undefined {
  const issuer = source.otp?.issuer ?? source.customer;
  switch (format) {
    case 'kdbx':
    case 'keepassxc-csv':
      return { ...source, ...(source.otp ? { issuer } : {}) };
    case 'aegis':
      // An authenticator: OTP entries only, the title as Aegis's issuer, no password or URL.
      return source.otp ? { customer: source.customer, title: source.title, username: source.username, url: '', password: '', notes: source.notes, issuer: source.title } : undefined;
    case 'otpauth':
      // A URI holds an issuer and an account: the importer makes the issuer customer and title.
      return source.otp ? { customer: issuer, title: issuer, username: source.username || source.title, url: '', password: '', notes: '', issuer } : undefined;
    default:
      throw new Error(`no expectation for ${format}`);
  }
}

function oathtool(args: readonly string[]): string {
  return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
}

let folder: string;
let source: string;
/** Each source entry's code at AT_SECONDS in the source vault (HOTP: at its counter). */
const sourceCodes = new Map<string, string>();

function cli(vault: string, input: string, ...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, '--as', 'alice', ...args.slice(1)], { input });
}

function init(vault: string): void {
  expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${PW}\n` }).status).toBe(0);
}

async function signedIn<T>(vault: string, work: (session: VaultSession) => Promise<T> | T): Promise<T> {
  const file = Vault.open(vault);
  try {
    const session = await file.signIn('alice', PW);
    return await work(session);
  } finally {
    await file.close();
  }
}

// One folder for the whole file (the source vault is built once): support/vault's empties after each test.
beforeAll(async () => {
  folder = mkdtempSync(path.join(tmpdir(), 'crewvault-export-'));
  source = path.join(folder, 'source.crewvault');
  init(source);
  for (const s of SOURCES) {
    const args = ['add', '--customer', s.customer, '--title', s.title];
    let input = `${PW}\n`;
    if (s.username) args.push('--username', s.username);
    if (s.url) args.push('--url', s.url);
    if (s.password) {
      args.push('--password-prompt');
      input += `${s.password}\n`;
    }
    if (s.otp) {
      args.push('--otp', '-');
      input += `${s.otp.uri}\n`;
    }
    if (s.notes) {
      args.push('--notes', '-');
      input += `${s.notes}\n`;
    }
    const added = cli(source, input, ...args);
    expect(added.status, added.stderr).toBe(0);
  }
  // Steam's code comes from the source vault itself (TOTP codes do not change it); HOTP's from
  // oathtool, since asking the vault would move its counter before the export.
  await signedIn(source, async (session) => {
    const steam = await session.resolvePath('Globex/Steam');
    sourceCodes.set('Globex/Steam', (await session.otpCode(steam.id, AT_SECONDS * 1000)).code);
  });
  for (const s of SOURCES) if (s.otp?.oathtool) sourceCodes.set(`${s.customer}/${s.title}`, oathtool(s.otp.oathtool));
}, 120_000);

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe.each(['otpauth', 'aegis', 'keepassxc-csv', 'kdbx'])('the %s export', (format) => {
  it('imports into an empty vault with every entry it holds and its code', async () => {
    const file = path.join(folder, `export.${format}`);
    const input = format === 'kdbx' ? `${PW}\n${PW}\n${KDBX_PW}\n` : `${PW}\n${PW}\n`;
    const exported = cli(source, input, 'export', '--format', format, '--plaintext', file);
    expect(exported.status, exported.stderr).toBe(0);

    const target = path.join(folder, `target-${format}.crewvault`);
    init(target);
    const imported = cli(target, format === 'kdbx' ? `${PW}\n${KDBX_PW}\n` : `${PW}\n`, 'import', file);
    expect(imported.stderr).toBe('');
    const expected = SOURCES.flatMap((s) => {
      const e = expectedAfter(format, s);
      return e ? [{ source: s, expected: e }] : [];
    });
    expect(imported.stdout).toBe(`Imported ${expected.length} entries; skipped 0 ${format === 'otpauth' ? 'lines' : 'entries'}.\n`);

    await signedIn(target, async (session) => {
      expect((await session.listEntries()).length).toBe(expected.length);
      for (const { source: s, expected: e } of expected) {
        const where = `${e.customer}/${e.title}`;
        const summary = await session.resolvePath(where);
        const details = await session.getEntry(summary.id);
        expect({ customer: details.customer, title: details.title, username: details.username, url: details.url, notes: details.notes }, where)
          .toEqual({ customer: e.customer, title: e.title, username: e.username, url: e.url, notes: e.notes });
        expect(details.hasPassword ? (await session.revealPassword(summary.id)) : '', where).toBe(e.password);
        if (!s.otp) {
          expect(details.otp, where).toBeNull();
          continue;
        }
        const revealed = await session.revealOtpSecret(summary.id);
        expect(revealed.secret.replace(/\s/g, ''), where).toBe(s.otp.secret);
        expect(details.otp?.issuer ?? details.customer, where).toBe(e.issuer);
        const code = await session.otpCode(summary.id, AT_SECONDS * 1000);
        expect(code.code, where).toBe(sourceCodes.get(`${s.customer}/${s.title}`));
      }
    });
  }, 120_000);
});

describe('the .kdbx export in KeePassXC', () => {
  it('is KDBX 4 with Argon2id, and keepassxc-cli shows the same entries and the current code', () => {
    const file = path.join(folder, 'for-keepassxc.kdbx');
    expect(cli(source, `${PW}\n${PW}\n${KDBX_PW}\n`, 'export', '--format', 'kdbx', '--plaintext', file).status).toBe(0);
    const bytes = readFileSync(file);
    expect(bytes.readUInt16LE(10)).toBe(4);
    const keepassxc = (...args: string[]): string => execFileSync('keepassxc-cli', args, { input: `${KDBX_PW}\n`, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    expect(keepassxc('db-info', file)).toMatch(/KDF: Argon2id/);
    expect(keepassxc('ls', '-R', '-f', file).split('\n').filter(Boolean).sort()).toEqual(
      [...new Set(SOURCES.map((s) => `${s.customer}/`)), ...SOURCES.map((s) => `${s.customer}/${s.title}`)].sort(),
    );
    expect(keepassxc('show', '-s', '-a', 'Password', file, 'Acme/GitHub').trim()).toBe('gh"pass,1');
    // keepassxc-cli reads the clock: the code is this step's or, across a boundary, the next's.
    const before = oathtool(['--totp', '-b', KEYS.sha1]);
    const shown = keepassxc('show', '-t', file, 'Acme/GitHub').trim();
    const after = oathtool(['--totp', '-b', KEYS.sha1]);
    expect([before, after]).toContain(shown);
    const sha256Shown = keepassxc('show', '-t', file, 'Acme/AWS root').trim();
    expect(sha256Shown).toMatch(/^\d{8}$/);
    expect([oathtool(['--totp=SHA256', '-d', '8', '-s', '60s', '-b', KEYS.sha256]), oathtool(['--totp=SHA256', '-d', '8', '-s', '60s', '-N', `@${Math.floor(Date.now() / 1000) - 60}`, '-b', KEYS.sha256])]).toContain(sha256Shown);
  }, 60_000);
});
