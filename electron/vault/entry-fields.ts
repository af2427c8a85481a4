/**
 * What a person typed into an entry, checked before it is sealed: one Unicode form for the
 * names people compare by eye and by keyed index, the field limits, no control characters
 * outside the password and notes, no look-alike names, and valid OTP settings.
 * Must never return text it did not check; errors name the field, never its value.
 */
import { CrewvaultError } from '../../shared/errors';
import { FIELD_LIMITS, type OtpInput } from '../../shared/model';
import { validateOtpParams } from '../../shared/otp';
import { hasC1Control, hasControlCharacter, lookAlikeProblem, normaliseNameText } from '../../shared/text';
import type { SealedDetails } from './sealed-entry';

export { FIELD_LIMITS };

export function field(value: string | undefined, name: keyof typeof FIELD_LIMITS, required: boolean): string {
  // Names are compared by eye and by keyed index: one Unicode form, and no invisible characters.
  const text = name === 'password' || name === 'notes' ? (value ?? '') : name === 'customer' || name === 'title' ? normaliseNameText(value ?? '') : (value ?? '').trim();
  const label = `${name[0]?.toUpperCase()}${name.slice(1)}`;
  // What a person reads to tell entries apart (and "Customer/Title" finds) must look like what it is.
  const lookAlike = name === 'customer' || name === 'title' || name === 'username' || name === 'url' ? lookAlikeProblem(label, text) : undefined;
  if (lookAlike) throw new CrewvaultError('INVALID_INPUT', lookAlike);
  if (required && text.length === 0) throw new CrewvaultError('INVALID_INPUT', `${name[0]?.toUpperCase()}${name.slice(1)} is required.`);
  if (text.length > FIELD_LIMITS[name]) throw new CrewvaultError('INVALID_INPUT', `${name[0]?.toUpperCase()}${name.slice(1)} is longer than ${FIELD_LIMITS[name]} characters.`);
  if (name !== 'notes' && name !== 'password' && (hasControlCharacter(text) || hasC1Control(text))) {
    throw new CrewvaultError('INVALID_INPUT', `${name[0]?.toUpperCase()}${name.slice(1)} contains a control character.`);
  }
  return text;
}

export function otpFromInput(otp: OtpInput | null | undefined): SealedDetails['otp'] {
  if (!otp) return null;
  const params = validateOtpParams(otp.params);
  const issuer = otp.issuer === undefined ? undefined : otpIssuer(otp.issuer);
  return { ...params, ...(issuer ? { issuer } : {}) };
}

/** An OTP issuer is shown beside the code and built into URIs: a name, held to a name's rules. */
export function otpIssuer(issuer: string): string {
  const text = normaliseNameText(issuer);
  if (text.length > FIELD_LIMITS.issuer) throw new CrewvaultError('INVALID_INPUT', `OTP issuer is longer than ${FIELD_LIMITS.issuer} characters.`);
  const lookAlike = lookAlikeProblem('OTP issuer', text);
  if (lookAlike) throw new CrewvaultError('INVALID_INPUT', lookAlike);
  return text;
}
