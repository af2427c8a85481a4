// The otpauth list importer and Google Authenticator's multi-page exports (issue #12): every
// page's entries read, a page given twice read once, a missing page named.
import { describe, expect, it } from 'vitest';
import { readOtpauthList } from '../../shared/import/otpauth';
import { buildMigrationUri, parseOtpUri } from '../../shared/otp';

const KEYS = ['JBSWY3DPEHPK3PXP', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'MFRGGZDFMZTWQ2LK', 'ONSWG4TFORXXEZDU', 'KRUGS4ZANFZSA2LT', 'NZ2XEYLMNRZW2ZLT'];
const page = (index: number, size = 3, id = 42): string => buildMigrationUri(
  KEYS.slice(index * 2, index * 2 + 2).map((secret, k) => ({ ...parseOtpUri(`otpauth://totp/Acme:user${index * 2 + k}?secret=${secret}&issuer=Acme`), account: `user${index * 2 + k}` })),
  { index, size, id },
);

describe('a Google Authenticator export over several pages', () => {
  it('reads every page of the batch, in any order', () => {
    const read = readOtpauthList([page(2), page(0), page(1)].join('\n'));
    expect(read.problems).toEqual([]);
    expect(read.entries.map((e) => e.username).sort()).toEqual(['user0', 'user1', 'user2', 'user3', 'user4', 'user5']);
  });

  it('names a missing page, and reads a page given twice once', () => {
    const read = readOtpauthList([page(0), page(2), page(0)].join('\n'));
    expect(read.entries.map((e) => e.username)).toEqual(['user0', 'user1', 'user4', 'user5']);
    expect(read.problems).toEqual([
      { where: 'Line 3', message: 'page 1 of 3 of this Google export was already read: skipped.' },
      { where: 'Google export', message: 'page 2 of 3 is missing: export or scan it too.' },
    ]);
  });

  it('keeps two different exports apart by their batch id', () => {
    const read = readOtpauthList([page(0, 2, 7), page(0, 1, 8)].join('\n'));
    expect(read.problems).toEqual([{ where: 'Google export', message: 'page 2 of 2 is missing: export or scan it too.' }]);
  });
});
