/**
 * `otpauth://` URIs (Google's Key Uri Format) and `steam://SECRET`: parse and build.
 *
 * The URI is never lower-cased as a whole (Bitwarden's mistake loses the issuer's case):
 * only the scheme, type and parameter names are matched case-insensitively. Parameters we
 * do not know are kept, in order, so an entry round-trips. Errors name what is wrong and
 * never repeat the secret.
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

function parseWholeNumber(value: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) refuse(`The ${name} "${value}" is not a whole number.`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) refuse(`The ${name} ${value} is out of range (${min}–${max}).`);
  return n;
}

/** Splits a decoded label "Issuer:account" (RFC-less but universal) at its first colon. */
export function splitLabel(label: string): { issuer?: string; account: string } {
  const colon = label.indexOf(':');
  if (colon < 0) return { account: label.trim() };
  const issuer = label.slice(0, colon).trim();
  const account = label.slice(colon + 1).trim();
  return issuer ? { issuer, account } : { account };
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
  // Name the scheme only: text without one may be a pasted secret, which must not be echoed.
  if (scheme !== 'otpauth') refuse(scheme ? `Not an otpauth:// URI (it starts with "${scheme}://").` : 'Not an otpauth:// URI.');

  const rest = text.slice(schemeEnd + 3);
  const hashAt = rest.indexOf('#');
  const withoutFragment = hashAt < 0 ? rest : rest.slice(0, hashAt);
  const queryAt = withoutFragment.indexOf('?');
  const path = queryAt < 0 ? withoutFragment : withoutFragment.slice(0, queryAt);
  const query = queryAt < 0 ? '' : withoutFragment.slice(queryAt + 1);
  const slash = path.indexOf('/');
  const type = (slash < 0 ? path : path.slice(0, slash)).toLowerCase();
  if (type !== 'totp' && type !== 'hotp') {
    refuse(`Unknown OTP type "${type}": an otpauth URI is otpauth://totp/… or otpauth://hotp/….`);
  }
  const label = slash < 0 ? '' : decodeComponent(path.slice(slash + 1), 'label');

  const values = new Map<string, string>();
  const extra: Array<readonly [string, string]> = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    // Query values follow form encoding, where "+" is a space (as URLSearchParams reads them).
    const name = decodeComponent(rawName.replace(/\+/g, ' '), 'parameter name');
    const value = decodeComponent(rawValue.replace(/\+/g, ' '), `"${name}" parameter`);
    const key = name.toLowerCase();
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
  if (encoder !== undefined && encoder !== 'steam') refuse(`Unknown encoder "${encoder}": only "steam" is supported.`);
  const isSteam = encoder === 'steam';
  if (isSteam && type !== 'totp') refuse('Steam Guard codes are time-based: use otpauth://totp/…&encoder=steam.');

  const algorithmText = values.get('algorithm');
  let algorithm: OtpAlgorithm = 'SHA1';
  if (algorithmText !== undefined) {
    const upper = algorithmText.toUpperCase().replace('-', '');
    const match = OTP_ALGORITHMS.find((a) => a === upper);
    if (!match) refuse(`Unsupported algorithm "${algorithmText}": use SHA1, SHA256 or SHA512.`);
    algorithm = match;
  }

  const digitsText = values.get('digits');
  const digits = isSteam
    ? digitsText === undefined ? STEAM_DIGITS : parseWholeNumber(digitsText, 'digits', STEAM_DIGITS, STEAM_DIGITS)
    : digitsText === undefined ? 6 : parseWholeNumber(digitsText, 'digits', MIN_DIGITS, MAX_DIGITS);
  const periodText = values.get('period');
  const period = periodText === undefined ? DEFAULT_PERIOD : parseWholeNumber(periodText, 'period', MIN_PERIOD, MAX_PERIOD);
  const counterText = values.get('counter');
  // The format asks HOTP URIs for a counter; apps that omit it mean 0.
  const counter = counterText === undefined ? 0 : parseWholeNumber(counterText, 'counter', 0, Number.MAX_SAFE_INTEGER);

  const fromLabel = splitLabel(label);
  const issuerParameter = values.get('issuer')?.trim();
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
  // Readers split the label at its first colon, literal or encoded; an account that holds a
  // colon but has no issuer gets an empty prefix so it is not mistaken for "Issuer:account".
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
