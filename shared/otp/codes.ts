/**
 * One-time codes: TOTP (RFC 6238), HOTP (RFC 4226) and Steam Guard, computed by otplib.
 *
 * Every rule about codes lives here. An encoder is `{ alphabet, digits }`, so Steam is just
 * another alphabet. Everything is pure: the time or the counter is a parameter. The HMAC is
 * otplib's audited pure-JS one (@noble/hashes); `npm run bench` shows it beats node:crypto's
 * per-call overhead on 8-byte messages, so the main process uses it too. A plugin can be passed.
 * Never log a secret or a code from here.
 */
// @otplib/hotp directly, not otplib's generateSync: in otplib 13.5 the functional
// generateSync drops `hooks`, so Steam's encoder would silently give numeric codes.
import { generateSync } from '@otplib/hotp';
import { createGuardrails, NobleCryptoPlugin, type CryptoPlugin } from 'otplib';
import { CrewvaultError } from '../errors';
import { decodeSecret, MAX_SECRET_CHARS } from './base32';

export const OTP_KINDS = ['totp', 'hotp', 'steam'] as const;
export type OtpKind = (typeof OTP_KINDS)[number];
export const OTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type OtpAlgorithm = (typeof OTP_ALGORITHMS)[number];

export const MIN_DIGITS = 6;
export const MAX_DIGITS = 8;
export const MIN_PERIOD = 1;
export const MAX_PERIOD = 300;
export const DEFAULT_PERIOD = 30;
export const STEAM_ALPHABET = '23456789BCDFGHJKMNPQRTVWXY';
export const STEAM_DIGITS = 5;

/** Everything needed to compute a code, with the secret already normalised. */
export interface OtpParams {
  readonly kind: OtpKind;
  readonly secret: string;
  readonly algorithm: OtpAlgorithm;
  readonly digits: number;
  readonly period: number;
  /** HOTP only: the counter of the next code to show. */
  readonly counter: number;
}

export interface TotpCode {
  readonly code: string;
  readonly next: string;
  readonly period: number;
  /** Milliseconds until `code` stops being current. */
  readonly remainingMs: number;
  /** Whole seconds left, rounded up, as a countdown shows them. */
  readonly remainingSeconds: number;
  /** The instant (ms since the epoch) `next` becomes current. */
  readonly validUntilMs: number;
}

export interface HotpCode {
  readonly code: string;
  readonly next: string;
  readonly counter: number;
}

export interface OtpOptions {
  /** otplib crypto plugin; otplib's audited pure-JS default when absent. */
  readonly crypto?: CryptoPlugin;
}

export function defaultOtpParams(secret: string): OtpParams {
  return { kind: 'totp', secret, algorithm: 'SHA1', digits: 6, period: DEFAULT_PERIOD, counter: 0 };
}

/** Steam's fixed shape: 5 characters, SHA1, 30 s (what Steam's servers accept). */
export function steamParams(secret: string): OtpParams {
  return { kind: 'steam', secret, algorithm: 'SHA1', digits: STEAM_DIGITS, period: DEFAULT_PERIOD, counter: 0 };
}

function invalid(message: string): never {
  throw new CrewvaultError('INVALID_INPUT', message);
}

/**
 * What is wrong with a Steam key's shape, or undefined when it has Steam's one shape (see
 * steamParams). Steam's servers accept nothing else, so every path refuses the same way.
 */
export function steamShapeProblem(params: Pick<OtpParams, 'algorithm' | 'digits' | 'period'>): string | undefined {
  const differs = [
    params.digits !== STEAM_DIGITS ? 'digits' : undefined,
    params.algorithm !== 'SHA1' ? 'algorithm' : undefined,
    params.period !== DEFAULT_PERIOD ? 'period' : undefined,
  ].filter((name) => name !== undefined);
  if (differs.length === 0) return undefined;
  return `Steam Guard codes always have ${STEAM_DIGITS} characters, SHA1 and a ${DEFAULT_PERIOD}-second period; this key differs in its ${differs.join(' and ')}.`;
}

/**
 * Checks the bounds otplib would otherwise enforce differently (or not at all). Every import
 * and entry path goes through here. Messages name the field and what is allowed, never the
 * value: a misplaced secret can arrive in any field.
 */
