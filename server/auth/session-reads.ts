/**
 * Every request's session read (store/sessions.ts findSessionStanding), taken for the requests
 * that arrive together in one statement: while one read is out, the requests that arrive wait
 * and go together in the next (as a group commit does for writes). Each request's session is
 * still read by a statement that starts after the request arrived, so a sign-out, a removed
 * device, an MFA reset or a disable committed before a request came is seen by it: nothing is
 * cached, and revocation takes effect at the very next request (test/server/revoke-next-request).
 * One statement rather than one a request spares the server a socket write and PostgreSQL a
 * statement per request (each statement's write was the larger part of the server's CPU a code).
 * Must never: hand a request a standing read before it arrived, or one of another token.
 */
import type { ServerContext } from '../context';
import { findSessionStandings, type SessionStanding } from '../store/sessions';

/** The most tokens one statement reads (its array parameter stays small). */
const MAX_READ = 500;

interface Waiting {
  readonly hash: string;
  readonly resolve: (standing: SessionStanding | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export class SessionReads {
  private readonly ctx: ServerContext;
  private queue: Waiting[] = [];
  private reading = false;

  constructor(ctx: ServerContext) {
    this.ctx = ctx;
  }

  /** The standing of the session that holds `accessHash` now (undefined: none), read by a statement started after this call. */
  find(accessHash: string): Promise<SessionStanding | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ hash: accessHash, resolve, reject });
      if (!this.reading) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.reading = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, MAX_READ);
        this.queue = this.queue.slice(batch.length);
        try {
          const found = await findSessionStandings(this.ctx.db, [...new Set(batch.map((w) => w.hash))]);
          for (const w of batch) w.resolve(found.get(w.hash));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.reading = false;
    }
  }
}

/** One reader per server (its context): two apps in one process share nothing. */
const readers = new WeakMap<ServerContext, SessionReads>();

export function sessionReads(ctx: ServerContext): SessionReads {
  let reader = readers.get(ctx);
  if (reader === undefined) {
    reader = new SessionReads(ctx);
    readers.set(ctx, reader);
  }
  return reader;
}
