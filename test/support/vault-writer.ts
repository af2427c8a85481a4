/**
 * A child process for the crash and concurrency tests: opens a vault, signs in and adds
 * entries through the service, printing "committed <title>" only after each write returned.
 * Bundled by global-setup.ts to dist/test/vault-writer.mjs; the job is JSON in argv[2].
 * Lines go out with writeSync so a printed line never runs ahead of, or lags, its commit.
 */
import { writeSync } from 'node:fs';
import { CrewvaultError } from '../../shared/errors';
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { WRITER_ERROR_STATUS, WRITER_LINES, writerEntry, type WriterJob } from './writer-protocol';

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      text += chunk;
      if (text.split('\n').includes('go')) {
        process.stdin.pause();
        resolve();
      }
    });
  });
}

async function run(job: WriterJob): Promise<void> {
  // A stepping clock: timestamps are deterministic and nothing reads the wall clock.
  let tick = Date.UTC(2026, 10, 22, 9, 0, 0);
  const clock: Clock = { now: () => tick++ };
  const vault = Vault.open(job.file, clock);
  say(WRITER_LINES.opened);
  const session = await vault.signIn(job.user, job.password);
  say(WRITER_LINES.ready);
  if (job.gate) await waitForGo();
  if (job.edit) {
    // The race: every child edits one entry from the same revision; at most one may win.
    const written = await session.updateEntry(job.edit.entryId, { notes: `written by ${job.prefix}` }, job.edit.baseRevision);
    say(`${WRITER_LINES.committed}${written.title}`);
  }
  for (let i = 0; i < (job.edit ? 0 : job.count); ) {
    const batch = job.batchEvery > 0 && i % job.batchEvery === job.batchEvery - 1 ? Math.min(3, job.count - i) : 1;
    const inputs = Array.from({ length: batch }, (_, k) => writerEntry(job.prefix, i + k));
    const created = batch === 1 && inputs[0] ? [await session.createEntry(inputs[0])] : (await session.createEntries(inputs));
    for (const entry of created) say(`${WRITER_LINES.committed}${entry.title}`);
    i += batch;
  }
  session.lock();
  await vault.close();
  say(WRITER_LINES.done);
}

run(JSON.parse(process.argv[2] ?? '{}') as WriterJob).catch((error: unknown) => {
  if (error instanceof CrewvaultError) {
    say(`${WRITER_LINES.error}${error.code} ${error.message}`);
    process.exit(WRITER_ERROR_STATUS);
  }
  console.error(error);
  process.exit(1);
});
