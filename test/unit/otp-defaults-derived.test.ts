// Default OTP parameters derived, not copied (issue #13): the TOTP period and the default shape
// (SHA1, 6 digits, 30 s) are written once, in shared/otp; every other file of the desktop takes
// them from there (mfa.ts's period, the entry form's starting choice). Reads the source tree only.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
/** A literal 30 s period or 6 digits given as an OTP parameter. */
const COPIED = /\b(?:period|digits)\s*:\s*(?:30|6)\b/;

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true }).flatMap((item) => {
    const relative = `${folder}/${item.name}`;
    if (item.isDirectory()) return sourceFiles(relative);
    return /\.tsx?$/.test(item.name) ? [relative] : [];
  });
}

describe('default OTP parameters', () => {
  it('the pattern finds a copied default', () => {
    expect(COPIED.test("const DEFAULT_ADVANCED = { kind: 'totp', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };")).toBe(true);
    expect(COPIED.test('period: DEFAULT_PERIOD')).toBe(false);
  });

  it('are spelled out only in shared/otp', () => {
    const copies = ['electron', 'renderer', 'shared'].flatMap(sourceFiles)
      .filter((file) => !file.startsWith('shared/otp/'))
      .flatMap((file) => readFileSync(path.join(ROOT, file), 'utf8').split('\n')
        .flatMap((line, i) => (COPIED.test(line) ? [`${file}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])));
    expect(copies).toEqual([]);
  });
});
