/**
 * A protobuf varint written here, independent of the parser's own writer (shared/otp), so
 * tests check the parser against the wire format rather than against its builder. A negative
 * value is written as protobuf does: its 64-bit two's complement (ten bytes).
 */
export function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
