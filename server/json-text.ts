/**
 * A route's reply value already written as JSON text (a snapshot's stored record bodies, put
 * together without parsing each again: they were checked against the contract when pushed).
 * The text is kept in parts, strings and bytes as stored (UTF-8), so stored bodies are never
 * decoded and encoded again; app.ts sends it inside `{ ok: true, value }` as it is, written once
 * into one buffer. `T` is the contract's output type the text is of, so a handler can only hand
 * over text of its own route's shape.
 * Must never: hold text that was not written from values of that shape (stored bodies the
 * contract's schema took, numbers, booleans).
 */
export class JsonText<T> {
  /** Never set: ties the text to the output type it was written for. */
  declare private readonly shape: T;

  constructor(readonly parts: ReadonlyArray<string | Buffer>) {}

  /** `{"ok":true,"value":` the parts `}` as one buffer: sized first, then each part written into it. */
  okReply(): Buffer {
    const parts = ['{"ok":true,"value":', ...this.parts, '}'];
    let size = 0;
    for (const part of parts) size += typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length;
    const reply = Buffer.allocUnsafe(size);
    let at = 0;
    for (const part of parts) at += typeof part === 'string' ? reply.write(part, at, 'utf8') : part.copy(reply, at);
    if (at !== size) throw new Error('JsonText: the reply was not filled as sized');
    return reply;
  }
}
