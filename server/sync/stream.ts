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
 * Must never: tell a vault's numbers to a stream of another vault, or keep a stream open past
 * its session's access token (the desktop reconnects with a fresh one).
 */
import type { Database } from '../store/db';
import { vaultSeq } from '../store/sync';

export const SYNC_CHANNEL = 'crewvault_sync';
/** How many streams one server process holds open at most (the design's budget is 1,000 desktops a process). */
export const MAX_STREAMS = 2_000;

/** What a push that stored up to `seq` notifies (store/sync.ts setVaultSeq sends it with the new sequence). */
export function storedNotice(vault: string, seq: number): { readonly channel: string; readonly payload: string } {
  return { channel: SYNC_CHANNEL, payload: `${vault}:${seq}` };
}

type Listener = (seq: number) => void;

export class SyncNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private streams = 0;

  private constructor(private readonly db: Database, private readonly stop: () => Promise<void>) {}

  static async start(db: Database): Promise<SyncNotifier> {
    // Listening starts before the notifier exists: what is heard meanwhile goes to it once it does.
    const box: { notifier?: SyncNotifier } = {};
    const stop = await db.listen(SYNC_CHANNEL, (payload) => box.notifier?.heard(payload), () => void box.notifier?.catchUp());
    box.notifier = new SyncNotifier(db, stop);
    return box.notifier;
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
        if (seq !== undefined) for (const listener of this.listeners.get(vault) ?? []) listener(seq);
      } catch {
        // The database went again: the next restored connection catches up once more.
      }
    }
  }

  private heard(payload: string): void {
    const match = /^([0-9a-f]{32}):(\d{1,16})$/.exec(payload);
    if (!match?.[1] || !match[2]) return;
    for (const listener of this.listeners.get(match[1]) ?? []) listener(Number(match[2]));
  }

  /** Streams open now, across vaults. */
  get open(): number {
    return this.streams;
  }

  subscribe(vault: string, listener: Listener): () => void {
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
