/** Reads an entry's OTP from the command line: an otpauth URI or a bare base32 secret. */
import { defaultOtpParams, normaliseSecret, parseOtpUri } from '../../shared/otp';
import type { OtpInput } from '../../shared/model';
import type { CliIo } from './io';

export function looksLikeUri(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim());
}

/** Parses `text`; a short-secret warning goes to stderr. */
export function readOtpInput(text: string, io: CliIo): OtpInput {
  if (looksLikeUri(text)) {
    const uri = parseOtpUri(text);
    if (uri.warning) io.err(`crewvault: warning: ${uri.warning.message}\n`);
    return uri.issuer ? { params: uri.params, issuer: uri.issuer } : { params: uri.params };
  }
  const { secret, warning } = normaliseSecret(text);
  if (warning) io.err(`crewvault: warning: ${warning.message}\n`);
  return { params: defaultOtpParams(secret) };
}
