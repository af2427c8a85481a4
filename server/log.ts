/**
 * The server's log: pino (Fastify's) as JSON lines. What a request line carries is chosen
 * here, not left to defaults: method, the route matched (never the path sent), status and time, the
 * client's address. Bodies and headers are never logged, and in case a later change logs an
 * object that holds one, every field that can carry a secret is redacted by name, at the top of
 * what is logged and one level down (pino's `field` and `*.field`). The request lines themselves
 * carry only what their serializers pick, so they are not walked: a walk of every request line
 * was ~6% of the server's CPU a code (docs/SYNC.md).
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Where pino writes: anything with `write(line)` (process.stdout, or a test's collector). */
export interface LogDestination {
  write(line: string): void;
}

/** What a batched log holds before it writes at once, without waiting for the end of the turn. */
const BATCH_BYTES = 64 * 1024;

/** A log destination that can be told to write what it holds now (at exit, at close). */
export interface BatchedLog extends LogDestination {
  /** Writes what is held now; a plain function (no `this`), so it can be handed to process.on('exit'). */
  readonly flush: () => void;
}

/**
 * Lines logged in one turn of the event loop written together, once the turn's work is done
 * (`schedule`: setImmediate), rather than one synchronous write a line: a write to a file is a
 * system call on the event loop, and under the codes load every request's line was one (~2.4% of
 * the server's busy time). Lines keep their order; past BATCH_BYTES the batch is written at once.
 * What a crash loses: the lines of the turn it happened in, unless the caller's exit handler
 * flushes (`crewvault server` does, on 'exit'), so a SIGKILL or a V8 abort only. The lines are
 * the same as before: only when they are written changes, never what is in them.
 */
export function batchedLog(write: (text: string) => void, schedule: (flush: () => void) => void = setImmediate): BatchedLog {
  let lines: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    bytes = 0;
    write(text);
  };
  return {
    write(line: string): void {
      lines.push(line);
      bytes += line.length;
      if (bytes >= BATCH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
  };
}

/** Names of fields that may hold a secret, wherever they appear in a logged object. */
const SECRET_FIELDS = [
  'authorization', 'cookie', 'password', 'token', 'accessToken', 'refreshToken', 'invite',
  'registrationRequest', 'registrationResponse', 'registrationRecord', 'startLoginRequest', 'loginResponse',
  'finishLoginRequest', 'serverLoginState', 'sessionKey', 'exportKey', 'opaqueSetup', 'stateKey', 'body',
  'apiKey', 'pass',
];

const SECRET_NAMES: ReadonlySet<string> = new Set(SECRET_FIELDS);
const CENSOR = '[redacted]';
/** Keys whose serializer below picks what is logged of them: their value is never written as it is. */
const SERIALIZED: ReadonlySet<string> = new Set(['req', 'res', 'err']);

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `object` with every field named in SECRET_FIELDS, at its top or one level down, replaced by
 * CENSOR; the same object when none is there (nothing copied: the common case costs a look at
 * each key). `req`, `res` and `err` are left to their serializers, which name what they write.
 */
export function redactSecrets(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (SERIALIZED.has(key)) continue;
    const value = object[key];
    if (SECRET_NAMES.has(key)) {
      out ??= { ...object };
      out[key] = CENSOR;
      continue;
    }
    if (!isPlainRecord(value)) continue;
    let inner: Record<string, unknown> | undefined;
    for (const field of Object.keys(value)) {
      if (!SECRET_NAMES.has(field)) continue;
      inner ??= { ...value };
      inner[field] = CENSOR;
    }
    if (inner !== undefined) {
      out ??= { ...object };
      out[key] = inner;
    }
  }
  return out ?? object;
}

export function loggerOptions(destination: LogDestination | undefined, level: string): FastifyServerOptions['logger'] {
  if (destination === undefined) return false;
  return {
    level,
    stream: destination,
    // Before the serializers, on what a call logs: secrets by name, without pino's compiled walk of every line.
    formatters: { log: redactSecrets },
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
