/**
 * A new desktop's first sync (docs/SYNC.md "Speed"): on a replica that holds no entry yet, the
 * vault's state comes as the server's snapshot (each object's newest record once, no history),
 * then the audit events up to the same point, then the usual pull from there on: a record written
 * on the server during the snapshot is above the point it ends at, so the pull brings it. Every
 * record is checked as a pull's are (signature, sender allowed, key version, opened, keyed
 * lookup; replica-service.ts `fresh`): a record that fails is set aside with the same reason.
 * Pages are asked for ahead and their signatures checked on the worker threads while the page
 * before is written. The point reached is kept only with the last page of events, so a first sync
 * cut short is finished by an ordinary pull from the start (which takes what is here as agreed).
 * The first record taken in binds the replica to this server (ReplicaService.teamServer): only
 * records checked under this vault's own keys do, which a server that never held the vault lacks.
 * Must never: take a snapshot into a replica holding entries or unsent changes (its records would
 * not be judged against them), or move the pulled sequence past events it has not taken in.
 */
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import type { ReplicaService } from '../vault/replica-service';
import type { VerifiedSignatures } from '../vault/replica-verify';
import type { TeamClient } from './client';

/** Pages smaller than this are checked when applied (a handover costs more than it saves). */
const CHECK_AHEAD_FROM = 64;

export interface FirstSyncOutcome {
  /** Records taken in (state and events), of them applied, and set aside. */
  readonly pulled: number;
  readonly applied: number;
  readonly held: number;
  /** The server's sequence the snapshot reached: the next pull starts there. */
  readonly upTo: number;
  /** Milliseconds (from `clock`) until the state was written (entries listed), and until the events were too. */
  readonly stateMs: number;
  readonly eventsMs: number;
}

type Page = ServerRouteOutput<'syncSnapshot'>;

export interface FirstSyncOptions {
  /** Told the records taken so far after each page is written (awaited: the next page is written after it). */
  readonly onPage?: (taken: number) => void | Promise<void>;
  /** Milliseconds, for the outcome's times. */
  readonly clock?: () => number;
  /** Records a page at most (the server's default when absent). */
  readonly pageRecords?: number;
}

/**
 * Takes the server's snapshot into `replica` when it is empty (ReplicaService.isEmpty); undefined
 * (nothing done) when it is not: an ordinary pull then judges each record against what it holds.
 */
export async function firstSync(client: TeamClient, replica: ReplicaService, options: FirstSyncOptions = {}): Promise<FirstSyncOutcome | undefined> {
  if (!(await replica.isEmpty())) return undefined;
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const vault = await replica.vaultId();
  const tally = { pulled: 0, applied: 0, held: 0 };
  let bound = false;
  let upTo: number | undefined;
  const request = (part: 'state' | 'events', after: number): { readonly after: number; readonly page: Promise<Page>; readonly checked: Promise<VerifiedSignatures | undefined> } => {
    const page = client.call('syncSnapshot', { vault, part, after, ...(upTo === undefined ? {} : { upTo }), ...(options.pageRecords === undefined ? {} : { limit: options.pageRecords }) });
    page.catch(() => undefined); // awaited below; a prefetch dropped unread must not surface as unhandled
    const checked = page.then((p) => (p.records.length < CHECK_AHEAD_FROM ? undefined : replica.checkAhead(vault, p.records.map((r) => r.record), p.batches))).catch(() => undefined);
    return { after, page, checked };
  };
  const takePart = async (part: 'state' | 'events'): Promise<void> => {
    let after = 0;
    // The snapshot's end is fixed by its first page; the events part asks only once it is known.
    let ahead = request(part, after);
    for (;;) {
      const asked = ahead.after === after ? ahead : request(part, after);
      const page = await asked.page;
      if (upTo === undefined) upTo = page.upTo;
      const last = page.records.at(-1)?.seq;
      const inOrder = page.records.every((r, i) => r.seq > after && r.seq <= page.upTo && (i === 0 || r.seq > (page.records[i - 1]?.seq ?? 0)));
      const kindsRight = page.records.every((r) => (r.record.kind === 'event') === (part === 'events'));
      if (!inOrder || !kindsRight || page.upTo !== upTo || page.after < (last ?? after) || page.after > upTo || (page.more && page.after <= after)) {
        throw new CrewvaultError('SERVER_UNREACHABLE', 'The server answered a first sync out of order: nothing more of it was taken in. Sync again; if it persists, tell its administrator.');
      }
      if (page.more) ahead = request(part, page.after);
      const lastPage = !page.more;
      if (page.records.length > 0 || (lastPage && part === 'events')) {
        const checked = await asked.checked;
        const records: ReplicaRecord[] = page.records.map((r) => r.record);
        // The pulled sequence moves only with the last page of events: everything up to it is here then.
        const outcome = await replica.applyPulled(vault, records, {
          hold: true, fresh: part === 'state', ...(checked ? { checked } : {}), ...(lastPage && part === 'events' ? { pulledUpTo: upTo } : {}),
        }, page.batches);
        tally.pulled += records.length;
        tally.applied += outcome.applied;
        // A replica filled from this server's records, checked under this vault's keys (a join, a
        // copy of the file made before its move), syncs with this server (sync.ts pushes to no other).
        if (outcome.applied > 0 && !bound && client.serverKey !== undefined && client.serverKey !== '' && (await replica.teamServer()) === undefined) {
          await replica.bindTeamServer({ key: client.serverKey, origin: client.url.origin });
          bound = true;
        }
        tally.held = outcome.held.length;
        await options.onPage?.(tally.pulled);
      }
      after = page.after;
      if (lastPage) return;
    }
  };
  await takePart('state');
  const stateMs = clock() - started;
  await takePart('events');
  return { ...tally, upTo: upTo ?? 0, stateMs, eventsMs: clock() - started };
}
