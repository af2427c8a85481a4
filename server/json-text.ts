/**
 * A route's reply value already written as JSON text (a snapshot's stored record bodies, put
 * together without parsing each again: they were checked against the contract when pushed).
 * app.ts sends it inside `{ ok: true, value }` as it is. `T` is the contract's output type the
 * text is of, so a handler can only hand over text of its own route's shape.
 * Must never: hold text that was not written from values of that shape (stored bodies the
 * contract's schema took, numbers, booleans).
 */
export class JsonText<T> {
  /** Never set: ties the text to the output type it was written for. */
  declare private readonly shape: T;

  constructor(readonly text: string) {}
}
