import { describe, expect, it } from 'vitest';
import { buildOtpUri, parseOtpUri, type OtpUri } from '../../shared/otp';
import { CrewvaultError } from '../../shared/errors';

function refusal(uri: string): CrewvaultError {
  try {
    parseOtpUri(uri);
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw error;
  }
  throw new Error(`expected ${uri} to be refused`);
}

describe('parseOtpUri', () => {
  it('reads every parameter of a full URI', () => {
    const parsed = parseOtpUri('otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60');
    expect(parsed).toEqual({
      params: { kind: 'totp', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA256', digits: 8, period: 60, counter: 0 },
      issuer: 'ACME Co',
      account: 'john.doe@email.com',
      extra: [],
    });
  });

  it('takes the issuer from the label when there is no parameter, keeping its case', () => {
    const parsed = parseOtpUri('otpauth://totp/Acme%20Corp:ops@acme.com?secret=jbswy3dpehpk3pxp');
    expect(parsed.issuer).toBe('Acme Corp');
    expect(parsed.account).toBe('ops@acme.com');
    expect(parsed.params.secret).toBe('JBSWY3DPEHPK3PXP');
    expect(parsed.params).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
  });

  it('lets the issuer parameter win over the label prefix', () => {
    const parsed = parseOtpUri('otpauth://totp/Old%20Name:ops@acme.com?secret=JBSWY3DPEHPK3PXP&issuer=New%20Name');
    expect(parsed.issuer).toBe('New Name');
    expect(parsed.account).toBe('ops@acme.com');
  });

  it('has no issuer when neither the label nor a parameter gives one', () => {
    const parsed = parseOtpUri('otpauth://totp/alice@example.com?secret=JBSWY3DPEHPK3PXP');
    expect(parsed.issuer).toBeUndefined();
    expect(parsed.account).toBe('alice@example.com');
  });

  it('decodes percent-encoded UTF-8 and an encoded colon, and a + in a parameter as a space', () => {
    const parsed = parseOtpUri('otpauth://totp/J%C3%BCrgen%20GmbH%3Aj%C3%BC@x.de?secret=JBSWY3DPEHPK3PXP&issuer=J%C3%BCrgen+GmbH');
    expect(parsed.issuer).toBe('Jürgen GmbH');
    expect(parsed.account).toBe('jü@x.de');
  });

  it('matches the scheme, type and parameter names case-insensitively', () => {
    const parsed = parseOtpUri('OTPAUTH://TOTP/MixedCase:Bob?SECRET=JBSWY3DPEHPK3PXP&Algorithm=sha512');
    expect(parsed.params.algorithm).toBe('SHA512');
    expect(parsed.issuer).toBe('MixedCase');
    expect(parsed.account).toBe('Bob');
  });

  it('keeps unknown parameters in order', () => {
    const parsed = parseOtpUri('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fe.x%2Fa.png&color=red');
    expect(parsed.extra).toEqual([['image', 'https://e.x/a.png'], ['color', 'red']]);
  });

  it('reads HOTP with its counter, and a missing counter as 0', () => {
    expect(parseOtpUri('otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=42').params).toMatchObject({ kind: 'hotp', counter: 42 });
    expect(parseOtpUri('otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP').params.counter).toBe(0);
  });

  it('accepts steam://SECRET and encoder=steam', () => {
    const steam = parseOtpUri('steam://HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ');
    expect(steam.params).toMatchObject({ kind: 'steam', digits: 5, algorithm: 'SHA1', period: 30 });
    expect(steam.issuer).toBe('Steam');
    const encoded = parseOtpUri('otpauth://totp/Steam:gamer?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&encoder=steam');
    expect(encoded.params).toMatchObject({ kind: 'steam', digits: 5 });
    expect(encoded.account).toBe('gamer');
  });

  it('passes the short-secret warning on', () => {
    expect(parseOtpUri('otpauth://totp/x?secret=PIUDISEQYA').warning?.code).toBe('SHORT_SECRET');
  });

  it.each([
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5', /Unsupported algorithm: use SHA1, SHA256 or SHA512/],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=9', /digits parameter is not a whole number from 6 to 8/],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=5', /digits parameter is not a whole number from 6 to 8/],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=six', /digits parameter is not a whole number/],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0', /period parameter is not a whole number from 1 to 300/],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=301', /period parameter is not a whole number from 1 to 300/],
    ['otpauth://totp/x?issuer=Acme', /no secret parameter/],
    ['otpauth://totp/x?secret=', /no secret parameter/],
    ['https://example.com/?secret=JBSWY3DPEHPK3PXP', /Not an otpauth:\/\/ URI \(it is a web address\)/],
    ['otpauth://motp/x?secret=JBSWY3DPEHPK3PXP', /Unknown OTP type: an otpauth URI is/],
    ['otpauth://totp/%E0%A4%A?secret=JBSWY3DPEHPK3PXP', /label has broken percent-encoding/],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&encoder=yandex', /Unknown encoder: only "steam"/],
    ['otpauth-migration://offline?data=abc', /Google Authenticator export/],
  ])('refuses %s', (uri, message) => {
    const error = refusal(uri);
    expect(error.code).toBe('INVALID_URI');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('JBSWY3DPEHPK3PXP');
  });

  it('refuses a bad secret with INVALID_SECRET and its position in the parameter', () => {
    const error = refusal('otpauth://totp/x?secret=JBSWY3D0EHPK3PXP');
    expect(error.code).toBe('INVALID_SECRET');
    expect(error.message).toContain('"0" at position 8');
  });
});

describe('buildOtpUri', () => {
  const cases: OtpUri[] = [
    { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, issuer: 'Acme Corp', account: 'ops@acme.com', extra: [] },
    { params: { kind: 'totp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA512', digits: 8, period: 60, counter: 0 }, account: 'no issuer: odd/label?&=#%', extra: [['image', 'https://e.x/a.png?b=1&c=2']] },
    { params: { kind: 'hotp', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA256', digits: 7, period: 30, counter: 99 }, issuer: 'Jürgen + Söhne', account: 'j@x.de', extra: [] },
    { params: { kind: 'steam', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA1', digits: 5, period: 30, counter: 0 }, issuer: 'Steam', account: 'gamer', extra: [] },
  ];

  it.each(cases)('round-trips $account', (parts) => {
    expect(parseOtpUri(buildOtpUri(parts))).toEqual(parts);
  });

  it('writes the label as Issuer:account, percent-encoded', () => {
    expect(buildOtpUri(cases[0] as OtpUri)).toBe('otpauth://totp/Acme%20Corp:ops%40acme.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30');
  });
});
