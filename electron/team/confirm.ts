/**
 * The port the Team server desk asks before it pins a server's certificate or moves a vault's
 * sealed records to a server (SECURITY.md "From the app"): the page's own "confirm" is the
 * renderer's word, and a compromised renderer could give it; this question is asked outside the
 * page, by the door that owns the process. Electron: a native message box in the main process
 * (electron/main.ts). The browser host (`crewvault serve`): a question on the host's terminal,
 * answered there (terminalConfirmations below): the page can neither read nor type into it.
 * Without a port, nothing is pinned and nothing moved.
 *
 * Must never: take a yes from anything the page sends, take as a yes a line typed before the
 * question was shown (the terminal's answer must be the question's own fresh word), or put a
 * password or token in a question.
 */
import { randomInt } from 'node:crypto';
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

/** Letters of a question's word: lower case, none easily misread (no i, l, o). */
const WORD_LETTERS = 'abcdefghjkmnpqrstuvwxyz';
const WORD_LENGTH = 5;

/** A fresh random word for one question (23^5, about 6.4 million): only someone who read the question can type it. */
export function questionWord(): string {
  return Array.from({ length: WORD_LENGTH }, () => WORD_LETTERS[randomInt(WORD_LETTERS.length)]).join('');
}

/**
 * The browser host's confirmations: each question is written to the host's terminal with a fresh
 * random word, and answered by the next line typed there after it: that word confirms; anything
 * else, or the input ending, is no. Lines read while no question waits are dropped; a line typed
 * before the question but read after it (the host was busy: the bytes waited in the terminal) is
 * that question's answer, and it cannot hold a word not yet shown, so it is a no. Why a word and
 * not a flush of what is waiting: a stream has no "what is waiting" to drop (a read is
 * asynchronous, so bytes typed a moment before the question may arrive after it, and pipes and
 * sockets have no tcflush), whereas a word first written in the question is known only from it,
 * whatever the timing. One question at a time; the next waits for the one before.
 */
export function terminalConfirmations(input: Readable, write: (text: string) => void): TrustConfirmations & { close(): void } {
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  let waiting: { readonly word: string; readonly resolve: (answer: boolean) => void } | undefined;
  let ended = false;
  lines.on('line', (line) => {
    const asked = waiting;
    waiting = undefined;
    asked?.resolve(line.trim().toLowerCase() === asked.word);
  });
  lines.on('close', () => {
    ended = true;
    waiting?.resolve(false);
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
        const word = questionWord();
        waiting = { word, resolve };
        write(`\n${words.title}\n${words.message}\n${words.detail}\nThe page asks this; only this terminal can answer it. To ${words.yes.toLowerCase()}, type the word ${word} and Enter; anything else to refuse: `);
      });
      const next = queue.then(ask, ask);
      queue = next;
      return next;
    },
  };
}
