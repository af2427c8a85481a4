// shared/bytes.ts utf8Decode against Node's own encoder: every kind of code point round-trips,
// and each kind of malformed UTF-8 is refused rather than replaced.
import { describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../../shared/bytes';

describe('utf8Decode', () => {
  it.each(['hello', 'José', '€100', '𝄞 music', 'a\u0000b', '日本語テキスト', '', 'x'.repeat(20_000) + '€'])('decodes %j as Node encodes it', (text) => {
    expect(utf8Decode(new Uint8Array(Buffer.from(text, 'utf8')))).toBe(text);
    expect(utf8Decode(utf8Encode(text))).toBe(text);
  });

  it.each([
    ['a lone continuation byte', [0x80]],
    ['an overlong two-byte form', [0xc0, 0x80]],
    ['an overlong three-byte form', [0xe0, 0x80, 0x80]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf5, 0x80, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
  ])('refuses %s', (_what, bytes) => {
    expect(() => utf8Decode(new Uint8Array(bytes))).toThrow('not valid UTF-8');
  });
});
