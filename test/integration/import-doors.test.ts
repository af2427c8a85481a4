// Import at its doors (a review's classes, issue #15's round): every CSV export reader refuses a
// row whose field count is not the header's (no padding, no shifted columns); an error's
// message reaches a terminal or a screen as one printable line whatever text it was built
// around; piped standard input is bytes, decoded (or refused) by the importer exactly as a
// file's are. The real binary and a real vault file; the router over a real vault.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { bitwardenImporter } from '../../shared/import/bitwarden';
import { keepassxcCsvImporter } from '../../shared/import/keepassxc-csv';
import { mappedCsvImporter } from '../../shared/import/mapped-csv';
import { onePasswordImporter } from '../../shared/import/onepassword';
import type { Importer } from '../../shared/import/types';
import { oneLine } from '../../shared/text';
import { nodeImportCrypto } from '../../electron/import/crypto';
import { crewvault, initCliVault } from '../support/cli';
import { newRouter } from '../support/router';
import { tempFolder } from '../support/vault';

const PW = 'pw for the doors test';
const PLANTED = 'PLANTEDSECRET7';

async function refusal(importer: Importer, text: string): Promise<CrewvaultError> {
  const options = { crypto: nodeImportCrypto, mapping: { title: 'Title', password: 'Password' } };
  const caught: unknown = await importer.read(Buffer.from(text), options).then(() => undefined, (error: unknown) => error);
  if (!(caught instanceof CrewvaultError)) throw new Error(`expected a refusal, got ${String(caught)}`);
  return caught;
}

describe('a CSV row with more or fewer fields than its header', () => {
  // Each reader's real header, a good row, then the bad one on line 3.
  const readers: ReadonlyArray<readonly [string, Importer, string, string]> = [
    ['bitwarden', bitwardenImporter, 'folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp', 'Acme,,login,VPN,,,0,https://vpn,alice,pw,'],
    ['keepassxc-csv', keepassxcCsvImporter, '"Group","Title","Username","Password","URL","Notes","TOTP"', '"Root/Acme","VPN","alice","pw","https://vpn","",""'],
    ['1password', onePasswordImporter, 'Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes', 'VPN,https://vpn,alice,pw,,false,false,Acme,'],
    ['csv', mappedCsvImporter, 'Title,Password,Client', 'VPN,pw,Acme'],
  ];

  it.each(readers)('%s: refused naming the line and the counts, never a cell', async (_name, importer, header, good) => {
    const width = header.split(',').length;
    const cells = good.split(',');
    // One short (its last field gone, the secret now last), one long (a stray comma in a password).
    const short = cells.slice(0, -1).map((c, i) => (i === cells.length - 2 ? `${PLANTED}` : c)).join(',');
    const long = [...cells.slice(0, -1), `${PLANTED}`, ...cells.slice(-1)].join(',');
    for (const [bad, count] of [[short, width - 1], [long, width + 1]] as const) {
      const error = await refusal(importer, `${header}\n${good}\n${bad}\n`);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toBe(`Line 3 has ${count} fields where the first line names ${width} columns (a comma or quote out of place?); nothing was read.`);
      expect(error.message).not.toContain(PLANTED);
    }
    // The same file with every row whole is read.
    await expect(importer.read(Buffer.from(`${header}\n${good}\n${good}\n`), { crypto: nodeImportCrypto, mapping: { title: 'Title', password: 'Password' } })).resolves.toMatchObject({ entries: [{}, {}] });
  });
});

