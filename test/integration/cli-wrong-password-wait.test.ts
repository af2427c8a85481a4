// The README's wrong-password paragraph, at the CLI (#11: "the README says wrong passwords make the
// next attempt wait; the CLI refuses instead"): three wrong passwords start a wait of 1 s, then 2 s,
// 4 s, …; until it is over every attempt, the right password included, is refused with
// TOO_MANY_ATTEMPTS and the seconds left, and the command does not wait; the wait is kept in the
// vault, so each command (a new open of the file) finds it; an unknown name is answered the same
// way. The real CLI in-process on a real vault file, with a clock the test moves (never slept on).
import { describe, expect, it } from 'vitest';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

const WRONG = 'crewvault: WRONG_PASSWORD: Wrong user name or password.\n';
const waitFor = (seconds: number): string => `crewvault: TOO_MANY_ATTEMPTS: Too many failed sign-in attempts: try again in ${seconds} s.\n`;

async function world() {
  const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0));
  const { file, session } = await newVault(clock);
  await session.close();
  const list = async (who: string, password: string): Promise<Pick<CliOutcome, 'status' | 'stdout' | 'stderr'>> => {
    const { status, stdout, stderr } = await runScripted(['list', '--vault', file, '--as', who], [password], clock);
    return { status, stdout, stderr };
  };
  return { clock, list };
}

describe('wrong passwords at the CLI, as the README says', () => {
  it('three wrong start a wait that refuses even the right password, with the seconds left, and doubles', async () => {
    const { clock, list } = await world();
    for (const guess of ['guess one', 'guess two', 'guess three']) expect(await list(OWNER, guess)).toEqual({ status: 1, stdout: '', stderr: WRONG });
    expect(await list(OWNER, PASSWORD)).toEqual({ status: 1, stdout: '', stderr: waitFor(1) });
    clock.advance(1_000);
    // Over: one more wrong one starts the next wait, twice as long.
    expect(await list(OWNER, 'guess four')).toEqual({ status: 1, stdout: '', stderr: WRONG });
    expect(await list(OWNER, PASSWORD)).toEqual({ status: 1, stdout: '', stderr: waitFor(2) });
    clock.advance(1_000);
    expect(await list(OWNER, PASSWORD)).toEqual({ status: 1, stdout: '', stderr: waitFor(1) });
    clock.advance(1_000);
    expect(await list(OWNER, PASSWORD)).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('an unknown user name is counted and answered the same way', async () => {
    const { list } = await world();
    for (const guess of ['guess one', 'guess two', 'guess three']) expect(await list('mallory', guess)).toEqual({ status: 1, stdout: '', stderr: WRONG });
    expect(await list('mallory', 'guess four')).toEqual({ status: 1, stdout: '', stderr: waitFor(1) });
  });
});
