/**
 * A new desktop's first sync (docs/SYNC.md "Speed"): on a replica that holds no entry yet, the
 * vault's state comes as the server's snapshot (each object's newest record once, no history),
 * then the audit events up to the same point, then the usual pull from there on: a record written
 * on the server during the snapshot is above the point it ends at, so the pull brings it. Every
 * record is checked as a pull's are (signature, sender allowed, key version, opened, keyed
 * lookup; replica-service.ts `fresh`): a record that fails is set aside with the same reason, and
 * so is one the server stored out of the contract's shape (snapshot-page.ts), the rest taken.
 * Pages are asked for ahead (the request out before the page before is written, which holds the
 * event loop) and their signatures checked on the worker threads while the page
 * before is written. The state part's last page moves the pulled sequence to the snapshot's end
 * and, in the same transaction, leaves a history cursor in the file (store-history.ts): the
 * desktop is usable from there, and the events part (the audit history) is taken in by
 * takeHistory, now or later, a page at a time, the cursor moving with each page, so an
 * interrupted history goes on where it stopped. Pulled events that continue a device chain whose
 * earlier events are still in the history are set aside (appendReceivedEvent refuses an event
 * that does not follow its device's last one) and tried again in the history's last page's
 * transaction, after its events and before the cursor is cleared (none waits past it). A first
 * sync cut short inside its state part is finished by an ordinary pull from the start.
 * The first record taken in binds the replica to this server (ReplicaService.teamServer): only
 * records checked under this vault's own keys do, which a server that never held the vault lacks.
 * Must never: take a snapshot into a replica holding entries or unsent changes (its records would
 * not be judged against them), or move the pulled sequence past events it has not taken in
 * without the history cursor that owes them in the same transaction.
 */
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { VAULT_OBJECT_KINDS, type ReplicaRecord } from '../../shared/sync/records';
import type { ReplicaService } from '../vault/replica-service';
import type { VerifiedSignatures } from '../vault/replica-verify';
import { askedAhead, type TeamClient } from './client';
import { requireServerSchema } from './server-schema';
import { snapshotPage, type SnapshotPage } from './snapshot-page';

/** Pages smaller than this are checked when applied (a handover costs more than it saves). */
const CHECK_AHEAD_FROM = 64;

export interface FirstSyncOutcome {
  /** Records taken in (state and events), of them applied, and set aside. */
  readonly pulled: number;
  readonly applied: number;
  readonly held: number;
  /** The server's sequence the snapshot reached: the next pull starts there. */
  readonly upTo: number;
  /** Milliseconds (from `clock`) until the state was written (entries listed: usable), and until the events were too (history in; undefined when left for later). */
  readonly stateMs: number;
  readonly eventsMs: number | undefined;
  /** The audit history is still owed (history 'later'): takeHistory takes it in. */
  readonly historyOwed: boolean;
}

type Page = ServerRouteOutput<'syncSnapshot'>;

export interface FirstSyncOptions {
  /** Told the records taken so far after each page is written (awaited: the next page is written after it). */
  readonly onPage?: (taken: number) => void | Promise<void>;
  /** Milliseconds, for the outcome's times. */
  readonly clock?: () => number;
  /** Records a page at most (the server's default when absent). */
  readonly pageRecords?: number;
  /** 'now' (the default): the history is taken in before firstSync returns; 'later': it returns once the state is in. */
  readonly history?: 'now' | 'later';
  /** Told the events of the history taken so far after each page of it is written. */
  readonly onHistory?: (taken: number) => void | Promise<void>;
}

/** What the desktop app's background taking (history-runner.ts) adds to takeHistory. */
export interface HistoryRunOptions extends Pick<FirstSyncOptions, 'onHistory' | 'pageRecords'> {
  /**
   * Told once a run, with its first page, how many events the history holds (the server counts
   * them: `total`) and how many of them were in before this run (`taken`); then `onHistory` tells
   * this run's own. Asking costs the server one read a run.
   */
  readonly onCount?: (count: { readonly total: number; readonly taken: number }) => void;
  /** Asked before each page is written: true stops the run there (the vault locking); the cursor stays where the last page left it. */
  readonly stop?: () => boolean;
}

