// Crash safety: a writer SIGKILLed at random points, 20 times over one vault, never loses what it reported committed.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../support/random';
import { newVault, OWNER, PASSWORD } from '../support/vault';
import { inspectVault, WriterProcess, type KillPoint } from '../support/writer-process';

const KILLS = 20;
const MAX_COMMITS_BEFORE_KILL = 24;

describe('a vault whose writer is killed with SIGKILL', () => {
  it(`keeps every reported commit, a sound file and an unbroken audit chain over ${KILLS} kills`, async () => {
    const rng = seededRandom();
    const { file, session, clock } = await newVault();
    session.lock();
    const writers: WriterProcess[] = [];
    for (let round = 0; round < KILLS; round++) {
      // Mostly mid-write after k commits; now and then inside sign-in (its audit row).
      const point: KillPoint = rng.int(0, 9) === 0 ? { afterOpened: true } : { commits: rng.int(0, MAX_COMMITS_BEFORE_KILL) };
      const writer = new WriterProcess(
        { file, user: OWNER, password: PASSWORD, prefix: `r${round}`, count: 10_000, gate: false, batchEvery: rng.int(0, 4) },
        point,
      );
      writers.push(writer);
      const exit = await writer.exited;
      const context = `seed ${rng.seed}, round ${round}, kill ${JSON.stringify(point)}, child said: ${[...writer.errors, writer.stderr].join(' ')}`;
      expect(exit.signal, context).toBe('SIGKILL');
      if ('commits' in point) expect(writer.committed.length, context).toBeGreaterThanOrEqual(point.commits);

      const facts = await inspectVault(file, clock, OWNER, PASSWORD, writers);
      expect(facts, context).toMatchObject({ integrity: 'ok', audit: { ok: true }, lost: [] });
      // Each entry and its audit row commit together; every stored row opens.
      expect(facts.createAudits, context).toBe(facts.entryRows);
      expect(facts.listed, context).toBe(facts.entryRows);
      expect(facts.entryRows, context).toBeGreaterThanOrEqual(writers.reduce((n, w) => n + w.committed.length, 0));
    }
  }, 60_000);
});
