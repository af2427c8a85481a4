/**
 * Byte helpers for shared/, which sees neither Node's Buffer nor the DOM's TextEncoder or
 * atob: UTF-8 and base64 built only on what ECMAScript itself has.
 * Nothing here is cryptographic; it only changes how bytes are written down.
 */

export function utf8Encode(text: string): Uint8Array {
  // encodeURIComponent writes every non-ASCII code point as its UTF-8 bytes in %XX form.
  const escaped = encodeURIComponent(text);
  const out: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === '%') {
      out.push(parseInt(escaped.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(escaped.charCodeAt(i));
    }
  }
  return Uint8Array.from(out);
}

/**
 * Decodes UTF-8; throws on malformed input (a stray continuation byte, an overlong or
 * surrogate encoding, a truncated sequence) instead of inventing replacement characters.
 * Linear and chunked, so an import file of tens of megabytes decodes in a fraction of a second.
 */
export function utf8Decode(bytes: Uint8Array): string {
  const bad = (): never => {
    throw new Error('not valid UTF-8');
  };
  const parts: string[] = [];
  const units: number[] = [];
  const flush = (): void => {
    parts.push(String.fromCharCode(...units));
    units.length = 0;
  };
  const continuation = (index: number): number => {
    const byte = bytes[index];
    if (byte === undefined || (byte & 0xc0) !== 0x80) bad();
    return (byte as number) & 0x3f;
  };
  for (let i = 0; i < bytes.length;) {
    const first = bytes[i] as number;
    let point: number;
    if (first < 0x80) {
      point = first;
      i += 1;
    } else if (first >= 0xc2 && first < 0xe0) {
      point = ((first & 0x1f) << 6) | continuation(i + 1);
      i += 2;
    } else if (first >= 0xe0 && first < 0xf0) {
      point = ((first & 0x0f) << 12) | (continuation(i + 1) << 6) | continuation(i + 2);
      if (point < 0x800 || (point >= 0xd800 && point <= 0xdfff)) bad();
      i += 3;
    } else if (first >= 0xf0 && first < 0xf5) {
      point = ((first & 0x07) << 18) | (continuation(i + 1) << 12) | (continuation(i + 2) << 6) | continuation(i + 3);
      if (point < 0x10000 || point > 0x10ffff) bad();
      i += 4;
    } else {
      return bad();
    }
    if (point > 0xffff) {
      point -= 0x10000;
      units.push(0xd800 + (point >> 10), 0xdc00 + (point & 0x3ff));
    } else {
      units.push(point);
    }
    if (units.length >= 8192) flush();
  }
  flush();
  return parts.join('');
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes standard or URL-safe base64, padded or not; throws on any other character. */
export function base64Decode(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (clean.length % 4 === 1) throw new Error('base64 text has an impossible length');
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = BASE64_ALPHABET.indexOf(ch);
    if (value < 0) throw new Error('base64 text holds a character outside the alphabet');
    buffer = ((buffer << 6) | value) & 0xffffff; // keep only the bits not yet written out
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1] ?? 0;
    const c = bytes[i + 2] ?? 0;
    const chunk = (a << 16) | (b << 8) | c;
    out += BASE64_ALPHABET[(chunk >> 18) & 63];
    out += BASE64_ALPHABET[(chunk >> 12) & 63];
    out += i + 1 < bytes.length ? BASE64_ALPHABET[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? BASE64_ALPHABET[chunk & 63] : '=';
  }
  return out;
}
