/**
 * Errors that cross every door (Electron IPC, browser host, CLI) as `{ code, message }`.
 *
 * A code is stable: callers and tests branch on it, never on the message. A message is one
 * line a person can act on. It must never carry a secret, a key or ciphertext: at most the
 * one offending character of an input, which the person needs to fix it.
 */

export const ERROR_CODES = [
  'INVALID_INPUT',
  'INVALID_SECRET',
  'INVALID_URI',
  'USAGE',
  'WRONG_PASSWORD',
  'NOT_FOUND',
  'AMBIGUOUS',
  'ALREADY_EXISTS',
  'FORBIDDEN',
  'LOCKED',
  'BUSY',
  'CONFLICT',
  'VAULT_CORRUPT',
  'VAULT_TAMPERED',
  'VAULT_NEWER',
  'VAULT_EXISTS',
  'VAULT_MISSING',
  'PASSWORD_CHANGE_REQUIRED',
  'MFA_REQUIRED',
  'WRONG_CODE',
  'TOO_MANY_ATTEMPTS',
  'UNKNOWN_METHOD',
  'UNAUTHORIZED',
  'INTERNAL',
  /** A team server's address: plain http:// off this computer. */
  'INSECURE_SERVER',
  /** A team server whose certificate no trusted authority vouches for, and not pinned yet. */
  'SERVER_UNTRUSTED',
  /** A team server presenting a certificate other than the one pinned for it. */
  'SERVER_CERT_CHANGED',
  /** No answer, or not one a Crewvault server gives. */
  'SERVER_UNREACHABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

export class CrewvaultError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'CrewvaultError';
    this.code = code;
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

export function isCrewvaultError(value: unknown): value is CrewvaultError {
  return value instanceof CrewvaultError;
}
