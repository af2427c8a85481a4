/**
 * The test helper that says whether a dump, log or output holds a secret: a short code is
 * found as a value of its own in every shape it would be stored or printed in, and not found
 * by chance inside a hash, base64 or a timestamp that merely contains its digits.
 */
import { describe, expect, it } from 'vitest';
import { holdsSecret, secretsHeld } from '../support/secrets';

describe('holdsSecret', () => {
  it('finds a short code stored or printed as a value of its own', () => {
    for (const text of ['{"code":"029200"}', 'code 029200.', '029200', 'x\n029200\n', '[029200,1]', 'code=029200&', '"029-200"'.replace('-', '')]) {
      expect(holdsSecret(text, '029200'), text).toBe(true);
    }
    expect(holdsSecret('{"r":"ABCD-EFGH"}', 'ABCD-EFGH')).toBe(true);
  });

  it('does not find a short code inside a timestamp, a hash or base64 that contains its digits', () => {
    for (const text of ['{"at":1796029200000}', 'a3f0292001bc', 'u7aYX029200Jxw', '1029200', '0292001']) {
      expect(holdsSecret(text, '029200'), text).toBe(false);
    }
  });

  it('finds a long secret anywhere, even inside other text', () => {
    const token = 'Zq3vN8pL2xR7tY1wK5mB';
    expect(holdsSecret(`prefix${token}suffix`, token)).toBe(true);
    expect(holdsSecret('prefix-suffix', token)).toBe(false);
  });

  it('refuses an empty secret, which would prove nothing', () => {
    expect(() => holdsSecret('anything', '')).toThrow(/proves nothing/);
  });

  it('names the held secrets by their place, never their value', () => {
    expect(secretsHeld('{"a":"123456"} 99887766554433221100', ['654321', '123456', '99887766554433221100'])).toEqual([1, 2]);
  });
});
