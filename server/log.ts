/**
 * The server's log: pino (Fastify's) as JSON lines. What a request line carries is chosen
 * here, not left to defaults: method, the route matched (never the path sent), status and time, the
 * client's address. Bodies and headers are never logged, and in case a later change logs an
 * object that holds one, every field that can carry a secret is redacted by name.
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Where pino writes: anything with `write(line)` (process.stdout, or a test's collector). */
export interface LogDestination {
  write(line: string): void;
}

/** Names of fields that may hold a secret, wherever they appear in a logged object. */
const SECRET_FIELDS = [
  'authorization', 'cookie', 'password', 'token', 'accessToken', 'refreshToken', 'invite',
  'registrationRequest', 'registrationResponse', 'registrationRecord', 'startLoginRequest', 'loginResponse',
  'finishLoginRequest', 'serverLoginState', 'sessionKey', 'exportKey', 'opaqueSetup', 'stateKey', 'body',
  'apiKey', 'pass',
];

export function loggerOptions(destination: LogDestination | undefined, level: string): FastifyServerOptions['logger'] {
  if (destination === undefined) return false;
  return {
    level,
    stream: destination,
    redact: {
      paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`), 'req.headers', 'res.headers'],
      censor: '[redacted]',
    },
    serializers: {
      // The route's pattern, never the path as sent: an unknown path is whatever a client typed.
      req: (req: FastifyRequest) => ({ method: req.method, route: req.routeOptions.url ?? '(no such route)', remoteAddress: req.ip }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      // A message only where we know what it holds: ours (never a secret, shared/errors.ts) and
      // PostgreSQL's (a statement's text or a constraint's name; values are in `detail`, left out).
      err: (err: Error & { code?: unknown }) => {
        const code = typeof err.code === 'string' ? err.code : undefined;
        const trusted = err.name === 'CrewvaultError' || (code !== undefined && /^[0-9A-Z]{5}$/.test(code));
        return { type: err.name, code, message: trusted ? err.message : '[not logged]', stack: '[not logged]' };
      },
    },
  };
}