export interface HistoryOutcome {
  /** Events taken in (of them chained here) and the records set aside after the history was in. */
  readonly pulled: number;
  readonly applied: number;
  readonly held: number;
  /** The run stopped before the history was all in (HistoryRunOptions.stop): the cursor owes the rest. */
  readonly stopped?: true;
}

/** `sent`: the request is out (client.ts askedAhead), so the server reads the page while this desktop writes the one before. */
type Request = { readonly after: number; readonly page: Promise<SnapshotPage>; readonly checked: Promise<VerifiedSignatures | undefined>; readonly sent: Promise<void> };

/** One snapshot page asked for, its signatures checked on the worker threads as soon as it arrives. */
function requestPage(client: TeamClient, replica: ReplicaService, vault: string, part: 'state' | 'events', after: number, upTo: number | undefined, limit: number | undefined, count = false): Request {
  // Read record by record when a record does not fit the contract (snapshot-page.ts): those are set aside, the rest taken.
  const { reply: page, sent } = askedAhead((out) => snapshotPage(client, { vault, part, after, kinds: [...VAULT_OBJECT_KINDS], ...(upTo === undefined ? {} : { upTo }), ...(limit === undefined ? {} : { limit }), ...(count ? { count: true as const } : {}) }, out));
  page.catch(() => undefined); // awaited below; a prefetch dropped unread must not surface as unhandled
  const checked = page.then(({ page: p }) => (p.records.length < CHECK_AHEAD_FROM ? undefined : replica.checkAhead(vault, p.records.map((r) => r.record), p.batches))).catch(() => undefined);
  return { after, page, checked, sent };
}

/** The server is another machine: a snapshot page must move forward, in order, within the snapshot, of its part. */
function checkPage(page: Page, part: 'state' | 'events', after: number, upTo: number): void {
  const last = page.records.at(-1)?.seq;
  const inOrder = page.records.every((r, i) => r.seq > after && r.seq <= page.upTo && (i === 0 || r.seq > (page.records[i - 1]?.seq ?? 0)));
  const kindsRight = page.records.every((r) => (r.record.kind === 'event') === (part === 'events'));
  if (!inOrder || !kindsRight || page.upTo !== upTo || page.after < (last ?? after) || page.after > upTo || (page.more && page.after <= after)) {
    throw new CrewvaultError('SERVER_UNREACHABLE', 'The server answered a first sync out of order: nothing more of it was taken in. Sync again; if it persists, tell its administrator.');
  }
}

/**
 * Takes the server's snapshot into `replica` when it is empty (ReplicaService.isEmpty); undefined
 * (nothing done) when it is not: an ordinary pull then judges each record against what it holds.
 * The desktop is usable once the state part is in; the history follows now or, with
 * `history: 'later'`, at takeHistory.
 */
