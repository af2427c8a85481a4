/**
 * The little of the protobuf wire format (protobuf.dev/programming-guides/encoding) that
 * Google Authenticator's export needs: varints, length-delimited fields, and skipping the
 * rest. Reads bounds-checked; a truncated or malformed message throws, never loops. Every
 * length is checked against the bytes left before it is used, so a hostile length cannot
 * size anything. Errors are plain Errors without the message's bytes: callers turn them into
 * their own one-line refusal.
 */

export type ProtoField =
  | { readonly field: number; readonly wire: 0; readonly value: bigint }
  | { readonly field: number; readonly wire: 2; readonly bytes: Uint8Array };

/** Reads every varint and length-delimited field of one message, skipping fixed-width ones. */
export function readMessage(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new Error('message ends inside a number');
      const byte = bytes[at++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      // At most 64 bits: the tenth byte's spare bits are dropped, as protobuf does.
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new Error('number is longer than 10 bytes');
  };
  while (at < bytes.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw new Error('field number 0');
    if (wire === 0) {
      fields.push({ field, wire, value: varint() });
    } else if (wire === 2) {
      const length = varint();
      if (length > BigInt(bytes.length - at)) throw new Error('message ends inside a field');
      const end = at + Number(length);
      fields.push({ field, wire, bytes: bytes.subarray(at, end) });
      at = end;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > bytes.length) throw new Error('message ends inside a field');
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

function writeVarint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value);
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
}

/** Writes a message from fields in the order given. */
export function writeMessage(fields: readonly ProtoField[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    writeVarint(out, (BigInt(f.field) << 3n) | BigInt(f.wire));
    if (f.wire === 0) {
      writeVarint(out, f.value);
    } else {
      writeVarint(out, BigInt(f.bytes.length));
      for (const b of f.bytes) out.push(b);
    }
  }
  return Uint8Array.from(out);
}
