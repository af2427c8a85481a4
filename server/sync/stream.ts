/**
 * Telling desktops at once that a team vault has new records (docs/SYNC.md): each push that
 * stores records notifies `crewvault_sync` with the vault and its new sequence number inside
 * its transaction, so PostgreSQL delivers it on commit to every server process listening on
 * that database (PGlite: the one process). Each process fans it out to the desktops that hold a
 * stream open on that vault (Server-Sent Events). A stream carries sequence numbers only:
 * desktops then pull what they may.
 * When the LISTEN connection is lost (PostgreSQL restarted), the database layer makes it again
 * and the notifier then tells each open stream where its vault stands: a push made meanwhile
 * is not missed.
 * Each time a vault's streams would be told a number, the holders are judged again first, in one
 * read for all of them (store/stream-holders.ts, review 13a hole 2): a stream whose session was
 * signed out (here or everywhere), whose device was removed, whose access token is past, or whose
 * account is no longer a person of the vault (disabled, unbound) is ended instead of told.
 * Must never: tell a vault's numbers to a stream of another vault, tell a number to a holder not
 * judged standing after the notice arrived, or keep a stream open past its session's access token
 * (the desktop reconnects with a fresh one).
 */
import { CrewvaultError } from '../../shared/errors';
import type { Database } from '../store/db';
import { standingStreamSessions } from '../store/stream-holders';
import { vaultSeq } from '../store/sync';

export const SYNC_CHANNEL = 'crewvault_sync';
/** How many streams one server process holds open at most (the design's budget is 1,000 desktops a process). */
export const MAX_STREAMS = 2_000;
/**
 * How many streams one session holds open at most (hostile review of 7 December: one session could
 * hold all MAX_STREAMS, and every other desktop got BUSY). A desktop holds one a vault it has open,
 * and `crewvault sync --watch` on the same machine shares its session (the keychain's): a few, plus
 * one not yet closed while the desktop reconnects. Eight is never met by a technician's own use.
 */
export const MAX_STREAMS_PER_SESSION = 8;
/**
 * How many streams one account holds open at most, across its sessions: a session is a sign-in
 * away, so the session's cap alone does not stop one account holding them all. A technician has a
 * handful of desktops (office, laptop, a jump host), each under MAX_STREAMS_PER_SESSION: four
 * desktops' worth.
 */
export const MAX_STREAMS_PER_ACCOUNT = 4 * MAX_STREAMS_PER_SESSION;

/** What a push that stored up to `seq` notifies (store/sync.ts setVaultSeq sends it with the new sequence). */
export function storedNotice(vault: string, seq: number): { readonly channel: string; readonly payload: string } {
  return { channel: SYNC_CHANNEL, payload: `${vault}:${seq}` };
}

/** One open stream: whose it is (judged again before each number), what tells it, and how it ends. */
export interface StreamHolder {
  readonly sessionId: string;
  /** The account whose session it is: what MAX_STREAMS_PER_ACCOUNT counts. */
  readonly accountId: string;
  /** The vault's creator (sync_vaults.created_by, never changed): a pull's rule for a creator not bound yet. */
  readonly createdBy: string;
  readonly send: (seq: number) => void;
  readonly end: () => void;
}

/** A vault's telling under way: the highest number heard while its holders were being judged. */
interface Telling {
  pending: number | undefined;
}

