/**
 * The applies' ranges kept to what a read can tell apart (electron/vault/store-replica-people.ts
 * boundedTakenSeqs): every sequence a user, group or membership row stands at gets the answer it
 * got from all the ranges (writtenByApply), with no more ranges than such rows. Pure: no file.
 */
import { describe, expect, it } from 'vitest';
import { boundedTakenSeqs, writtenByApply, type TakenSeqs } from '../../electron/vault/store-replica-people';

describe('boundedTakenSeqs', () => {
  it('drops ranges no row stands in and joins those with no row between them', () => {
    // Rows at 3 (an apply's), 7 (written here, between applies), 12 and 14 (applies').
    const ranges: TakenSeqs = [[1, 4], [5, 6], [8, 10], [10, 12], [13, 15], [16, 20]];
    expect(boundedTakenSeqs(ranges, [3, 7, 12, 14])).toEqual([[1, 4], [10, 15]]);
  });

  it('gives every row the answer all the ranges gave, whatever the rows', () => {
    const ranges: TakenSeqs = Array.from({ length: 40 }, (_, i) => [i * 5, i * 5 + 3] as const);
    for (let seed = 1; seed <= 50; seed++) {
      const people = [...new Set(Array.from({ length: seed % 17 }, (_, k) => ((seed * 31 + k * 57) % 200) + 1))].sort((x, y) => x - y);
      const bounded = boundedTakenSeqs(ranges, people);
      for (const seq of people) expect(writtenByApply(bounded, seq), `seed ${seed}, seq ${seq}`).toBe(writtenByApply(ranges, seq));
      expect(bounded.length).toBeLessThanOrEqual(people.length);
    }
  });
});
