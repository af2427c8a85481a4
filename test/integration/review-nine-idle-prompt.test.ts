// Review round nine, hole 6 (#11/#13): time a command spends waiting at its prompt counts toward
// the unlock agent's idle lock. Past the limit the agent ends (at its own timer's check, or at
// any check) and the late answer, whoever typed it, is refused with one LOCKED line before the
// command uses it; an answer in time is taken and the idle time starts again from it. Real
// vault files, sockets and an in-process agent; the injected clock, never slept on.
// Must never print a secret (the values below are test values, compared, not logged).
import { describe, expect, it } from 'vitest';
import { holdInAgent, runUnlocked, Vault, manualClock, newVault, OWNER, PASSWORD, type CliIo } from '../support/unlocked-agent';

const IDLE_MS = 10 * 60_000; // holdInAgent's idle time

/** An agent holding the owner's session, and a terminal whose prompt the test answers by hand. */
async function atAPrompt() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  owner.lock();
  const vault = Vault.open(file, clock);
  const session = await vault.signIn(OWNER, PASSWORD);
  const { agent, env } = await holdInAgent(vault, file, session, clock);
  let answer: (value: string) => void = () => undefined;
  let asked: () => void = () => undefined;
  const prompted = new Promise<void>((resolve) => { asked = resolve; });
  let stderr = '';
  const io: CliIo = {
    out: () => undefined, err: (text) => { stderr += text; },
    readStdin: () => Promise.resolve(undefined),
    readSecret: () => {
      asked();
      return new Promise<string>((resolve) => { answer = resolve; });
    },
    interactive: true, now: () => clock.now(), env,
  };
  const running = runUnlocked('add', ['--customer', 'Acme', '--title', 'Typed later', '--password-prompt', '--vault', file], io);
  await prompted;
  /** How many entries the vault holds, read by a sign-in of its own. */
  const entries = async (): Promise<number> => {
    const check = Vault.open(file, clock);
    const reader = await check.signIn(OWNER, PASSWORD);
    const count = (await reader.listEntryTable({})).id.length;
    reader.lock();
    await check.close();
    return count;
  };
  return { clock, agent, running, entries, answer: (value: string) => answer(value), stderr: () => stderr };
}

describe('time at a prompt is idle time (hole 6)', () => {
  it('the reviewer\'s case: 3 hours at the prompt, the agent ends at the next check and the late answer writes nothing', async () => {
    const { clock, agent, running, entries, answer, stderr } = await atAPrompt();
    clock.advance(3 * 60 * 60_000);
    expect(agent.check()).toBe(true);
    answer('typed by whoever sat down');
    expect(await running).toBe(1);
    expect(await entries()).toBe(0);
    expect(stderr()).toMatch(/^crewvault: LOCKED: The session locked while this command waited at its prompt[^\n]*\n$/);
    expect(await agent.stopped).toMatch(/no command for 10 minutes/);
  });

  it('no check ran while it waited (the timer missed): the answer itself finds the limit passed and is refused', async () => {
    const { clock, agent, running, entries, answer, stderr } = await atAPrompt();
    clock.advance(IDLE_MS);
    answer('typed exactly at the limit');
    expect(await running).toBe(1);
    expect(await entries()).toBe(0);
    expect(stderr()).toMatch(/^crewvault: LOCKED: [^\n]*\n$/);
    expect(await Promise.race([agent.stopped, Promise.resolve('still running')])).not.toBe('still running');
  });

  it('an answer in time is taken, and the idle time starts again from it', async () => {
    const { clock, agent, running, entries, answer, stderr } = await atAPrompt();
    clock.advance(IDLE_MS - 1);
    expect(agent.check()).toBe(false);
    answer('typed in time');
    expect(await running).toBe(0);
    expect(stderr()).toBe('');
    expect(await entries()).toBe(1);
    clock.advance(IDLE_MS - 1);
    expect(agent.check()).toBe(false);
    clock.advance(1);
    expect(agent.check()).toBe(true);
  });
});
