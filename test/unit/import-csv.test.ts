/**
 * The RFC 4180 reader both CSV importers share: quoting, line breaks inside fields, CRLF and
 * LF, blank lines, and one clear error (a line number, never a field) for broken quoting.
 */
import { describe, expect, it } from 'vitest';
import { decodeExportText, decodeHead, MAX_TEXT_EXPORT_BYTES, readCsv } from '../../shared/import/csv';
import { utf8Encode } from '../../shared/bytes';
import { CrewvaultError } from '../../shared/errors';

function fields(text: string): string[][] {
  return readCsv(text).map((row) => [...row.fields]);
}

function errorOf(run: () => unknown): CrewvaultError {
  try {
    run();
  } catch (error) {
    if (error instanceof CrewvaultError) return error;
    throw error;
  }
  throw new Error('expected a CrewvaultError');
}

describe('readCsv', () => {
  it('reads plain and quoted fields, doubled quotes, commas and line breaks inside quotes', () => {
    expect(fields('a,b,c\n"x,1","say ""hi""","two\nlines"\n')).toEqual([
      ['a', 'b', 'c'],
      ['x,1', 'say "hi"', 'two\nlines'],
    ]);
  });

  it('gives each row the line it starts on, counting line breaks inside quoted fields', () => {
    expect(readCsv('h\n"a\nb"\nc\n').map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('accepts CRLF, a missing final newline, blank lines and empty fields', () => {
    expect(fields('a,b\r\n\r\n,\r\n"",x')).toEqual([['a', 'b'], ['', ''], ['', 'x']]);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(fields('He said "hi",x')).toEqual([['He said "hi"', 'x']]);
  });

  it('refuses an unclosed quote, naming the line where it opened and not the text', () => {
    const error = errorOf(() => readCsv('a,b\n"secret-value,b\nc,d\n'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('Line 2: a quoted field is never closed.');
  });

  it('refuses text after a closing quote', () => {
    const error = errorOf(() => readCsv('"abc"def,x\n'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('Line 1');
    expect(error.message).not.toContain('abc');
  });
});

describe('decodeExportText', () => {
  it('drops a byte-order mark', () => {
    expect(decodeExportText(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61), 'a test')).toBe('a');
  });

  it('refuses bytes that are not UTF-8', () => {
    const error = errorOf(() => decodeExportText(Uint8Array.of(0x61, 0xff, 0x62), 'a test export'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('The file is not UTF-8 text, so not a test export.');
  });

  it('refuses a file over the size limit before decoding it', () => {
    const huge = new Uint8Array(MAX_TEXT_EXPORT_BYTES + 1);
    const error = errorOf(() => decodeExportText(huge, 'a test export'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/too large/);
  });
});

describe('decodeHead', () => {
  it('reads a head cut in the middle of a multi-byte character', () => {
    const bytes = utf8Encode('Zürich');
    expect(decodeHead(bytes, 2)).toBe('Z');
  });

  it('is undefined for bytes that are not UTF-8 at all', () => {
    expect(decodeHead(Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa))).toBeUndefined();
  });
});
