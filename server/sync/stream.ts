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
import type { Database } from '../store/db';
import { standingStreamSessions } from '../store/stream-holders';
import { vaultSeq } from '../store/sync';

export const SYNC_CHANNEL = 'crewvault_sync';
/** How many streams one server process holds open at most (the design's budget is 1,000 desktops a process). */
export const MAX_STREAMS = 2_000;

/** What a push that stored up to `seq` notifies (store/sync.ts setVaultSeq sends it with the new sequence). */
export function storedNotice(vault: string, seq: number): { readonly channel: string; readonly payload: string } {
  return { channel: SYNC_CHANNEL, payload: `${vault}:${seq}` };
}

/** One open stream: whose it is (judged again before each number), what tells it, and how it ends. */
export interface StreamHolder {
  readonly sessionId: string;
  /** The vault's creator (sync_vaults.created_by, never changed): a pull's rule for a creator not bound yet. */
  readonly createdBy: string;
  readonly send: (seq: number) => void;
  readonly end: () => void;
}

/** A vault's telling under way: the highest number heard while its holders were being judged. */
interface Telling {
  pending: number | undefined;
}

export class SyncNotifier {
  private readonly listeners = new Map<string, Set<StreamHolder>>();
  private readonly telling = new Map<string, Telling>();
  private streams = 0;

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

  subscribe(vault: string, listener: StreamHolder): () => void {
    let set = this.listeners.get(vault);
    if (!set) {
      set = new Set();
      this.listeners.set(vault, set);
    }
    set.add(listener);
    this.streams++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.streams--;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(vault);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.stop();
  }
}
