// `crewvault code -` end to end: the real binary, its stdout, stderr and exit status. The key
// or URI goes on stdin, never in an argument (cli-hardening.test.ts checks that one is refused).
import { describe, expect, it } from 'vitest';
import { crewvault } from '../support/cli';

const RFC_SHA1 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('crewvault code', () => {
  it('prints the code alone for a secret at a given time', () => {
    const result = crewvault(['code', '-', '--digits', '8', '--at', '59'], { input: `${RFC_SHA1}\n` });
    expect(result).toEqual({ status: 0, stdout: '94287082\n', stderr: '' });
  });

  it('prints code, next, period and remaining as JSON', () => {
    const result = crewvault(['code', '-', '--digits', '8', '--at', '1111111109', '--json'], { input: `${RFC_SHA1}\n` });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ kind: 'totp', code: '07081804', next: '14050471', period: 30, remaining: 1 });
  });

  it('reads an otpauth URI, and options override it', () => {
    const uri = 'otpauth://totp/Test?secret=WQIQ25BRKZYCJVYP&period=60';
    expect(crewvault(['code', '-', '--at', '1672531200'], { input: `${uri}\n` }).stdout).toBe('730364\n');
    expect(crewvault(['code', '-', '--period', '30', '--algorithm', 'sha256', '--at', '1672531200'], { input: `${uri}\n` }).stdout).toBe('842615\n');
  });

  it('computes Steam and HOTP codes', () => {
    expect(crewvault(['code', '-', '--at', '1672531200'], { input: 'steam://HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ\n' }).stdout).toBe('7W6CJ\n');
    expect(crewvault(['code', '-', '--steam', '--at', '1672531200'], { input: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ\n' }).stdout).toBe('7W6CJ\n');
    expect(crewvault(['code', '-', '--hotp', '--counter', '9'], { input: `${RFC_SHA1}\n` }).stdout).toBe('520489\n');
    const hotp = crewvault(['code', '-', '--json'], { input: `otpauth://hotp/x?secret=${RFC_SHA1}&counter=1\n` });
    expect(JSON.parse(hotp.stdout)).toEqual({ kind: 'hotp', code: '287082', next: '359152', counter: 1 });
  });

  it('reads the secret from stdin with "-", keeping it out of the process list', () => {
    expect(crewvault(['code', '-', '--at', '1672531200'], { input: 'wqiq 25br kzyc jvyp\n' }).stdout).toBe('194506\n');
  });

  it('warns on stderr about a short secret but still prints the code', () => {
    const result = crewvault(['code', '-', '--at', '1672531200'], { input: 'PIUDISEQYA\n' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('829846\n');
    expect(result.stderr).toMatch(/^crewvault: warning: This secret key is only 48 bits/);
  });

  it.each([
    ['JBSWY3D0EHPK3PXP', 'INVALID_SECRET', '"0" at position 8 (did you mean the letter O?)'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5', 'INVALID_URI', 'Unsupported algorithm: use SHA1, SHA256 or SHA512'],
    ['otpauth://totp/x?issuer=Acme', 'INVALID_URI', 'no secret parameter'],
    ['http://example.com', 'INVALID_URI', 'Not an otpauth:// URI'],
  ])('input #%# fails with exit 1 and one line: %s', (input, code, message) => {
    const result = crewvault(['code', '-'], { input: `${input}\n` });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(2); // one line and its newline
    expect(result.stderr).toContain(`crewvault: ${code}: `);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('JBSWY3D');
    expect(result.stderr).not.toMatch(/\bat .*\.(m?js|ts):\d+/); // no stack trace
  });

  it.each([
    [['code']],
    [['code', '-', '-']],
    [['code', '-', '--digits', '9']],
    [['code', '-', '--period', '0']],
    [['code', '-', '--algorithm', 'MD5']],
    [['code', '-', '--counter', '3']],
    [['code', '-', '--hotp']],
    [['code', '-', '--steam', '--hotp', '--counter', '1']],
    [['code', '-', '--at', 'yesterday']],
    [['code', '-', '--frobnicate']],
    [['frobnicate']],
    [[]],
  ])('%j is a usage error: exit 2', (args) => {
    const result = crewvault(args, { input: `${RFC_SHA1}\n` });
    expect(result.status).toBe(2);
    expect(result.stdout === '' || result.stdout.startsWith('Crewvault')).toBe(true);
    if (result.stderr) expect(result.stderr).toMatch(/^crewvault: USAGE: [^\n]+\n$/);
  });

  it('has help and a version', () => {
    const help = crewvault(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('code ');
    expect(crewvault(['code', '--help']).stdout).toContain('--hotp --counter N');
    expect(crewvault(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