export function validateOtpParams(params: OtpParams): OtpParams {
  if (!OTP_KINDS.includes(params.kind)) invalid('The OTP type must be totp, hotp or steam.');
  if (!OTP_ALGORITHMS.includes(params.algorithm)) invalid('The algorithm must be SHA1, SHA256 or SHA512.');
  if (params.kind === 'steam') {
    const problem = steamShapeProblem(params);
    if (problem) invalid(problem);
  } else if (!Number.isInteger(params.digits) || params.digits < MIN_DIGITS || params.digits > MAX_DIGITS) {
    invalid(`Digits must be ${MIN_DIGITS}, 7 or ${MAX_DIGITS}.`);
  }
  if (!Number.isInteger(params.period) || params.period < MIN_PERIOD || params.period > MAX_PERIOD) {
    invalid(`Period must be a whole number of seconds from ${MIN_PERIOD} to ${MAX_PERIOD}.`);
  }
  if (!Number.isSafeInteger(params.counter) || params.counter < 0) {
    invalid(`Counter must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.`);
  }
  if (typeof params.secret !== 'string' || params.secret.length === 0 || params.secret.length > MAX_SECRET_CHARS || !/^[A-Z2-7]+$/.test(params.secret)) {
    throw new CrewvaultError('INVALID_SECRET', 'Secret key is not a normalised base32 key.');
  }
  return params;
}

// otplib refuses keys under 16 bytes by default; real services issue 10-byte keys, and the
// short-key warning is ours to give (normaliseSecret). 1024 base32 characters = 640 bytes.
const GUARDRAILS = createGuardrails({ MIN_SECRET_BYTES: 1, MAX_SECRET_BYTES: 640, MAX_PERIOD });

/** Steam Guard: the 31-bit truncated value written in base 26 over Steam's alphabet, low digit first. */
function encodeSteam(truncated: number, digits: number): string {
  let value = truncated;
  let out = '';
  for (let i = 0; i < digits; i++) {
    out += STEAM_ALPHABET[value % STEAM_ALPHABET.length];
    value = Math.floor(value / STEAM_ALPHABET.length);
  }
  return out;
}
const PURE_JS_CRYPTO = Object.freeze(new NobleCryptoPlugin());
const STEAM_HOOKS = { encodeToken: encodeSteam, validateToken: () => undefined };

function codeForCounter(params: OtpParams, key: Uint8Array, counter: number, options: OtpOptions): string {
  return generateSync({
    secret: key,
    counter,
    algorithm: params.algorithm.toLowerCase() as Lowercase<OtpAlgorithm>,
    digits: params.digits,
    guardrails: GUARDRAILS,
    crypto: options.crypto ?? PURE_JS_CRYPTO,
    ...(params.kind === 'steam' ? { hooks: STEAM_HOOKS } : {}),
  });
}

/** The time step (RFC 6238 T) that holds `nowMs`. */
export function timeStep(nowMs: number, period: number): number {
  return Math.floor(nowMs / (period * 1000));
}

/** TOTP or Steam code at `nowMs` (ms since the Unix epoch), with the next one and time left. */
export function totpCode(params: OtpParams, nowMs: number, options: OtpOptions = {}): TotpCode {
  validateOtpParams(params);
  if (params.kind === 'hotp') invalid('This is an HOTP key: it has a counter, not a time.');
  if (!Number.isFinite(nowMs) || nowMs < 0) invalid('Time must be a non-negative number of milliseconds since 1970.');
  const key = decodeSecret(params.secret);
  // TOTP is HOTP over the time step (RFC 6238 §4.2), so the counter is computed here once
  // and the current and next codes cannot disagree about which step they belong to.
  const step = timeStep(nowMs, params.period);
  const validUntilMs = (step + 1) * params.period * 1000;
  const remainingMs = validUntilMs - nowMs;
  return {
    code: codeForCounter(params, key, step, options),
    next: codeForCounter(params, key, step + 1, options),
    period: params.period,
    remainingMs,
    remainingSeconds: Math.ceil(remainingMs / 1000),
    validUntilMs,
  };
}

/** HOTP code for `params.counter`, and the one after it. */
export function hotpCode(params: OtpParams, options: OtpOptions = {}): HotpCode {
  validateOtpParams(params);
  if (params.kind !== 'hotp') invalid('This is a time-based key: it has a time, not a counter.');
  if (params.counter >= Number.MAX_SAFE_INTEGER) invalid('Counter is at its maximum.');
  const key = decodeSecret(params.secret);
  return {
    code: codeForCounter(params, key, params.counter, options),
    next: codeForCounter(params, key, params.counter + 1, options),
    counter: params.counter,
  };
}
