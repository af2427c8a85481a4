/**
 * The load generator of `npm run bench:sync`'s entry-write row (issue 15), run as a process of
 * its own (forked by sync-cluster.ts from the same built bench file) so its work never lands in
 * the server's numbers or the bench's. It is a desktop of the team: its own copy of the vault
 * file (a device of its own), signed in as the vault's owner, and signed in to the team server.
 * It makes `writes` new entries in its vault with the real desktop code, takes the records a
 * sync would send (each entry sealed and signed by its sender: replica-service.ts outgoing),
 * pushes the new customers once (not timed), then pushes the entries one record a push,
 * `writers` pushes in flight at once, each on a new connection as the desktop's transport makes
 * them, until every entry is pushed or `seconds` have passed (bounded in count and time).
 * It reports per-push latencies (request sent → reply parsed) back over the IPC channel.
 *
 * Must never: take a secret on its command line (passwords come over the IPC channel), or
 * run on after its parent is gone (it exits when the channel closes).
 */
import { parseOtpUri } from '../../shared/otp';
import { REPLICA_FORMAT_BATCHED, type ReplicaRecord } from '../../shared/sync/records';
import type { RecordBatch } from '../../shared/sync/record-batches';
import { TeamClient } from '../../electron/team/client';
import { Vault } from '../../electron/vault/vault';
import { benchEntries } from './dataset';
import { nowMs } from './measure';

/** What the bench sends the writer (over IPC, never in argv or the environment). */
export interface WriterTask {
  readonly kind: 'write';
  readonly file: string;
  readonly owner: string;
  readonly vaultPassword: string;
  readonly serverPassword: string;
  readonly url: string;
  readonly writes: number;
  readonly seconds: number;
  readonly writers: number;
}

export type WriterReport =
  | { readonly kind: 'ready'; readonly prepared: number }
  | {
    readonly kind: 'done';
    readonly done: number;
    readonly failed: number;
    readonly firstFailure: string | undefined;
    readonly wallMs: number;
    readonly latencies: readonly number[];
    readonly cpuMs: number;
  }
  | { readonly kind: 'error'; readonly message: string };

function send(report: WriterReport): void {
  process.send?.(report);
}

/** Waits for the bench's "go" after the writer said it is ready: the bench starts its CPU counters between the two. */
function go(): Promise<void> {
  return new Promise((resolve) => {
    process.once('message', () => resolve());
  });
}

async function write(task: WriterTask): Promise<void> {
  const session = await Vault.open(task.file).signIn(task.owner, task.vaultPassword);
  const entries: ReplicaRecord[] = [];
  const setup = new Map<string, ReplicaRecord>();
  const batches = new Map<string, RecordBatch>();
  let vault = '';
  try {
    // Seeded apart from the vault's own entries: new entries, some under customers new to the team.
    // Each made and handed on alone, as a desktop sends one edit: its own signed batch (record
    // format 2) of its record (and its customer's, when new), with the owner's signing key, which
    // the server checks every signature by.
    for (const e of benchEntries(task.writes, 0x3717e)) {
      const otp = e.otpUri ? parseOtpUri(e.otpUri) : null;
      await session.createEntries([{ customer: e.customer, title: `${e.title} (load)`, username: e.username, password: e.password, url: e.url, notes: e.notes, otp: otp ? { params: otp.params } : null }]);
      const out = await session.replica.outgoing(false, true);
      vault = out.batch.vault;
      for (const batch of out.batch.batches ?? []) batches.set(batch.id, batch);
      for (const r of out.batch.records) {
        if (r.kind === 'entry') entries.push(r);
        else if (r.kind === 'customer' || r.kind === 'signing_key') setup.set(r.id, r);
      }
      await session.replica.markSent(out);
    }
  } finally {
    await session.close();
  }

  const client = new TeamClient(new URL(task.url), { kind: 'loopback' }, 'bench-load-writer-0001');
  await client.login(task.owner, task.serverPassword);
  /** The signed batches `records` name, as a push must carry them. */
  const named = (records: readonly ReplicaRecord[]): RecordBatch[] => [...new Set(records.flatMap((r) => ('batch' in r && r.batch !== undefined ? [r.batch] : [])))]
    .flatMap((id) => { const batch = batches.get(id); return batch === undefined ? [] : [batch]; });
  const setupRecords = [...setup.values()];
  if (setupRecords.length > 0) await client.call('syncPush', { batch: { format: REPLICA_FORMAT_BATCHED, vault, records: setupRecords, batches: named(setupRecords) } });
  send({ kind: 'ready', prepared: entries.length });
  await go();

  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = nowMs();
  const deadline = started + task.seconds * 1000;
  const writer = async (): Promise<void> => {
    for (let i = next++; i < entries.length && nowMs() < deadline; i = next++) {
      const record = entries[i];
      if (record === undefined) break;
      const sent = nowMs();
      try {
        const stored = await client.call('syncPush', { batch: { format: REPLICA_FORMAT_BATCHED, vault, records: [record], batches: named([record]) } });
        if (stored.accepted !== 1) throw new Error(`the server took ${stored.accepted} of 1 record (${stored.conflicts.length} conflicts)`);
        latencies.push(nowMs() - sent);
      } catch (error) {
        failed++;
        firstFailure ??= (error instanceof Error ? error.message : String(error)).split('\n')[0];
      }
    }
  };
  await Promise.all(Array.from({ length: task.writers }, () => writer()));
  const wallMs = nowMs() - started;
  const cpu = process.cpuUsage(cpu0);
  send({ kind: 'done', done: latencies.length, failed, firstFailure, wallMs, latencies, cpuMs: (cpu.user + cpu.system) / 1000 });
}

/** The writer process's main: one task from the parent, one report, then exit. */
export async function runWriterProcess(): Promise<void> {
  // The bench gone (its channel closed): nothing here is worth finishing.
  process.once('disconnect', () => process.exit(0));
  const task = await new Promise<WriterTask>((resolve) => {
    process.once('message', (message: WriterTask) => resolve(message));
  });
  try {
    await write(task);
  } catch (error) {
    send({ kind: 'error', message: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'failed' });
  }
  process.disconnect();
}
