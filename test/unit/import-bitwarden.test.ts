/**
 * Bitwarden's JSON (plain and password-protected) and CSV exports against the one list of
 * expected entries. The protected fixture was sealed by bitwarden-encrypted-make.mjs with
 * node:crypto, following Bitwarden's own code, not by anything the importer uses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';
import { bitwardenImporter } from '../../shared/import/bitwarden';
import { totpCode } from '../../shared/otp';
import { nodeImportCrypto } from '../../electron/import/crypto';
import {
  asExpected,
  BROKEN_SECRET_FRAGMENT,
  BROKEN_TITLE,
  EXPECTED_CREDENTIALS,
  FIXTURE_PASSWORD,
} from '../fixtures/import/expected-password-managers';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)));
const codeAt = (params: Parameters<typeof totpCode>[0], atMs: number): string => totpCode(params, atMs).code;
const options = { crypto: nodeImportCrypto };
const json = (value: unknown): Uint8Array => utf8Encode(JSON.stringify(value));

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

describe.each([
  ['bitwarden-unencrypted.json', undefined],
  ['bitwarden-encrypted.json', FIXTURE_PASSWORD],
  ['bitwarden-encrypted-argon2.json', FIXTURE_PASSWORD],
  ['bitwarden-export.csv', undefined],
])('Bitwarden %s', (name, password) => {
  const data = fixture(name);

  it('is detected from its content, and asks for a password only when protected', () => {
    expect(bitwardenImporter.detect(data)).toBe(true);
    expect(bitwardenImporter.needsPassword(data)).toBe(password !== undefined);
  });

  it('reads the expected list, codes included, and refuses the broken key without showing it', async () => {
    const result = await bitwardenImporter.read(data, { ...options, ...(password ? { password } : {}) });
    expect(result.format).toBe('bitwarden');
    expect(result.entries.map((e) => asExpected(e, codeAt))).toEqual(EXPECTED_CREDENTIALS);
    expect(result.problems).toEqual([BROKEN_PROBLEM]);
    expect(JSON.stringify(result)).not.toContain(BROKEN_SECRET_FRAGMENT);
  });
});

describe('Bitwarden JSON', () => {
  it('counts cards and identities as left out', async () => {
    const result = await bitwardenImporter.read(fixture('bitwarden-unencrypted.json'), options);
    expect(result.warnings).toEqual(['Left out 1 card, 1 identity: Crewvault imports logins and secure notes.']);
  });

  it('reads a secure note, an organisation export\'s first collection as the customer, and a short key with a warning', async () => {
    const result = await bitwardenImporter.read(json({
      encrypted: false,
      collections: [{ id: 'c1', organizationId: 'o', name: 'Umbrella/IT', externalId: null }],
      items: [
        { type: 2, name: 'Door codes', notes: 'front 1234', collectionIds: ['c1'], secureNote: { type: 0 } },
        { type: 1, name: 'Old site', collectionIds: ['c1'], login: { username: 'u', totp: 'GEZDGNBVGY3TQ' } },
      ],
    }), options);
    expect(result.entries).toEqual([
      { customer: 'Umbrella', title: 'Door codes', notes: 'front 1234' },
      { customer: 'Umbrella', title: 'Old site', username: 'u', otp: { params: { kind: 'totp', secret: 'GEZDGNBVGY3TQ', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'Old site' } },
    ]);
    expect(result.warnings).toEqual([expect.stringMatching(/^entry 2 'Old site': This secret key is only 64 bits/)]);
  });

  it('makes an item that is not an object, or has no name, a problem and reads the rest', async () => {
    const result = await bitwardenImporter.read(json({ encrypted: false, items: ['x', { type: 1, name: '' }, { type: 1, name: 'Ok', login: {} }] }), options);
    expect(result.entries).toEqual([{ title: 'Ok' }]);
    expect(result.problems).toEqual([
      { where: 'entry 1', message: 'The item is not a JSON object.' },
      { where: 'entry 2', message: 'The item has no name.' },
    ]);
  });

  it('gives one clear error for cut-short JSON, an object without items and a huge file', async () => {
    const cut = fixture('bitwarden-unencrypted.json').subarray(0, 500);
    expect(await rejection(bitwardenImporter.read(cut, options))).toMatchObject({ code: 'INVALID_INPUT', message: 'The Bitwarden export is not valid JSON (damaged or cut short).' });
    expect(await rejection(bitwardenImporter.read(json({ encrypted: false }), options))).toMatchObject({ code: 'INVALID_INPUT' });
    const huge = new Uint8Array(33 * 1024 * 1024).fill(0x20);
    huge.set(utf8Encode('{"encrypted":false'));
    expect((await rejection(bitwardenImporter.read(huge, options))).message).toMatch(/too large/);
  });

  it('refuses an account-restricted export with advice', async () => {
    const error = await rejection(bitwardenImporter.read(json({ encrypted: true, encKeyValidation_DO_NOT_EDIT: '2.x|y|z', items: [] }), options));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/account's own key/);
  });
});

describe('Bitwarden password-protected JSON', () => {
  const data = fixture('bitwarden-encrypted.json');
  const doc = JSON.parse(readFileSync(new URL('../fixtures/import/bitwarden-encrypted.json', import.meta.url), 'utf8')) as Record<string, unknown>;

  it('says WRONG_PASSWORD for a wrong password, and USAGE when none is given', async () => {
    expect(await rejection(bitwardenImporter.read(data, { ...options, password: 'not-it' }))).toMatchObject({ code: 'WRONG_PASSWORD', message: 'Wrong password for this Bitwarden export.' });
    expect((await rejection(bitwardenImporter.read(data, options))).code).toBe('USAGE');
  });

  it('gives INVALID_INPUT when the data was tampered with or is not an encrypted string', async () => {
    const data2 = String(doc.data);
    const flipped = data2.slice(0, 40) + (data2[40] === 'A' ? 'B' : 'A') + data2.slice(41);
    const tampered = await rejection(bitwardenImporter.read(json({ ...doc, data: flipped }), { ...options, password: FIXTURE_PASSWORD }));
    expect(tampered).toMatchObject({ code: 'INVALID_INPUT' });
    const broken = await rejection(bitwardenImporter.read(json({ ...doc, data: 'not-an-encstring' }), { ...options, password: FIXTURE_PASSWORD }));
    expect(broken.message).toMatch(/damaged \(its data is not an encrypted string\)/);
  });

  it('refuses absurd key settings before deriving anything: PBKDF2 iterations, Argon2id memory, passes and lanes beyond Bitwarden\'s own bounds', async () => {
    const refused = async (changes: Record<string, unknown>): Promise<string> => (await rejection(bitwardenImporter.read(json({ ...doc, ...changes }), { ...options, password: FIXTURE_PASSWORD }))).message;
    expect(await refused({ kdfIterations: 2 ** 40 })).toMatch(/kdfIterations/);
    const argon2 = { kdfType: 1, kdfIterations: 3, kdfMemory: 64, kdfParallelism: 4 };
    expect(await refused({ ...argon2, kdfMemory: 8 * 1024 })).toMatch(/its kdfMemory is not a sensible number/);
    expect(await refused({ ...argon2, kdfIterations: 1000 })).toMatch(/its kdfIterations is not a sensible number/);
    expect(await refused({ ...argon2, kdfParallelism: null })).toMatch(/its kdfParallelism is not a sensible number/);
    expect(await refused({ kdfType: 7 })).toBe('Unknown Bitwarden key derivation (kdfType): Crewvault reads PBKDF2-SHA256 and Argon2id exports.');
  });

  it('says WRONG_PASSWORD for a wrong password to an Argon2id export (sealed with node:crypto\'s own Argon2)', async () => {
    const argon2 = fixture('bitwarden-encrypted-argon2.json');
    expect(await rejection(bitwardenImporter.read(argon2, { ...options, password: 'not-it' }))).toMatchObject({ code: 'WRONG_PASSWORD' });
  });
});

describe('Bitwarden CSV', () => {
  it('reads an organisation export (collections column) and makes an unknown type a problem', async () => {
    const text = 'collections,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n'
      + '"Umbrella,Other",login,Portal,,,0,https://portal.example,u,p,\n'
      + ',card,Visa,,,0,,,,\n';
    const result = await bitwardenImporter.read(utf8Encode(text), options);
    expect(result.entries).toEqual([{ customer: 'Umbrella', title: 'Portal', username: 'u', password: 'p', url: 'https://portal.example' }]);
    expect(result.problems).toEqual([{ where: "entry 2 'Visa'", message: 'Unknown Bitwarden item type (line 3): Crewvault reads logins and notes.' }]);
  });

  it('is not mistaken for KeePassXC CSV or anything else', () => {
    expect(bitwardenImporter.detect(fixture('keepassxc-export.csv'))).toBe(false);
    expect(bitwardenImporter.detect(utf8Encode('name,url\n'))).toBe(false);
  });
});
