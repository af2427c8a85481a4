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

/** Decodes UTF-8; throws on malformed input instead of inventing replacement characters. */
export function utf8Decode(bytes: Uint8Array): string {
  let escaped = '';
  for (const byte of bytes) escaped += '%' + byte.toString(16).padStart(2, '0');
  try {
    return decodeURIComponent(escaped);
  } catch {
    throw new Error('not valid UTF-8');
  }
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
