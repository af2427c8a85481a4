// The review's own cases with the real binary (review #10, items 6 and 7): 12 `crewvault list`
// processes given one code, or one recovery code, at the same moment accept it once; 12 wrong
// passwords are counted three and the rest wait, for a known and an unknown name alike.
// The CLI reads the wall clock, so codes are computed for it (test/support/totp.ts), each round
// has a fresh vault whose authenticator was set up an hour before, and nothing here sleeps:
// every process gets its password once all hold the vault open (test/support/cli-together.ts).
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CliResult } from '../support/cli';
import { crewvaultTogether, type CliRun } from '../support/cli-together';
import { totp } from '../support/totp';
import { manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

const N = 12;
const ROUNDS = 2;
const TIME_LIMIT_MS = 120_000;

async function mfaVault() {
  const setUpAt = Date.now() - 60 * 60_000;
  const { file, session } = await newVault(manualClock(setUpAt));
  const { secret } = await session.mfa.beginEnrolment(setUpAt);
  const recovery = await session.mfa.confirmEnrolment(totp(secret, setUpAt), setUpAt);
  await session.close();
  return { file, secret, recovery };
}

function run(file: string, who: string, password: string, ...secondStep: string[]): CliRun {
  return { args: ['list', '--vault', file, '--as', who, ...secondStep], input: `${password}\n` };
}

/** "ok", or the error code of a one-line failure; anything else is shown whole. */
function outcome(result: CliResult): string {
  if (result.status === 0) return 'ok';
  const line = /^crewvault: ([A-Z_]+): [^\n]+\n$/.exec(result.stderr);
  return result.status === 1 && line?.[1] ? line[1] : `status ${result.status}: ${result.stderr}`;
}

function tally(results: readonly CliResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) counts[outcome(result)] = (counts[outcome(result)] ?? 0) + 1;
  return counts;
}

/** One accepted; every other refused for the code, or told to wait (a sign-in that overlapped
 * others counts as failed until its password is checked, so some may not reach the code). */
function expectOneAccepted(results: readonly CliResult[], round: number): void {
  const counts = tally(results);
  expect(counts.ok, `round ${round}: ${JSON.stringify(counts)}`).toBe(1);
  expect(Object.keys(counts).filter((k) => !['ok', 'WRONG_CODE', 'TOO_MANY_ATTEMPTS'].includes(k)), JSON.stringify(counts)).toEqual([]);
}

describe(`${N} crewvault processes at once`, () => {
  it(`accept one TOTP code once (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { file, secret } = await mfaVault();
      const code = totp(secret, Date.now());
      expectOneAccepted(await crewvaultTogether(Array.from({ length: N }, () => run(file, OWNER, PASSWORD, '--code', code)), file), round);
    }
  }, TIME_LIMIT_MS);

  it(`accept one recovery code once (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { file, recovery } = await mfaVault();
      const code = recovery[0] ?? '';
      expectOneAccepted(await crewvaultTogether(Array.from({ length: N }, () => ({ args: ['list', '--vault', file, '--as', OWNER, '--recovery-code', '-'], input: `${PASSWORD}\n${code}\n` })), file), round);
    }
  }, TIME_LIMIT_MS);

  it('count wrong passwords: three checked, the rest wait, for a known and an unknown name alike', async () => {
    const { file } = await newVault();
    const known = await crewvaultTogether(Array.from({ length: N }, (_, i) => run(file, OWNER, `guess ${i}`)), file);
    expect(tally(known)).toEqual({ WRONG_PASSWORD: 3, TOO_MANY_ATTEMPTS: N - 3 });
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT s.failed_passwords FROM users u JOIN sign_in_state s ON s.user_id = u.id WHERE u.name = ?').get(OWNER)).toEqual({ failed_passwords: 3 });
    db.close();
    const unknown = await crewvaultTogether(Array.from({ length: N }, (_, i) => run(file, 'mallory', `guess ${i}`)), file);
    expect(tally(unknown)).toEqual(tally(known));
  }, TIME_LIMIT_MS);
});
