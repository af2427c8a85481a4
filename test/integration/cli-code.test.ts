// `crewvault code` end to end: the real binary, its stdout, stderr and exit status.
import { describe, expect, it } from 'vitest';
import { crewvault } from '../support/cli';

const RFC_SHA1 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('crewvault code', () => {
  it('prints the code alone for a secret at a given time', () => {
    const result = crewvault(['code', RFC_SHA1, '--digits', '8', '--at', '59']);
    expect(result).toEqual({ status: 0, stdout: '94287082\n', stderr: '' });
  });

  it('prints code, next, period and remaining as JSON', () => {
    const result = crewvault(['code', RFC_SHA1, '--digits', '8', '--at', '1111111109', '--json']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ kind: 'totp', code: '07081804', next: '14050471', period: 30, remaining: 1 });
  });

  it('reads an otpauth URI, and options override it', () => {
    const uri = 'otpauth://totp/Test?secret=WQIQ25BRKZYCJVYP&period=60';
    expect(crewvault(['code', uri, '--at', '1672531200']).stdout).toBe('730364\n');
    expect(crewvault(['code', uri, '--period', '30', '--algorithm', 'sha256', '--at', '1672531200']).stdout).toBe('842615\n');
  });

  it('computes Steam and HOTP codes', () => {
    expect(crewvault(['code', 'steam://HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', '--at', '1672531200']).stdout).toBe('7W6CJ\n');
    expect(crewvault(['code', 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', '--steam', '--at', '1672531200']).stdout).toBe('7W6CJ\n');
    expect(crewvault(['code', RFC_SHA1, '--hotp', '--counter', '9']).stdout).toBe('520489\n');
    const hotp = crewvault(['code', `otpauth://hotp/x?secret=${RFC_SHA1}&counter=1`, '--json']);
    expect(JSON.parse(hotp.stdout)).toEqual({ kind: 'hotp', code: '287082', next: '359152', counter: 1 });
  });

  it('reads the secret from stdin with "-", keeping it out of the process list', () => {
    expect(crewvault(['code', '-', '--at', '1672531200'], { input: 'wqiq 25br kzyc jvyp\n' }).stdout).toBe('194506\n');
  });

  it('warns on stderr about a short secret but still prints the code', () => {
    const result = crewvault(['code', 'PIUDISEQYA', '--at', '1672531200']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('829846\n');
    expect(result.stderr).toMatch(/^crewvault: warning: This secret key is only 48 bits/);
  });

  it.each([
    [['code', 'JBSWY3D0EHPK3PXP'], 'INVALID_SECRET', '"0" at position 8 (did you mean the letter O?)'],
    [['code', 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5'], 'INVALID_URI', 'Unsupported algorithm "MD5"'],
    [['code', 'otpauth://totp/x?issuer=Acme'], 'INVALID_URI', 'no secret parameter'],
    [['code', 'http://example.com'], 'INVALID_URI', 'Not an otpauth:// URI'],
  ])('%j fails with exit 1 and one line: %s', (args, code, message) => {
    const result = crewvault(args);
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
    [['code', 'A', 'B']],
    [['code', RFC_SHA1, '--digits', '9']],
    [['code', RFC_SHA1, '--period', '0']],
    [['code', RFC_SHA1, '--algorithm', 'MD5']],
    [['code', RFC_SHA1, '--counter', '3']],
    [['code', RFC_SHA1, '--hotp']],
    [['code', RFC_SHA1, '--steam', '--hotp', '--counter', '1']],
    [['code', RFC_SHA1, '--at', 'yesterday']],
    [['code', RFC_SHA1, '--frobnicate']],
    [['frobnicate']],
    [[]],
  ])('%j is a usage error: exit 2', (args) => {
    const result = crewvault(args);
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