describe('an error at a door is one printable line', () => {
  it('oneLine shows breaks and escapes as code points, and bounds the length', () => {
    expect(oneLine('Cannot read a\nb\u001b[2J\r\u2028c.')).toBe('Cannot read a<U+000A>b<U+001B>[2J<U+000D><U+2028>c.');
    expect(oneLine('x'.repeat(600))).toHaveLength(501);
  });

  it('the router: an unknown method named with a line break and an escape sequence', async () => {
    const { router } = newRouter();
    const reply = await router.call('no.such\ncrewvault: ok\u001b[2J', {});
    expect(reply.ok).toBe(false);
    const message = reply.ok ? '' : reply.error.message;
    expect(message).toContain('no.such<U+000A>crewvault: ok<U+001B>[2J');
    expect([...message].filter((ch) => ch < ' ' || ch === '\u007f')).toEqual([]);
  });

  it('the router: a field the method does not take is refused without its name echoed', async () => {
    const { router } = newRouter();
    const reply = await router.call('session.state', { [PLANTED]: 1 });
    expect(reply.ok ? '' : `${reply.error.code}: ${reply.error.message}`).toBe('INVALID_INPUT: a field this method does not take.');
  });

  it('the CLI: a file name with a line break and an escape sequence gives one stderr line', () => {
    const vault = path.join(tempFolder(), 'team.crewvault');
    const result = crewvault(['import', '--vault', vault, `nowhere\ncrewvault: imported 9 entries\u001b[2J.csv`], { input: `${PW}\n` });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('crewvault: NOT_FOUND: Cannot read nowhere<U+000A>crewvault: imported 9 entries<U+001B>[2J.csv.\n');
  });
});

describe('piped standard input is the export\'s bytes', () => {
  let vault: string;
  let folder: string;
  beforeEach(() => {
    ({ folder, vault } = initCliVault(PW, tempFolder));
  });

  it('Latin-1 text is refused from a pipe exactly as from a file, and nothing is written', () => {
    // "Zürich" in Latin-1: 0xFC is not UTF-8. Decoded early, it would have become U+FFFD and gone in.
    const latin1 = Buffer.concat([Buffer.from('Title,Client\nVPN,Z'), Buffer.from([0xfc]), Buffer.from('rich\n')]);
    const file = path.join(folder, 'latin1.csv');
    writeFileSync(file, latin1);
    const args = ['--format', 'csv', '--map', 'title=Title,customer=Client'];
    const fromFile = crewvault(['import', '--vault', vault, ...args, file], { input: `${PW}\n` });
    const fromPipe = crewvault(['import', '--vault', vault, ...args, '-'], { input: Buffer.concat([Buffer.from(`${PW}\n`), latin1]) });
    expect(fromFile).toMatchObject({ status: 1, stderr: 'crewvault: INVALID_INPUT: The file is not UTF-8 text, so not a CSV file.\n' });
    expect(fromPipe).toEqual(fromFile);
    expect(crewvault(['list', '--vault', vault], { input: `${PW}\n` }).stdout).toBe('');
    // The same sheet in UTF-8 through the pipe goes in whole.
    const utf8 = Buffer.from('Title,Client\nVPN,Zürich\n');
    expect(crewvault(['import', '--vault', vault, ...args, '-'], { input: Buffer.concat([Buffer.from(`${PW}\n`), utf8]) })).toMatchObject({ status: 0, stdout: 'Imported 1 entry; skipped 0 entries.\n' });
    expect(crewvault(['list', '--vault', vault], { input: `${PW}\n` }).stdout).toContain('Zürich/VPN');
  });

  it('a file of more than 100,000 entries is refused whatever its format, before anything is written', () => {
    const rows = Array.from({ length: 100_001 }, (_, i) => `Entry ${i},pw${i}`).join('\n');
    const file = path.join(folder, 'huge.csv');
    writeFileSync(file, `Title,Password\n${rows}\n`);
    const result = crewvault(['import', '--vault', vault, '--format', 'csv', '--map', 'title=Title,password=Password', '--customer', 'Acme', file], { input: `${PW}\n` });
    expect(result).toMatchObject({ status: 1, stdout: '', stderr: 'crewvault: INVALID_INPUT: The file holds more than 100,000 entries; at most 100,000 are imported at once (split it); nothing was imported.\n' });
    expect(crewvault(['list', '--vault', vault], { input: `${PW}\n` }).stdout).not.toContain('Acme/');
  });

  it('--columns reads a piped sheet without taking a password line from it', () => {
    expect(crewvault(['import', '--format', 'csv', '--columns', '-'], { input: 'Title,Client,Secret\nVPN,Acme,pw\n' })).toEqual({ status: 0, stdout: 'Title\nClient\nSecret\n', stderr: '' });
  });
});
