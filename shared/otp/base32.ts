/**
 * OTP secret keys as people type them: base32 (RFC 4648 §6) normalised, then validated.
 *
 * Normalising is explicit and refuses rather than guesses: a character outside A–Z/2–7 is
 * reported with its 1-based position in what the person typed, never silently dropped
 * (the mistake Bitwarden makes). It must never log or echo a whole secret.
 */
import base32 from 'hi-base32';
import { CrewvaultError } from '../errors';

export const MAX_SECRET_CHARS = 1024;
/** RFC 4226 §4 asks for at least 128 bits and recommends 160; real services still issue 80. */
export const WEAK_SECRET_BITS = 80;

export interface SecretWarning {
  readonly code: 'SHORT_SECRET';
  readonly message: string;
}

export interface NormalisedSecret {
  /** Upper-case A–Z/2–7, no spaces, hyphens or padding. */
  readonly secret: string;
  /** Bits of key the secret decodes to (whole bytes). */
  readonly bits: number;
  readonly warning?: SecretWarning;
}

const IGNORED = new Set([' ', '\t', '-']);
const ALPHABET = /^[A-Z2-7]$/;
const HINTS: Readonly<Record<string, string>> = {
  '0': ' (did you mean the letter O?)',
  '1': ' (did you mean the letter I or L?)',
  '8': ' (did you mean the letter B?)',
};
// A base32 text of whole bytes has one of these lengths modulo 8 (RFC 4648 §6); the others
// leave bits over and almost always mean a character was lost or added while typing.
const WHOLE_BYTE_REMAINDERS = new Set([0, 2, 4, 5, 7]);

function describeCharacter(ch: string): string {
  if (ch === '=') return '"=" (padding belongs only at the end)';
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${ch}"`;
}

/**
 * Trims, drops spaces, tabs, hyphens and trailing `=` padding, upper-cases, and validates.
 * Throws INVALID_SECRET naming the first bad character and its position in `input`.
 */
export function normaliseSecret(input: string): NormalisedSecret {
  if (input.length > MAX_SECRET_CHARS * 4) {
    throw new CrewvaultError('INVALID_SECRET', `Secret key is too long (more than ${MAX_SECRET_CHARS} characters).`);
  }
  const characters = Array.from(input);
  // Positions count code points of the raw input, so they match what the person sees.
  let start = 0;
  let end = characters.length;
  while (start < end && /\s/.test(characters[start] ?? '')) start++;
  while (end > start && /\s/.test(characters[end - 1] ?? '')) end--;
  let paddingFrom = end;
  while (paddingFrom > start && characters[paddingFrom - 1] === '=') paddingFrom--;

  let secret = '';
  for (let i = start; i < paddingFrom; i++) {
    const ch = characters[i] ?? '';
    if (IGNORED.has(ch)) continue;
    const upper = ch.toUpperCase();
    if (!ALPHABET.test(upper)) {
      throw new CrewvaultError(
        'INVALID_SECRET',
        `Secret key has ${describeCharacter(ch)} at position ${i + 1}${HINTS[ch] ?? ''}; a secret key uses only the letters A–Z and the digits 2–7.`,
      );
    }
    secret += upper;
  }

  if (secret.length === 0) throw new CrewvaultError('INVALID_SECRET', 'Secret key is empty.');
  if (secret.length > MAX_SECRET_CHARS) {
    throw new CrewvaultError('INVALID_SECRET', `Secret key is too long (${secret.length} characters; at most ${MAX_SECRET_CHARS}).`);
  }
  if (!WHOLE_BYTE_REMAINDERS.has(secret.length % 8)) {
    throw new CrewvaultError(
      'INVALID_SECRET',
      `Secret key has ${secret.length} characters, a length no whole number of bytes encodes to: a character is probably missing or doubled.`,
    );
  }

  const bits = Math.floor((secret.length * 5) / 8) * 8;
  if (bits < WEAK_SECRET_BITS) {
    return {
      secret,
      bits,
      warning: {
        code: 'SHORT_SECRET',
        message: `This secret key is only ${bits} bits; RFC 4226 asks for at least 128. Accepted, but ask the service for a longer one if you can.`,
      },
    };
  }
  return { secret, bits };
}

/** Decodes a normalised secret to key bytes. */
export function decodeSecret(normalised: string): Uint8Array {
  return Uint8Array.from(base32.decode.asBytes(normalised));
}

/** Encodes key bytes as a normalised secret (no padding). */
export function encodeSecret(bytes: Uint8Array): string {
  return base32.encode(Array.from(bytes)).replace(/=+$/, '');
}

/** The secret in groups of four, for reading aloud or typing into another app. */
export function groupSecret(normalised: string): string {
  return normalised.replace(/(.{4})(?=.)/g, '$1 ');
}
