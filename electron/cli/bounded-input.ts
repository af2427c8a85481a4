/**
 * Reading input with a hard bound: standard input one line at a time (a password, an OTP key)
 * or all that is left (`import -`), and files that may be devices or pipes (`import /dev/zero`).
 * Reading stops at the bound instead of holding whatever a source offers, so an endless input
 * costs at most the bound in memory. Never logs or echoes what it reads: lines may be secrets.
 */
import { CrewvaultError } from '../../shared/errors';

/**
 * The longest line a secret prompt takes from piped stdin: an entry's password (10,000
 * characters, up to 40 KB of UTF-8) or an OTP URI fits with room to spare.
 */
export const MAX_SECRET_LINE_BYTES = 64 * 1024;

/** "64 MiB" / "64 KiB": how a bound is named in a message. */
export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/**
 * All of `source`, or undefined once it holds more than `maxBytes`: reading stops there (at
 * most one chunk past the bound is held), and the source is closed.
 */
export async function readAtMost(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A byte stream read one line at a time, and then, if asked, whole: piped stdin carries the
 * password first and then (for `import -`) the input itself. Only what a caller asks for is
 * read, so a line can be taken before the writer has finished or closed the pipe.
 */
export class LineReader {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  /** Reads one more chunk into the buffer; false at the end of the input. */
  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    this.buffered = Buffer.concat([this.buffered, next.value]);
    return true;
  }

  /**
   * The next line without its line break (LF or CRLF); undefined when the input has ended.
   * A line longer than `maxBytes` is refused without reading the rest of it.
   */
  async line(maxBytes: number): Promise<string | undefined> {
    for (;;) {
      const end = this.buffered.indexOf(0x0a);
      if (end > maxBytes || (end < 0 && this.buffered.length > maxBytes)) {
        throw new CrewvaultError('INVALID_INPUT', `A line of standard input is longer than ${formatBytes(maxBytes)}.`);
      }
      if (end >= 0) {
        const line = this.buffered.subarray(0, end).toString('utf8');
        this.buffered = this.buffered.subarray(end + 1);
        return line.endsWith('\r') ? line.slice(0, -1) : line;
      }
      if (!(await this.pull())) {
        if (this.buffered.length === 0) return undefined;
        const last = this.buffered.toString('utf8');
        this.buffered = Buffer.alloc(0);
        return last;
      }
    }
  }

  /** Everything not yet taken as lines, or undefined if it holds more than `maxBytes`. */
  async rest(maxBytes: number): Promise<Buffer | undefined> {
    const head = this.buffered;
    this.buffered = Buffer.alloc(0);
    if (head.length > maxBytes) return undefined;
    const chunks = this.chunks;
    const remaining: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => chunks };
    const tail = this.ended ? Buffer.alloc(0) : await readAtMost(remaining, maxBytes - head.length);
    this.ended = true;
    return tail === undefined ? undefined : Buffer.concat([head, tail]);
  }
}
