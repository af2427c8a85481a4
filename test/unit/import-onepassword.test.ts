/**
 * 1Password's .1pux and CSV exports against the one list of expected entries. The fixtures are
 * written by make-1password-fixtures.py (Python's zipfile and csv, from 1Password's description
 * of its formats); every TOTP code is checked against oathtool as well as the list.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { chooseImporter } from '../../shared/import/registry';
import { totpCode, type OtpParams } from '../../shared/otp';
import { nodeImportCrypto } from '../../electron/import/crypto';
import { onePasswordImporter } from '../../electron/import/onepassword';
import { IMPORTERS } from '../../electron/import/registry';
import {
  asExpected,
  BROKEN_SECRET_FRAGMENT,
  BROKEN_TITLE,
  EXPECTED_CREDENTIALS,
  PASSWORD_MANAGER_CODES_AT_MS,
} from '../fixtures/import/expected-password-managers';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)));
const codeAt = (params: OtpParams, atMs: number): string => totpCode(params, atMs).code;
const options = { crypto: nodeImportCrypto };

/** oathtool's code for a TOTP key at the list's instant (an oracle apart from Crewvault's engine). */
function oathtool(params: OtpParams): string {
  return execFileSync('oathtool', [`--totp=${params.algorithm}`, '-d', String(params.digits), '-s', `${params.period}s`, '-b', '-N', '2026-01-01 00:00:00 UTC', params.secret], { encoding: 'utf8' }).trim();
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

const BROKEN_PROBLEM = { where: `entry 9 '${BROKEN_TITLE}'`, message: 'Secret key has "1" at position 8 (did you mean the letter I or L?); a secret key uses only the letters A–Z and the digits 2–7.' };

describe.each(['1password.1pux', '1password-export.csv'])('1Password %s', (name) => {
  const data = fixture(name);

  it('is recognised from its content as 1Password alone, and needs no password', () => {
    expect(chooseImporter(IMPORTERS, 'auto', data).name).toBe('1password');
    expect(IMPORTERS.filter((i) => i.detect(data)).map((i) => i.name)).toEqual(['1password']);
    expect(onePasswordImporter.needsPassword(data)).toBe(false);
  });

  it('reads the expected list, codes included (oathtool agrees), and refuses the broken key without showing it', async () => {
    const result = await onePasswordImporter.read(data, options);
    expect(result.format).toBe('1password');
    expect(result.entries.map((e) => asExpected(e, codeAt))).toEqual(EXPECTED_CREDENTIALS);
    expect(result.problems).toEqual([BROKEN_PROBLEM]);
    expect(JSON.stringify(result)).not.toContain(BROKEN_SECRET_FRAGMENT);
    for (const entry of result.entries) {
      if (entry.otp?.params.kind === 'totp') expect(oathtool(entry.otp.params), entry.title).toBe(codeAt(entry.otp.params, PASSWORD_MANAGER_CODES_AT_MS));
    }
  });
});

describe('1Password .1pux', () => {
  it('leaves out a credit card and a deleted item, and says so', async () => {
    const result = await onePasswordImporter.read(fixture('1password.1pux'), options);
    expect(result.warnings).toEqual(['1 deleted item left out.', 'Left out 1 credit card: Crewvault imports logins and secure notes.']);
  });

  it('refuses a damaged archive in one line: cut short, a changed byte, no export.data', async () => {
    const pux = fixture('1password.1pux');
    const cut = await rejection(onePasswordImporter.read(pux.subarray(0, pux.length - 30), options));
    expect(cut.code).toBe('INVALID_INPUT');
    expect(cut.message).toMatch(/^The 1Password export \(\.1pux\) is damaged or cut short/);
    // A byte of export.data's packed bytes changed: the inflate or the CRC catches it.
    const changed = new Uint8Array(pux);
    const at = Buffer.from(pux).indexOf(Buffer.from('export.data', 'latin1'), 100) + 11 + 200;
    changed[at] = (changed[at] ?? 0) ^ 0xff;
    const error = await rejection(onePasswordImporter.read(changed, options));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).not.toContain('Q45X');
  });

  it('stops a ZIP bomb at the bound, and refuses a ZIP without export.data', async () => {
    const zip = (name: string, content: Buffer, declared = content.length): Uint8Array => {
      const packed = deflateRawSync(content);
      const nameBytes = Buffer.from(name, 'latin1');
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(8, 8);
      local.writeUInt32LE(packed.length, 18);
      local.writeUInt32LE(declared, 22);
      local.writeUInt16LE(nameBytes.length, 26);
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(8, 10);
      central.writeUInt32LE(packed.length, 20);
      central.writeUInt32LE(declared, 24);
      central.writeUInt16LE(nameBytes.length, 28);
      const directoryAt = local.length + nameBytes.length + packed.length;
      const end = Buffer.alloc(22);
      end.writeUInt32LE(0x06054b50, 0);
      end.writeUInt16LE(1, 8);
      end.writeUInt16LE(1, 10);
      end.writeUInt32LE(central.length + nameBytes.length, 12);
      end.writeUInt32LE(directoryAt, 16);
      return new Uint8Array(Buffer.concat([local, nameBytes, packed, central, nameBytes, end]));
    };
    // Declares 10 bytes, unpacks to 50 MB: stopped at what it declared.
    const bomb = await rejection(onePasswordImporter.read(zip('export.data', Buffer.alloc(50 * 1024 * 1024, 0x20), 10), options));
    expect(bomb.message).toMatch(/does not unpack|fails its checksum/);
    const other = await rejection(onePasswordImporter.read(zip('notes.txt', Buffer.from('hello')), options));
    expect(other.message).toBe('The 1Password export (.1pux) has no export.data inside; nothing was imported.');
  });
});