/** Moves `key`'s count by `by`; a count back at zero leaves the map (it holds only those with a stream open). */
function countIn(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

export class SyncNotifier {
  private readonly listeners = new Map<string, Set<StreamHolder>>();
  private readonly telling = new Map<string, Telling>();
  private streams = 0;
  /** Streams open now by session, and by account (only those with one open). */
  private readonly bySession = new Map<string, number>();
  private readonly byAccount = new Map<string, number>();

  private constructor(private readonly db: Database, private readonly now: () => number, private readonly stop: () => Promise<void>) {}

  static async start(db: Database, now: () => number): Promise<SyncNotifier> {
    // Listening starts before the notifier exists: what is heard meanwhile goes to it once it does.
    const box: { notifier?: SyncNotifier } = {};
    const stop = await db.listen(SYNC_CHANNEL, (payload) => box.notifier?.heard(payload), () => void box.notifier?.catchUp());
    box.notifier = new SyncNotifier(db, now, stop);
    return box.notifier;
  }

  /**
   * Tells `vault`'s streams `seq`, each only once its holder is judged standing by a read made after
   * this was heard; the others are ended. One read at a time per vault: numbers heard meanwhile are
   * told (the highest: a stream passes on only a number past the last it sent) by a fresh read after.
   */
  private tell(vault: string, seq: number): void {
    const under = this.telling.get(vault);
    if (under !== undefined) {
      under.pending = Math.max(under.pending ?? seq, seq);
      return;
    }
    const telling: Telling = { pending: seq };
    this.telling.set(vault, telling);
    void this.judgeAndTell(vault, telling).finally(() => this.telling.delete(vault));
  }

  private async judgeAndTell(vault: string, telling: Telling): Promise<void> {
    while (telling.pending !== undefined) {
      const seq = telling.pending;
      telling.pending = undefined;
      const holders = [...(this.listeners.get(vault) ?? [])];
      const [first] = holders;
      if (first === undefined) return;
      let standing: Set<string>;
      try {
        standing = await standingStreamSessions(this.db, vault, first.createdBy, holders.map((h) => h.sessionId), this.now());
      } catch {
        // Not judged, so not told: the next notice (or the catch-up after the database is back) judges again.
        continue;
      }
      for (const holder of holders) {
        if (standing.has(holder.sessionId)) holder.send(seq);
        else holder.end();
      }
    }
  }

  /**
   * After the LISTEN connection was lost and made again (PostgreSQL restarted): pushes stored
   * meanwhile notified nobody here, so each vault with a stream open is told where it stands
   * now (a stream passes on only a number past the last it sent).
   */
  private async catchUp(): Promise<void> {
    for (const vault of [...this.listeners.keys()]) {
      try {
        const seq = await vaultSeq(this.db, vault);
        if (seq !== undefined) this.tell(vault, seq);
      } catch {
        // The database went again: the next restored connection catches up once more.
      }
    }
  }

  private heard(payload: string): void {
    const match = /^([0-9a-f]{32}):(\d{1,16})$/.exec(payload);
    if (!match?.[1] || !match[2]) return;
    if (this.listeners.has(match[1])) this.tell(match[1], Number(match[2]));
  }

  /** Streams open now, across vaults. */
  get open(): number {
    return this.streams;
  }

  /**
   * Why one more stream of this session and account would not be held (BUSY: the desktop tries again
   * later, as after any other refusal of its stream), or undefined. Checked and followed by subscribe
   * in one synchronous step, so streams opening at once cannot all pass the same count.
   */
  refusal(sessionId: string, accountId: string): CrewvaultError | undefined {
    if (this.streams >= MAX_STREAMS) return new CrewvaultError('BUSY', 'This server holds as many streams as it takes: try again soon.');
    if ((this.bySession.get(sessionId) ?? 0) >= MAX_STREAMS_PER_SESSION) {
      return new CrewvaultError('BUSY', `This session holds ${MAX_STREAMS_PER_SESSION} sync streams open already, as many as one may: close one (another window or \`crewvault sync --watch\`) first.`);
    }
    if ((this.byAccount.get(accountId) ?? 0) >= MAX_STREAMS_PER_ACCOUNT) {
      return new CrewvaultError('BUSY', `This account holds ${MAX_STREAMS_PER_ACCOUNT} sync streams open already, as many as one may: close one on another desktop first.`);
    }
    return undefined;
  }

  /**
   * Ends `accountId`'s streams whose session no longer stands (signed out, revoked, its device removed, its access
   * token's end passed), judged by a read made now: asked before a stream of that account is refused, so places held
   * by sessions already ended do not refuse the account's standing ones until the next push to their vault or their
   * token's end (hostile review 4 of 7 December: a person signing a thief's sessions out got BUSY for up to 15 minutes).
   */
  async endFallen(accountId: string): Promise<void> {
    for (const [vault, set] of [...this.listeners]) {
      const holders = [...set].filter((h) => h.accountId === accountId);
      const [first] = holders;
      if (first === undefined) continue;
      const standing = await standingStreamSessions(this.db, vault, first.createdBy, holders.map((h) => h.sessionId), this.now());
      for (const holder of holders) if (!standing.has(holder.sessionId)) holder.end();
    }
  }

  subscribe(vault: string, listener: StreamHolder): () => void {
    let set = this.listeners.get(vault);
    if (!set) {
      set = new Set();
      this.listeners.set(vault, set);
    }
    set.add(listener);
    this.streams++;
    countIn(this.bySession, listener.sessionId, 1);
    countIn(this.byAccount, listener.accountId, 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.streams--;
      countIn(this.bySession, listener.sessionId, -1);
      countIn(this.byAccount, listener.accountId, -1);
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(vault);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.stop();
  }
}
