import { describe, expect, it } from 'vitest';
import { decodeSecret, encodeSecret, groupSecret, normaliseSecret } from '../../shared/otp';
import { CrewvaultError } from '../../shared/errors';

function refusal(input: string): CrewvaultError {
  try {
    normaliseSecret(input);
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw error;
  }
  throw new Error(`expected "${input}" to be refused`);
}

describe('normaliseSecret', () => {
  it.each([
    ['jbswy3dpehpk3pxp', 'JBSWY3DPEHPK3PXP'],
    ['JBSW Y3DP EHPK 3PXP', 'JBSWY3DPEHPK3PXP'],
    ['jbsw-y3dp-ehpk-3pxp', 'JBSWY3DPEHPK3PXP'],
    ['  JBSWY3DP\tEHPK3PXP \n', 'JBSWY3DPEHPK3PXP'],
    ['MZXW6YQ=', 'MZXW6YQ'],
    ['MZXW6===', 'MZXW6'],
    ['mzxw 6yq= ', 'MZXW6YQ'],
  ])('"%s" becomes %s', (input, expected) => {
    expect(normaliseSecret(input).secret).toBe(expected);
  });

  it.each([
    ['ABC0DEFG', '"0" at position 4 (did you mean the letter O?)'],
    ['AB1CDEFG', '"1" at position 3 (did you mean the letter I or L?)'],
    ['8BCDEFGH', '"8" at position 1 (did you mean the letter B?)'],
    ['ABCD EFG9', '"9" at position 9;'],
    ['  ABCD!EFG', '"!" at position 7;'],
    ['ABCD_EFG', '"_" at position 5;'],
    ['ABCDÉFGH', '"É" at position 5;'],
    ['AB😀CDEFG', '"😀" at position 3;'],
    ['ABCD=EFG', '"=" (padding belongs only at the end) at position 5'],
    ['ABCD\u0007EFG', 'control character U+0007 at position 5'],
  ])('"%s" is refused naming %s', (input, expected) => {
    const error = refusal(input);
    expect(error.code).toBe('INVALID_SECRET');
    expect(error.message).toContain(expected);
    expect(error.message).toContain('A–Z');
  });

  it('positions count what the person typed, spaces and hyphens included', () => {
    expect(refusal('ab-cd ef 0').message).toContain('position 10');
  });

  it('refuses an empty key, whitespace or padding only', () => {
    for (const input of ['', '   ', '====', ' - - ']) expect(refusal(input).message).toBe('Secret key is empty.');
  });

  it('refuses more than 1024 characters and accepts 1024', () => {
    expect(normaliseSecret('A'.repeat(1024)).secret).toHaveLength(1024);
    expect(refusal('A'.repeat(1032)).message).toContain('too long');
    expect(refusal('A'.repeat(100_000)).message).toContain('too long');
  });

  it('refuses lengths no whole number of bytes encodes to (a lost or doubled character)', () => {
    for (const length of [1, 3, 6, 9, 17]) {
      expect(refusal('A'.repeat(length)).message).toMatch(/character is probably missing or doubled/);
    }
  });

  it('accepts a real 80-bit key without a warning and warns under 80 bits', () => {
    expect(normaliseSecret('WQIQ25BRKZYCJVYP')).toEqual({ secret: 'WQIQ25BRKZYCJVYP', bits: 80 });
    const short = normaliseSecret('PIUDISEQYA');
    expect(short.bits).toBe(48);
    expect(short.warning?.code).toBe('SHORT_SECRET');
    expect(short.warning?.message).toContain('48 bits');
  });

  it('never puts the secret itself in an error', () => {
    const secret = 'JBSWY3DPEHPK3PX0';
    expect(refusal(secret).message).not.toContain('JBSWY3DP');
  });
});

describe('base32 bytes', () => {
  it('decodes and encodes RFC 4648 §10 test vectors', () => {
    const vectors: Array<[string, string]> = [['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [text, encoded] of vectors) {
      const bytes = new Uint8Array(Array.from(text, (c) => c.charCodeAt(0)));
      expect(encodeSecret(bytes)).toBe(encoded);
      expect(Array.from(decodeSecret(encoded))).toEqual(Array.from(bytes));
    }
  });

  it('groups a key in fours for reading aloud', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
    expect(groupSecret('MZXW6YQ')).toBe('MZXW 6YQ');
  });
});
