/** Reads an entry's OTP from what `--otp -` was given (prompt or piped stdin): an otpauth URI or a bare base32 secret. */
import { resolveOtpSpec } from '../../shared/otp';
import type { OtpInput } from '../../shared/model';
import type { CliIo } from './io';

/** Parses `text` (URI or secret key); a short-secret warning goes to stderr. */
export function readOtpInput(text: string, io: CliIo): OtpInput {
  const resolved = resolveOtpSpec({ uri: text });
  if (resolved.warning) io.err(`crewvault: warning: ${resolved.warning.message}\n`);
  return resolved.issuer ? { params: resolved.params, issuer: resolved.issuer } : { params: resolved.params };
}
