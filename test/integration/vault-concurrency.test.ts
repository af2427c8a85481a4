// Two processes writing one vault at once: each finishes or says BUSY, and nothing reported committed is lost.
import { describe, expect, it } from 'vitest';
import { newVault, OWNER, PASSWORD } from '../support/vault';
import { WRITER_ERROR_STATUS } from '../support/writer-protocol';
import { inspectVault, WriterProcess, type WriterExit } from '../support/writer-process';

const ROUNDS = 3;
const ENTRIES_EACH = 60;

function outcome(writer: WriterProcess, exit: WriterExit): string {
  if (exit.status === 0 && writer.committed.length === ENTRIES_EACH) return 'done';
  if (exit.status === WRITER_ERROR_STATUS && writer.errors.length === 1 && writer.errors[0]?.startsWith('BUSY ')) return 'busy';
  return `failed (status ${exit.status}, signal ${exit.signal}, ${writer.committed.length} committed, ${writer.errors.join('; ')}${writer.stderr})`;
}

describe('two processes adding entries to one vault at the same time', () => {
  it(`both succeed or one reports BUSY, and the vault keeps every reported entry (${ROUNDS} rounds)`, async () => {
    const { file, session, clock } = await newVault();
    session.lock();
    const everyone: WriterProcess[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const writers = ['a', 'b'].map(
        (name) => new WriterProcess({ file, user: OWNER, password: PASSWORD, prefix: `${name}${round}`, count: ENTRIES_EACH, gate: true, batchEvery: 5 }),
      );
      everyone.push(...writers);
      // Both signed in and waiting before either writes: their writes overlap.
      await Promise.all(writers.map((w) => w.ready));
      for (const w of writers) w.go();
      const exits = await Promise.all(writers.map((w) => w.exited));
      const outcomes = writers.map((w, i) => outcome(w, exits[i] ?? { status: null, signal: null }));
      expect(outcomes.every((o) => o === 'done' || o === 'busy'), outcomes.join(' | ')).toBe(true);
      expect(outcomes.filter((o) => o === 'busy').length, outcomes.join(' | ')).toBeLessThanOrEqual(1);

      const facts = await inspectVault(file, clock, OWNER, PASSWORD, everyone);
      expect(facts).toMatchObject({ integrity: 'ok', audit: { ok: true }, lost: [] });
      expect(facts.createAudits).toBe(facts.entryRows);
      expect(facts.listed).toBe(facts.entryRows);
      expect(facts.entryRows).toBe(everyone.reduce((n, w) => n + w.committed.length, 0));
    }
  });
});
