/**
 * The server's half of OPAQUE (RFC 9807) through @serenity-kit/opaque, with its failures
 * turned into our error codes. The library throws on a malformed message; what that says is
 * about the bytes, never the password, but its text is not ours, so it is not passed on.
 */
import * as opaque from '@serenity-kit/opaque';
import { CrewvaultError } from '../../shared/errors';

/** The library's WebAssembly must be loaded before any call. */
export const opaqueReady: Promise<void> = opaque.ready;

export function registrationResponse(serverSetup: string, userIdentifier: string, registrationRequest: string): string {
  try {
    return opaque.server.createRegistrationResponse({ serverSetup, userIdentifier, registrationRequest }).registrationResponse;
  } catch {
    throw new CrewvaultError('INVALID_INPUT', 'registrationRequest is not an OPAQUE registration request');
  }
}

/**
 * Login's first answer. `registrationRecord` undefined (no such user) makes OPAQUE answer
 * from a fake record, indistinguishable without the password (RFC 9807, section 10.9); the
 * identifier must then be stable per name, so that repeated tries see one consistent fake.
 */
export function startLogin(serverSetup: string, userIdentifier: string, registrationRecord: string | undefined, startLoginRequest: string): { serverLoginState: string; loginResponse: string } {
  try {
    return opaque.server.startLogin({ serverSetup, userIdentifier, registrationRecord, startLoginRequest });
  } catch {
    throw new CrewvaultError('INVALID_INPUT', 'startLoginRequest is not an OPAQUE login request');
  }
}

/** True when the client proved it knows the password for this attempt's record. */
export function finishLogin(serverLoginState: string, finishLoginRequest: string): boolean {
  try {
    opaque.server.finishLogin({ serverLoginState, finishLoginRequest });
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws INVALID_INPUT unless `record` has the shape of a registration record the server can
 * later sign in with: a login is started against it with a throwaway request (cheap: no key
 * stretching happens on this side), so a broken client is told at registration, not at every
 * login. Well-formed nonsense passes; it only locks out the person who sent it.
 */
export function checkRegistrationRecord(serverSetup: string, userIdentifier: string, record: string): void {
  const { startLoginRequest } = opaque.client.startLogin({ password: 'record-check' });
  try {
    opaque.server.startLogin({ serverSetup, userIdentifier, registrationRecord: record, startLoginRequest });
  } catch {
    throw new CrewvaultError('INVALID_INPUT', 'registrationRecord is not an OPAQUE registration record');
  }
}
