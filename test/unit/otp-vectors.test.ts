// Known answers: RFC 4226 Appendix D, RFC 6238 Appendix B, and Bitwarden SDK's pinned
// vectors (Steam, 60 s period, SHA-256) at 2023-01-01T00:00:00Z. The clock is a parameter.
import { describe, expect, it } from 'vitest';
import { encodeSecret, hotpCode, steamParams, totpCode, type OtpAlgorithm, type OtpParams } from '../../shared/otp';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';

const nodeCrypto = new NodeCryptoPlugin();

const ascii = (text: string): string => encodeSecret(new Uint8Array(Array.from(text, (c) => c.charCodeAt(0))));

// RFC 6238 Appendix B uses a seed of the algorithm's own length for each.
const RFC6238_SEEDS: Record<OtpAlgorithm, string> = {
  SHA1: ascii('12345678901234567890'),
  SHA256: ascii('12345678901234567890123456789012'),
  SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};

const RFC6238: Array<[number, OtpAlgorithm, string]> = [
  [59, 'SHA1', '94287082'], [59, 'SHA256', '46119246'], [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'], [1111111109, 'SHA256', '68084774'], [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'], [1111111111, 'SHA256', '67062674'], [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'], [1234567890, 'SHA256', '91819424'], [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'], [2000000000, 'SHA256', '90698825'], [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'], [20000000000, 'SHA256', '77737706'], [20000000000, 'SHA512', '47863826'],
];

const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

const totp = (secret: string, overrides: Partial<OtpParams> = {}): OtpParams => ({
  kind: 'totp', secret, algorithm: 'SHA1', digits: 6, period: 30, counter: 0, ...overrides,
});

const CRYPTO = [
  ['otplib pure JS', undefined],
  ['node:crypto', nodeCrypto],
] as const;

describe.each(CRYPTO)('known vectors with %s', (_name, crypto) => {
  const options = crypto ? { crypto } : {};

  it.each(RFC6238)('RFC 6238 at T=%i with %s gives %s', (seconds, algorithm, expected) => {
    expect(totpCode(totp(RFC6238_SEEDS[algorithm], { algorithm, digits: 8 }), seconds * 1000, options).code).toBe(expected);
  });

  it.each(RFC4226.map((code, counter) => [counter, code] as const))('RFC 4226 HOTP counter %i gives %s', (counter, expected) => {
    expect(hotpCode(totp(RFC6238_SEEDS.SHA1, { kind: 'hotp', counter }), options).code).toBe(expected);
  });

  const bitwardenTime = Date.UTC(2023, 0, 1);
  it('Steam Guard: 5 characters from the Steam alphabet (Bitwarden vector)', () => {
    const result = totpCode(steamParams('HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ'), bitwardenTime, options);
    expect(result.code).toBe('7W6CJ');
    expect(result.next).toMatch(/^[23456789BCDFGHJKMNPQRTVWXY]{5}$/);
  });

  it('a 60-second period (Bitwarden vector)', () => {
    expect(totpCode(totp('WQIQ25BRKZYCJVYP', { period: 60 }), bitwardenTime, options).code).toBe('730364');
  });

  it('SHA-256 with 6 digits and an 80-bit secret (Bitwarden vectors)', () => {
    expect(totpCode(totp('WQIQ25BRKZYCJVYP', { algorithm: 'SHA256' }), bitwardenTime, options).code).toBe('842615');
    expect(totpCode(totp('PIUDISEQYA'), bitwardenTime, options).code).toBe('829846');
  });

  it('a 7-digit code is the RFC 6238 value modulo 10^7', () => {
    expect(totpCode(totp(RFC6238_SEEDS.SHA1, { digits: 7 }), 59_000, options).code).toBe('4287082');
  });
});

describe('time steps', () => {
  const params = totp(RFC6238_SEEDS.SHA1, { digits: 8 });

  it('gives the next code and the time left in the step', () => {
    const result = totpCode(params, 1111111109_250);
    expect(result.code).toBe('07081804');
    expect(result.next).toBe('14050471'); // 1111111111 is in the next 30 s step
    expect(result.remainingMs).toBe(750);
    expect(result.remainingSeconds).toBe(1);
    expect(result.validUntilMs).toBe(1111111110_000);
  });

  it('changes code exactly at the step boundary', () => {
    const before = totpCode(params, 29_999);
    const at = totpCode(params, 30_000);
    expect(before.next).toBe(at.code);
    expect(before.remainingMs).toBe(1);
    expect(at.remainingSeconds).toBe(30);
  });

  it('a 1-second and a 300-second period are the bounds', () => {
    expect(totpCode(totp(RFC6238_SEEDS.SHA1, { period: 1 }), 5_500).remainingMs).toBe(500);
    expect(totpCode(totp(RFC6238_SEEDS.SHA1, { period: 300 }), 0).remainingSeconds).toBe(300);
    expect(() => totpCode(totp(RFC6238_SEEDS.SHA1, { period: 0 }), 0)).toThrow(/Period must be/);
    expect(() => totpCode(totp(RFC6238_SEEDS.SHA1, { period: 301 }), 0)).toThrow(/Period must be/);
  });

  it('refuses digits outside 6–8, and a Steam key with other than 5', () => {
    expect(() => totpCode(totp(RFC6238_SEEDS.SHA1, { digits: 5 }), 0)).toThrow(/Digits must be 6, 7 or 8/);
    expect(() => totpCode(totp(RFC6238_SEEDS.SHA1, { digits: 9 }), 0)).toThrow(/Digits must be 6, 7 or 8/);
    expect(() => totpCode({ ...steamParams(RFC6238_SEEDS.SHA1), digits: 6 }, 0)).toThrow(/5 characters/);
  });

  it('refuses negative time and mixes of HOTP and TOTP', () => {
    expect(() => totpCode(params, -1)).toThrow(/non-negative/);
    expect(() => totpCode({ ...params, kind: 'hotp' }, 0)).toThrow(/HOTP/);
    expect(() => hotpCode(params)).toThrow(/time-based/);
  });

  it('HOTP returns the code for the counter and the one after', () => {
    const result = hotpCode(totp(RFC6238_SEEDS.SHA1, { kind: 'hotp', counter: 3 }));
    expect(result).toEqual({ code: '969429', next: '338314', counter: 3 });
  });
});
