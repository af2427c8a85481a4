/**
 * An OTP as a person enters it — an otpauth URI, or a typed secret key plus "Advanced"
 * settings — resolved to validated parameters. The UI (live preview), the router and the CLI
 * all use this one function, so they cannot disagree about what a key means.
 */
import type { SecretWarning } from './base32';
import { normaliseSecret } from './base32';
import { DEFAULT_PERIOD, defaultOtpParams, STEAM_DIGITS, validateOtpParams, type OtpAlgorithm, type OtpKind, type OtpParams } from './codes';
import { parseOtpUri } from './uri';

export interface OtpSpec {
  /** An otpauth:// or steam:// URI; when given, `secret` is ignored. */
  readonly uri?: string;
  readonly secret?: string;
  /** Overrides of what the URI says (or of the defaults for a typed key). */
  readonly kind?: OtpKind;
  readonly algorithm?: OtpAlgorithm;
  readonly digits?: number;
  readonly period?: number;
  readonly counter?: number;
  readonly issuer?: string;
}

export interface ResolvedOtp {
  readonly params: OtpParams;
  readonly issuer?: string;
  readonly account?: string;
  readonly warning?: SecretWarning;
}

export function looksLikeUri(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim());
}

/** Throws INVALID_SECRET / INVALID_URI / INVALID_INPUT with a message for the person. */
export function resolveOtpSpec(spec: OtpSpec): ResolvedOtp {
  let base: ResolvedOtp;
  const text = spec.uri ?? spec.secret ?? '';
  if (looksLikeUri(text)) {
    const uri = parseOtpUri(text);
    base = {
      params: uri.params,
      account: uri.account,
      ...(uri.issuer ? { issuer: uri.issuer } : {}),
      ...(uri.warning ? { warning: uri.warning } : {}),
    };
  } else {
    const { secret, warning } = normaliseSecret(text);
    base = { params: defaultOtpParams(secret), ...(warning ? { warning } : {}) };
  }
  const kind = spec.kind ?? base.params.kind;
  let params: OtpParams = {
    ...base.params,
    kind,
    ...(spec.algorithm ? { algorithm: spec.algorithm } : {}),
    ...(spec.digits !== undefined ? { digits: spec.digits } : {}),
    ...(spec.period !== undefined ? { period: spec.period } : {}),
    ...(spec.counter !== undefined ? { counter: spec.counter } : {}),
  };
  // Steam Guard has one shape (steamParams); switching a key to Steam takes it whole.
  if (kind === 'steam') params = { ...params, algorithm: 'SHA1', digits: STEAM_DIGITS, period: DEFAULT_PERIOD };
  else if (base.params.kind === 'steam' && spec.digits === undefined) params = { ...params, digits: 6 };
  const issuer = spec.issuer?.trim() || base.issuer;
  return { ...base, params: validateOtpParams(params), ...(issuer ? { issuer } : {}) };
}
