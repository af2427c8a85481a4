/**
 * `otpauth://` URIs (Google's Key Uri Format) and `steam://SECRET`: parse and build.
 *
 * The URI is never lower-cased as a whole (Bitwarden's mistake loses the issuer's case):
 * only the scheme, type and parameter names are matched case-insensitively. Parameters we
 * do not know are kept, in order, so an entry round-trips. Errors name the part that is wrong
 * and what is allowed, never its text: a secret pasted into the wrong field must not be echoed.
 */
import { CrewvaultError } from '../errors';
import { normaliseSecret, type SecretWarning } from './base32';
import {
  DEFAULT_PERIOD,
  MAX_DIGITS,
  MAX_PERIOD,
  MIN_DIGITS,
  MIN_PERIOD,
  OTP_ALGORITHMS,
  STEAM_DIGITS,
  steamShapeProblem,
  type OtpAlgorithm,
  type OtpParams,
} from './codes';

export interface OtpUri {
  readonly params: OtpParams;
  /** From the `issuer` parameter, else the label's prefix; absent when neither says. */
  readonly issuer?: string;
  /** The label's account part (the whole label when it has no `Issuer:` prefix). */
  readonly account: string;
  /** Parameters this parser does not interpret, in their original order. */
  readonly extra: ReadonlyArray<readonly [string, string]>;
  readonly warning?: SecretWarning;
}

const KNOWN_PARAMETERS = new Set(['secret', 'issuer', 'algorithm', 'digits', 'period', 'counter', 'encoder']);

function refuse(message: string): never {
  throw new CrewvaultError('INVALID_URI', message);
}

function decodeComponent(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return refuse(`The ${where} has broken percent-encoding (a "%" not followed by two hex digits).`);
  }
}

/** `name` is one of ours (a known parameter), never text from the URI. */
function parseWholeNumber(value: string, name: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) refuse(`The ${name} parameter is not a whole number from ${min} to ${max}.`);
  return n;
}

export interface SplitLabel {
  readonly issuer?: string;
  readonly account: string;
}

function fromParts(issuer: string, account: string): SplitLabel {
  const trimmed = issuer.trim();
  return trimmed ? { issuer: trimmed, account: account.trim() } : { account: account.trim() };
}

/**
 * The account after a known issuer's own "Issuer:" prefix, else undefined. Matched whole
 * first, so an issuer that itself holds a colon ("ACME:Corp") is not cut at that colon.
 */
function accountAfterIssuer(label: string, issuer: string | undefined): string | undefined {
  const known = issuer?.trim();
  if (!known) return undefined;
  const text = label.trimStart();
  return text.startsWith(`${known}:`) ? text.slice(known.length + 1).trim() : undefined;
}

/**
 * Splits a decoded label "Issuer:account" (RFC-less but universal): after `issuer`'s own
 * prefix when the caller knows the issuer, else at the first colon.
 */
export function splitLabel(label: string, issuer?: string): SplitLabel {
  const account = accountAfterIssuer(label, issuer);
  if (account !== undefined) return fromParts(issuer ?? '', account);
  const colon = label.indexOf(':');
  return colon < 0 ? { account: label.trim() } : fromParts(label.slice(0, colon), label.slice(colon + 1));
}

/**
 * Splits an otpauth label as it stands in the URI, before percent-decoding, so an issuer's
 * own encoded colon is not taken for the separator. The Key Uri Format allows ":" or "%3A"
 * as the separator (github.com/google/google-authenticator/wiki/Key-Uri-Format); a literal
 * one wins, because an encoder (buildOtpUri among them) writes the parts' colons as %3A.
 */
function splitUriLabel(raw: string, label: string, issuerParameter: string | undefined): SplitLabel {
  const account = accountAfterIssuer(label, issuerParameter);
  if (account !== undefined) return fromParts(issuerParameter ?? '', account);
  // A label that is only the issuer ("otpauth://totp/GitHub?issuer=GitHub") stays whole as the
  // account, as it always was, rather than being cut at a colon of the issuer's own.
  if (issuerParameter && label.trim() === issuerParameter.trim()) return { account: label.trim() };
  const literal = raw.indexOf(':');
  const encoded = raw.search(/%3A/i);
  const [at, width] = literal >= 0 ? [literal, 1] : [encoded, 3];
  if (at < 0) return { account: label.trim() };
  // Both halves decode: the whole label did, and neither cut falls inside a "%XX" escape.
  return fromParts(decodeComponent(raw.slice(0, at), 'label'), decodeComponent(raw.slice(at + width), 'label'));
}

/** How an error names a query parameter: ours by name, any other without its (input) text. */
function parameterWhere(key: string): string {
  return KNOWN_PARAMETERS.has(key) ? `${key} parameter` : 'value of a parameter';
}

