/**
 * The port the Team server desk asks before it pins a server's certificate or moves a vault's
 * sealed records to a server (SECURITY.md "From the app"): the page's own "confirm" is the
 * renderer's word, and a compromised renderer could give it; this question is asked outside the
 * page, by the door that owns the process. Electron: a native message box in the main process
 * (electron/main.ts). The browser host (`crewvault serve`): a question on the host's terminal,
 * answered there (terminalConfirmations below): the page can neither read nor type into it.
 * Without a port, nothing is pinned and nothing moved.
 *
 * Must never: take a yes from anything the page sends, answer a question asked before the
 * answer's line arrived with an answer typed earlier, or put a password or token in a question.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { printable } from './printable';

export type TrustQuestion =
  | {
    readonly kind: 'pin-certificate';
    /** The server's origin, as the person typed it. */
    readonly server: string;
    /** SHA-256 of the certificate, as colon-separated hex (what the page showed to compare). */
    readonly fingerprint: string;
    readonly subject: string;
    readonly validTo: number;
  }
  | {
    readonly kind: 'move-vault';
    readonly server: string;
    /** How this computer trusts that server: its pinned certificate's fingerprint, an authority, or loopback. */
    readonly certificate: string;
  };

export interface TrustConfirmations {
  /** True only when the person said yes to exactly this question, outside the page. */
  confirm(question: TrustQuestion): Promise<boolean>;
}

/** No door that can ask: every question is answered no. */
export const NO_CONFIRMATIONS: TrustConfirmations = { confirm: () => Promise.resolve(false) };

/** The words of a question, the same for the native box and the terminal. */
export function questionWords(question: TrustQuestion): { readonly title: string; readonly message: string; readonly detail: string; readonly yes: string } {
  const host = printable(new URL(question.server).host);
  if (question.kind === 'pin-certificate') {
    return {
      title: 'Trust this server\'s certificate?',
      message: `Trust the certificate of ${host} and remember it?`,
      detail: `SHA-256 fingerprint:\n${question.fingerprint}\nIssued to: ${printable(question.subject)}\nValid until: ${new Date(question.validTo).toISOString().slice(0, 10)}\n\n`
        + 'Compare the fingerprint with the one the server\'s administrator gave you. Trust it only if every character matches.',
      yes: 'Trust and sign in',
    };
  }
  return {
    title: 'Move this vault to the team server?',
    message: `Move this vault's records to ${host}?`,
    detail: `The server's certificate: ${question.certificate}\n\n`
      + 'Every entry, sealed, goes to this server, and the team syncs through it from now on. Move it only to your team\'s server.',
    yes: 'Move the vault',
  };
}

/** How a server's trust reads in a move's question. */
export function certificateWords(trust: { readonly kind: 'authority' } | { readonly kind: 'loopback' } | { readonly kind: 'pinned'; readonly pin: { readonly fingerprint256: string } } | undefined): string {
  if (trust === undefined) return 'not known on this computer';
  if (trust.kind === 'loopback') return 'none: a server on this computer (loopback http)';
  if (trust.kind === 'authority') return 'vouched for by an authority this computer trusts';
  return `pinned, SHA-256 ${trust.pin.fingerprint256}`;
}

/**
 * The browser host's confirmations: each question is written to the host's terminal and answered
 * by the next line typed there after it ("yes" confirms; anything else, or the input ending, is
 * no). Lines typed while no question waits are dropped, so a "yes" cannot be typed ahead. One
 * question at a time; the next waits for the one before.
 */
export function terminalConfirmations(input: Readable, write: (text: string) => void): TrustConfirmations & { close(): void } {
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  let waiting: ((answer: boolean) => void) | undefined;
  let ended = false;
  lines.on('line', (line) => {
    const answer = waiting;
    waiting = undefined;
    answer?.(line.trim() === 'yes');
  });
  lines.on('close', () => {
    ended = true;
    waiting?.(false);
    waiting = undefined;
  });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    /** Stops listening (the host stopping): a question still waiting is no, and the input no longer holds the process open. */
    close() {
      lines.close();
      input.destroy();
    },
    confirm(question) {
      const ask = (): Promise<boolean> => new Promise<boolean>((resolve) => {
        if (ended) {
          resolve(false);
          return;
        }
        const words = questionWords(question);
        write(`\n${words.title}\n${words.message}\n${words.detail}\nThe page asks this; only this terminal can answer it. Type "yes" and Enter to ${words.yes.toLowerCase()}, anything else to refuse: `);
        waiting = resolve;
      });
      const next = queue.then(ask, ask);
      queue = next;
      return next;
    },
  };
}