export async function firstSync(client: TeamClient, replica: ReplicaService, options: FirstSyncOptions = {}): Promise<FirstSyncOutcome | undefined> {
  if (!(await replica.isEmpty())) return undefined;
  // A server older than this desktop refuses the kinds every page names: said once, before anything is asked of the vault.
  await requireServerSchema(client);
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const vault = await replica.vaultId();
  const tally = { pulled: 0, applied: 0, held: 0 };
  let bound = false;
  let upTo: number | undefined;
  let after = 0;
  // The snapshot's end is fixed by its first page.
  let ahead = requestPage(client, replica, vault, 'state', after, upTo, options.pageRecords);
  for (;;) {
    const asked = ahead.after === after ? ahead : requestPage(client, replica, vault, 'state', after, upTo, options.pageRecords);
    const { page, unfit } = await asked.page;
    upTo ??= page.upTo;
    checkPage(page, 'state', after, upTo);
    if (page.more) ahead = requestPage(client, replica, vault, 'state', page.after, upTo, options.pageRecords);
    // The write below holds the event loop: the next page's request goes out first (its connection is made on the loop).
    await ahead.sent;
    if (page.records.length > 0 || unfit.length > 0 || !page.more) {
      const checked = await asked.checked;
      const records: ReplicaRecord[] = page.records.map((r) => r.record);
      // The last state page moves the pulled sequence to the snapshot's end and, with it, owes the history up to there.
      const outcome = await replica.applyPulled(vault, records, {
        // The entries' indexes on random keys are built once, by the last page's write (store-bulk-indexes.ts).
        hold: true, fresh: true, setAsideIndexes: page.more, ...(checked ? { checked } : {}), ...(page.more ? {} : { pulledUpTo: upTo, history: { upTo, after: 0 } }),
        ...(unfit.length > 0 ? { unfit } : {}),
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
    if (!page.more) break;
  }
  const stateMs = clock() - started;
  if (options.history === 'later') return { ...tally, upTo, stateMs, eventsMs: undefined, historyOwed: true };
  const history = await takeHistory(client, replica, options);
  return {
    pulled: tally.pulled + (history?.pulled ?? 0), applied: tally.applied + (history?.applied ?? 0), held: history?.held ?? tally.held,
    upTo, stateMs, eventsMs: clock() - started, historyOwed: false,
  };
}

/**
 * Takes in the audit history a first sync left owed (the snapshot's events part, from the
 * cursor in the file up to the snapshot's end), a page at a time, each page one transaction that
 * moves the cursor; the last clears it and, in the same transaction, tries again what was set
 * aside meanwhile (pulled events chaining on this history). Undefined when nothing is owed. Every event is checked as a
 * pull's are (signature, author, its device's chain).
 */
export async function takeHistory(client: TeamClient, replica: ReplicaService, options: HistoryRunOptions = {}): Promise<HistoryOutcome | undefined> {
  const owed = await replica.historyOwed();
  if (owed === undefined) return undefined;
  const vault = await replica.vaultId();
  const { upTo } = owed;
  const tally = { pulled: 0, applied: 0, held: 0 };
  let after = owed.after;
  let ahead = requestPage(client, replica, vault, 'events', after, upTo, options.pageRecords, options.onCount !== undefined);
  for (let first = true; ; first = false) {
    const asked = ahead.after === after ? ahead : requestPage(client, replica, vault, 'events', after, upTo, options.pageRecords);
    const { page, unfit } = await asked.page;
    // Stopped (the vault locking) while the page came: nothing more asked for or written.
    if (options.stop?.() === true) return { ...tally, stopped: true };
    checkPage(page, 'events', after, upTo);
    if (first && page.eventCount !== undefined) {
      // The server's word, only shown: a count that does not fit is not passed on.
      const { total, taken } = page.eventCount;
      if (taken <= total) options.onCount?.({ total, taken });
    }
    if (page.more) ahead = requestPage(client, replica, vault, 'events', page.after, upTo, options.pageRecords);
    await ahead.sent;
    const checked = await asked.checked;
    if (options.stop?.() === true) return { ...tally, stopped: true };
    const records: ReplicaRecord[] = page.records.map((r) => r.record);
    const outcome = await replica.applyPulled(vault, records, { hold: true, ...(checked ? { checked } : {}), history: page.more ? { upTo, after: page.after } : null, ...(unfit.length > 0 ? { unfit } : {}) }, page.batches);
    tally.pulled += records.length;
    tally.applied += outcome.applied;
    tally.held = outcome.held.length;
    await options.onHistory?.(tally.pulled);
    after = page.after;
    if (!page.more) break;
  }
  // Pulled events that waited for their devices' earlier events were tried again in the last page's transaction, after its events
  // and before its cursor was gone (replica-service.ts): none waits past it, whatever ends the run after it (review 12b hole 4).
  return tally;
}