/** Parses `otpauth://totp|hotp/LABEL?…` or `steam://SECRET`. */
export function parseOtpUri(uri: string): OtpUri {
  const text = uri.trim();
  const schemeEnd = text.indexOf('://');
  const scheme = schemeEnd < 0 ? '' : text.slice(0, schemeEnd).toLowerCase();
  if (scheme === 'steam') return parseSteamUri(text.slice(schemeEnd + 3));
  if (scheme === 'otpauth-migration') {
    refuse('This is a Google Authenticator export (otpauth-migration://), which holds several entries: import it instead.');
  }
  // The scheme is not echoed either: text before "://" may be a pasted secret.
  if (scheme === 'http' || scheme === 'https') refuse('Not an otpauth:// URI (it is a web address).');
  if (scheme !== 'otpauth') refuse('Not an otpauth:// URI: it should start with otpauth://totp/, otpauth://hotp/ or steam://.');

  const rest = text.slice(schemeEnd + 3);
  const hashAt = rest.indexOf('#');
  const withoutFragment = hashAt < 0 ? rest : rest.slice(0, hashAt);
  const queryAt = withoutFragment.indexOf('?');
  const path = queryAt < 0 ? withoutFragment : withoutFragment.slice(0, queryAt);
  const query = queryAt < 0 ? '' : withoutFragment.slice(queryAt + 1);
  const slash = path.indexOf('/');
  const type = (slash < 0 ? path : path.slice(0, slash)).toLowerCase();
  if (type !== 'totp' && type !== 'hotp') {
    refuse('Unknown OTP type: an otpauth URI is otpauth://totp/… or otpauth://hotp/….');
  }
  const rawLabel = slash < 0 ? '' : path.slice(slash + 1);
  const label = decodeComponent(rawLabel, 'label');

  const values = new Map<string, string>();
  const extra: Array<readonly [string, string]> = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    // Query values follow form encoding, where "+" is a space (as URLSearchParams reads them).
    const name = decodeComponent(rawName.replace(/\+/g, ' '), 'parameter name');
    const key = name.toLowerCase();
    const value = decodeComponent(rawValue.replace(/\+/g, ' '), parameterWhere(key));
    if (KNOWN_PARAMETERS.has(key)) {
      if (!values.has(key)) values.set(key, value);
    } else {
      extra.push([name, value]);
    }
  }

  const rawSecret = values.get('secret');
  if (rawSecret === undefined || rawSecret.trim() === '') refuse('The URI has no secret parameter.');
  const { secret, warning } = normaliseSecret(rawSecret);

  const encoder = values.get('encoder')?.toLowerCase();
  if (encoder !== undefined && encoder !== 'steam') refuse('Unknown encoder: only "steam" is supported.');
  const isSteam = encoder === 'steam';
  if (isSteam && type !== 'totp') refuse('Steam Guard codes are time-based: use otpauth://totp/…&encoder=steam.');

  const algorithmText = values.get('algorithm');
  let algorithm: OtpAlgorithm = 'SHA1';
  if (algorithmText !== undefined) {
    const upper = algorithmText.toUpperCase().replace('-', '');
    const match = OTP_ALGORITHMS.find((a) => a === upper);
    if (!match) refuse('Unsupported algorithm: use SHA1, SHA256 or SHA512.');
    algorithm = match;
  }

  const digitsText = values.get('digits');
  // A Steam key's digits are checked with its whole shape below, so the message says Steam.
  const digits = isSteam
    ? digitsText === undefined ? STEAM_DIGITS : parseWholeNumber(digitsText, 'digits', 0, Number.MAX_SAFE_INTEGER)
    : digitsText === undefined ? 6 : parseWholeNumber(digitsText, 'digits', MIN_DIGITS, MAX_DIGITS);
  const periodText = values.get('period');
  const period = periodText === undefined ? DEFAULT_PERIOD : parseWholeNumber(periodText, 'period', MIN_PERIOD, MAX_PERIOD);
  const counterText = values.get('counter');
  // The format asks HOTP URIs for a counter; apps that omit it mean 0.
  const counter = counterText === undefined ? 0 : parseWholeNumber(counterText, 'counter', 0, Number.MAX_SAFE_INTEGER);

  const steamProblem = isSteam ? steamShapeProblem({ algorithm, digits, period }) : undefined;
  if (steamProblem) refuse(steamProblem);

  const issuerParameter = values.get('issuer')?.trim();
  const fromLabel = splitUriLabel(rawLabel, label, issuerParameter);
  const issuer = issuerParameter || fromLabel.issuer;
  const params: OtpParams = { kind: isSteam ? 'steam' : type, secret, algorithm, digits, period, counter };
  return {
    params,
    account: fromLabel.account,
    extra,
    ...(issuer ? { issuer } : {}),
    ...(warning ? { warning } : {}),
  };
}

function parseSteamUri(rest: string): OtpUri {
  const { secret, warning } = normaliseSecret(decodeComponent(rest, 'Steam secret'));
  return {
    params: { kind: 'steam', secret, algorithm: 'SHA1', digits: STEAM_DIGITS, period: DEFAULT_PERIOD, counter: 0 },
    issuer: 'Steam',
    account: '',
    extra: [],
    ...(warning ? { warning } : {}),
  };
}

export interface OtpUriParts {
  readonly params: OtpParams;
  readonly issuer?: string;
  readonly account: string;
  readonly extra?: ReadonlyArray<readonly [string, string]>;
}

/** Builds an otpauth URI that `parseOtpUri` reads back to the same parts. */
export function buildOtpUri(parts: OtpUriParts): string {
  const { params } = parts;
  // The parts are percent-encoded (their own colons become %3A) and joined by a literal colon,
  // which splitUriLabel prefers. An account that holds a colon but has no issuer gets an empty
  // prefix, so readers that split at "%3A" too do not mistake it for "Issuer:account".
  const prefix = parts.issuer ? encodeURIComponent(parts.issuer) + ':' : parts.account.includes(':') ? ':' : '';
  const label = prefix + encodeURIComponent(parts.account);
  const query: Array<[string, string]> = [['secret', params.secret]];
  if (parts.issuer) query.push(['issuer', parts.issuer]);
  query.push(['algorithm', params.algorithm], ['digits', String(params.digits)]);
  if (params.kind === 'hotp') query.push(['counter', String(params.counter)]);
  else query.push(['period', String(params.period)]);
  if (params.kind === 'steam') query.push(['encoder', 'steam']);
  for (const [name, value] of parts.extra ?? []) query.push([name, value]);
  const type = params.kind === 'hotp' ? 'hotp' : 'totp';
  return `otpauth://${type}/${label}?${query.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&')}`;
}
