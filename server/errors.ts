/**
 * How an error leaves the server: `{ ok: false, error: { code, message } }` with a stable
 * code from shared/errors.ts and the HTTP status that code means. Fastify's own errors (a
 * body too large, not JSON, the wrong content type) get our codes and our words: their text
 * may quote the body, and a body may hold a token.
 */
import { z } from 'zod';
import { CrewvaultError, isCrewvaultError, type ErrorCode, type ErrorInfo } from '../shared/errors';

const STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  INVALID_SECRET: 400,
  INVALID_URI: 400,
  USAGE: 400,
  WRONG_PASSWORD: 401,
  WRONG_CODE: 401,
  UNAUTHORIZED: 401,
  MFA_REQUIRED: 401,
  FORBIDDEN: 403,
  BAD_SIGNATURE: 422,
  PASSWORD_CHANGE_REQUIRED: 403,
  NOT_FOUND: 404,
  UNKNOWN_METHOD: 404,
  AMBIGUOUS: 409,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  VAULT_EXISTS: 409,
  LOCKED: 423,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL: 500,
  VAULT_CORRUPT: 500,
  VAULT_TAMPERED: 500,
  VAULT_NEWER: 500,
  VAULT_MISSING: 500,
  BUSY: 503,
  // A pull from a cursor this server's history does not hold (server/sync/history-marks.ts).
  HISTORY_CHANGED: 409,
  // Client-side codes (electron/team/transport.ts): the server never answers with them.
  INSECURE_SERVER: 500,
  SERVER_UNTRUSTED: 500,
  SERVER_CERT_CHANGED: 500,
  SERVER_UNREACHABLE: 500,
  OWNER_KEY_CHANGED: 500,
  ACCOUNT_KEY_CHANGED: 500,
  SERVER_OUTDATED: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** zod's issues in our words: where, and what is wrong, never the value (or an unknown key's name). */
export function invalidInput(error: z.ZodError): CrewvaultError {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'the body' : issue.path.join('.');
  const what = issue === undefined ? 'is not valid'
    : issue.code === 'unrecognized_keys' ? 'has a field this route does not take'
      : issue.message;
  return new CrewvaultError('INVALID_INPUT', `${where}: ${what}`);
}

/** Fastify's client errors, by their code; anything else from Fastify with a 4xx is generic. */
function fastifyClientError(error: unknown): CrewvaultError | undefined {
  if (!(error instanceof Error) || !('statusCode' in error) || typeof error.statusCode !== 'number') return undefined;
  if (error.statusCode < 400 || error.statusCode >= 500) return undefined;
  const code = 'code' in error ? error.code : undefined;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CrewvaultError('INVALID_INPUT', 'The body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CrewvaultError('INVALID_INPUT', 'Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CrewvaultError('INVALID_INPUT', 'The body is empty');
    default:
      return new CrewvaultError('INVALID_INPUT', 'The request is not valid JSON for this route');
  }
}

export interface ErrorReply {
  readonly status: number;
  readonly body: { readonly ok: false; readonly error: ErrorInfo };
  /** True for the server's own failures, which deserve a log line (without the request). */
  readonly unexpected: boolean;
}

export function errorReply(error: unknown): ErrorReply {
  const known = isCrewvaultError(error) ? error : error instanceof z.ZodError ? invalidInput(error) : fastifyClientError(error);
  if (known !== undefined) {
    const status = statusOf(known.code);
    return { status, body: { ok: false, error: known.toJSON() }, unexpected: status >= 500 };
  }
  return { status: 500, body: { ok: false, error: { code: 'INTERNAL', message: 'The server failed: its log says more' } }, unexpected: true };
}
