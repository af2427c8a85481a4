/**
 * One round of team sync for a signed-in vault session and a server session (docs/SYNC.md):
 * take in what others pushed since the sequence this replica holds, then push this replica's
 * own changes; when the server names conflicts (someone pushed the same entries first), take
 * theirs in — this replica's versions become conflict copies, or HOTP counters merge — and push
 * again. `move` first pushes the whole vault, as its owner moving it onto the server does.
 * Must never: mark a change sent before the server has stored it.
 */
import { CrewvaultError } from '../../shared/errors';
import { REPLICA_FORMAT } from '../../shared/sync/records';
import type { ReplicaService } from '../vault/replica-service';
import type { TeamClient } from './client';

/** Pushes that meet conflicts are tried again this many times (each after taking the others' in). */
const PUSH_ROUNDS = 3;

export interface SyncOutcome {
  /** Records taken in from the server (others' changes), and how many of those were new here. */
  readonly pulled: number;
  readonly applied: number;
  /** Records of this replica the server stored. */
  readonly pushed: number;
  readonly conflictCopies: number;
  readonly countersMerged: number;
  /** Records set aside here, not taken in yet (a key, group or user this vault lacks, or refused): tried again each sync. */
  readonly held: number;
}

export async function syncOnce(client: TeamClient, replica: ReplicaService, options: { readonly move?: boolean } = {}): Promise<SyncOutcome> {
  const vault = replica.vaultId();
  const tally = { pulled: 0, applied: 0, pushed: 0, conflictCopies: 0, countersMerged: 0, held: 0 };
  const pullAll = async (): Promise<void> => {
    let tried = false;
    for (;;) {
      const since = replica.pulledUpTo();
      const page = await client.call('syncPull', { vault, since });
      // The server is another machine: a page must move forward by exactly what it carries.
      const last = page.records.at(-1)?.seq;
      const inOrder = page.records.every((r, i) => r.seq > since && (i === 0 || r.seq > (page.records[i - 1]?.seq ?? 0)));
      if (!inOrder || page.upTo !== (last ?? since) || (page.more && page.records.length === 0)) {
        throw new CrewvaultError('SERVER_UNREACHABLE', 'The server answered a pull out of order: nothing of it was taken in. Sync again; if it persists, tell its administrator.');
      }
      if (page.records.length > 0) {
        const outcome = replica.apply({ format: REPLICA_FORMAT, vault, records: page.records.map((r) => r.record) }, { pulledUpTo: page.upTo, hold: true });
        tally.held = outcome.held.length;
        tally.pulled += page.records.length;
        tally.applied += outcome.applied;
        tally.conflictCopies += outcome.conflictCopies.length;
        tally.countersMerged += outcome.countersMerged;
        tried = true;
      }
      if (!page.more) break;
    }
    // Records set aside earlier are tried again at each sync, even when nothing new came.
    if (!tried) tally.held = replica.apply({ format: REPLICA_FORMAT, vault, records: [] }, { hold: true }).held.length;
  };
  if (options.move) {
    const everything = replica.outgoing(true);
    const stored = await client.call('syncPush', { batch: everything.batch });
    if (stored.conflicts.length > 0) throw new CrewvaultError('CONFLICT', 'The server already holds this vault, with other versions of its entries: sync without --move.');
    replica.markSent(everything, stored);
    tally.pushed += stored.accepted;
  } else {
    await pullAll();
  }
  for (let round = 0; round < PUSH_ROUNDS; round++) {
    const out = replica.outgoing();
    if (out.batch.records.length === 0) return tally;
    const stored = await client.call('syncPush', { batch: out.batch });
    if (stored.conflicts.length === 0) {
      replica.markSent(out, stored);
      tally.pushed += stored.accepted;
      return tally;
    }
    await pullAll();
  }
  throw new CrewvaultError('BUSY', 'Others kept changing the same entries while this desktop pushed: sync again.');
}
