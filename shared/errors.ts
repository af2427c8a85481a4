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
  /** A pushed record or event does not hold under a signing key in force for its author, or breaks its device's chain (team server). */
  'BAD_SIGNATURE',
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
  /** A team server's copy of a vault names an owner signing key other than the one this desktop trusts (docs/SYNC.md, joining). */
  'OWNER_KEY_CHANGED',
  /** An account public key the team server hands over whose fingerprint is not the one its person read out (docs/SYNC.md, binding an account). */
  'ACCOUNT_KEY_CHANGED',
  /** A team server older than this desktop (its schema before the one this desktop's sync needs): its administrator upgrades it (docs/SYNC.md). */
  'SERVER_OUTDATED',
  /** A team server whose history of a vault is not the one a desktop pulled from (restored from a backup, the vault replaced): the desktop takes it in anew (docs/SYNC.md "Faults"). */
  'HISTORY_CHANGED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
  /**
   * TOO_MANY_ATTEMPTS: whole seconds until the next attempt is taken, so a screen can count
   * down (relative, since the page's clock and the vault's need not agree).
   */
  readonly retryAfterSeconds?: number;
}

export class CrewvaultError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'CrewvaultError';
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message, ...(this.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.retryAfterSeconds }) };
  }
}

/** A wait still running until `retryAt` (ms): TOO_MANY_ATTEMPTS, saying how long in words and in `retryAfterSeconds`. */
export function tooManyAttempts(what: string, retryAt: number, now: number): CrewvaultError {
  const seconds = Math.max(1, Math.ceil((retryAt - now) / 1000));
  return new CrewvaultError('TOO_MANY_ATTEMPTS', `${what}: try again in ${seconds} s.`, seconds);
}

export function isCrewvaultError(value: unknown): value is CrewvaultError {
  return value instanceof CrewvaultError;
}
