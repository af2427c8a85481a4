/**
 * The server's HTTP app, built by a factory from what it is handed (database, keys, clock,
 * log destination): no global state, so a test can run several side by side. Every route is
 * one of shared/api/server-contract.ts's, registered from that list: its body is parsed by
 * the contract's zod schema before a handler sees it, a `password` or `session` route
 * authenticates first, on the headers, before the body is read (a `session` one also needs the second sign-in step done, when one is due;
 * an automation token, `Bearer cvt_…`, reaches only a route naming one of its scopes; a
 * `local` route, a server setting, answers only a request from this machine: settings/local-only.ts),
 * and every reply is `{ ok: true, value }` or `{ ok: false, error: { code, message } }`.
 *
 * Must never: log a body or a header, echo a client's text in an error, or hold a rule that
 * belongs to a service (server/auth/): routes only adapt HTTP.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DEVICE_HEADER, SERVER_BODY_LIMIT_BYTES, SERVER_ROUTES, SYNC_STREAM_PATH, syncStreamQuerySchema, type ServerRouteName } from '../shared/api/server-contract';
import { CrewvaultError } from '../shared/errors';
import { authenticateToken, isAutomationToken, type Caller, type TokenCaller } from './auth/automation-tokens';
import { requireSecondStep } from './auth/second-step';
import { authenticate, presentedSession, type Authenticated, type PresentedSession } from './auth/sessions';
import type { ServerContext } from './context';
import { errorReply } from './errors';
import { isFromThisMachine, requireThisMachine } from './settings/local-only';
import { JsonText } from './json-text';
import { loggerOptions, type LogDestination } from './log';
import { ROUTE_HANDLERS } from './routes/index';
import { vaultInfo } from './store/sync';
import { notAPerson, pullingPerson } from './sync/membership';
import { SyncNotifier } from './sync/stream';

export interface AppOptions extends ServerContext {
  /** Where JSON log lines go; none when undefined. */
  readonly log?: LogDestination;
  readonly logLevel?: string;
  /** TLS certificate and key (PEM); plain HTTP without (loopback only: server/listen.ts). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly version: string;
  /** `crewvault server --allow-remote-admin`: `local` routes answer any address (off by default). */
  readonly allowRemoteAdmin?: boolean;
  /**
   * The data folder's local admin key (settings/local-only.ts): a `local` route also needs it.
   * server/main.ts always gives it; an app built without one (in-process tests) checks the socket only.
   */
  readonly localAdminKey?: string;
}

/** How this server runs, for its status route: nothing secret. */
export interface ServerFacts {
  readonly database: 'postgresql' | 'pglite';
  readonly tls: boolean;
  /** Server settings answer this machine only (no --allow-remote-admin). */
  readonly localAdminOnly: boolean;
  /** Where it listens now (HOST:PORT). */
  listen(): string;
}

export interface CallContext {
  readonly ctx: ServerContext;
  readonly version: string;
  /** Present on `password` and `session` routes called with a session: the app authenticated the call before the handler ran. */
  readonly auth: Authenticated | undefined;
  /** Present instead when an automation token called a route naming one of its scopes. */
  readonly token: TokenCaller | undefined;
  /**
   * Present instead on a route of SESSION_JUDGED_IN_HANDLER called with a session: the session as presented,
   * not yet read; its handler reads and judges it in its own transaction, as the app would have.
   */
  readonly presented: PresentedSession | undefined;
  /** The client's address as the socket says (no proxy header is trusted). */
  readonly source: string;
  readonly server: ServerFacts;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer ([A-Za-z0-9_-]{16,200})$/.exec(header);
  return match?.[1];
}

function deviceOf(request: FastifyRequest): string | undefined {
  const value = request.headers[DEVICE_HEADER];
  return typeof value === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(value) ? value : undefined;
}

/** How long a request may take to arrive, headers and body (Node's default; see buildApp). */
export const REQUEST_TIMEOUT_MS = 300_000;
/** A caller judged on a request's headers is judged again when its body took this long to follow. */
const JUDGED_AGAIN_AFTER_MS = 1_000;

/** Who called, as judged on a request's headers, and when. */
interface Judged {
  readonly auth: Authenticated | undefined;
  readonly token: TokenCaller | undefined;
  readonly presented: PresentedSession | undefined;
  readonly at: number;
}

/**
 * Routes whose session is read and judged by their handler, in the transaction that serves the call, rather than
 * on the headers: a code's batch (server/codes/batch.ts) reads its asker's session there anyway, and reading it for
 * the request as well was one statement a code more. The handler applies the rules the app would (authenticate,
 * requireSecondStep: server/auth/sessions.ts presentedStanding). Such a route's body (16 KiB at most) is read before
 * its session is judged; a body it refuses is refused only once the session has been judged here, so a caller without
 * a session still learns nothing of the body. An automation token is judged on the headers as on any route.
 */
const SESSION_JUDGED_IN_HANDLER: ReadonlySet<ServerRouteName> = new Set(['codes']);

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const ctx: ServerContext = { db: options.db, keys: options.keys, now: options.now, throttle: options.throttle, codeLimits: options.codeLimits };
  const base = {
    logger: loggerOptions(options.log, options.logLevel ?? 'info'),
    bodyLimit: SERVER_BODY_LIMIT_BYTES,
    // A client's own request id would land in our logs unchecked: make our own.
    requestIdHeader: false as const,
    // JSON with __proto__ or constructor keys is refused, not merged.
    onProtoPoisoning: 'error' as const,
    onConstructorPoisoning: 'error' as const,
    return503OnClosing: true,
    // How long a request may take to arrive, headers and body: Node's own default, which Fastify
    // turns off (0) unless given. A 16 MiB push at 0.5 Mbit/s still fits; a body trickled in to
    // hold a connection does not. A stream's reply is not a request's arrival: it is not bounded by this.
    requestTimeout: REQUEST_TIMEOUT_MS,
  };
  // An https instance differs from an http one only in its raw server's type, which nothing
  // here touches; one type keeps the rest of the file free of the union.
  const app: FastifyInstance = options.tls === undefined ? Fastify(base)
    : Fastify({ ...base, https: { cert: options.tls.cert, key: options.tls.key } });
  const allowRemoteAdmin = options.allowRemoteAdmin === true;
  const server: ServerFacts = {
    database: options.db.kind === 'postgres' ? 'postgresql' : 'pglite',
    tls: options.tls !== undefined,
    localAdminOnly: !allowRemoteAdmin,
    listen: () => {
      const address = app.server.address();
      if (typeof address !== 'object' || address === null) return 'not listening';
      return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
    },
  };

  const replyError = (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, unexpected } = errorReply(error);
    if (unexpected) request.log.error({ err: error }, 'request failed');
    void reply.status(status).send(body);
  };
  app.setErrorHandler((error, request, reply) => {
    replyError(error, request, reply);
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send({ ok: false, error: { code: 'UNKNOWN_METHOD', message: 'No such route on this server' } });
  });

  // Who called, as each route's onRequest hook judged it and when, for its handler (a request is in it from its headers to its reply).
  const callers = new WeakMap<FastifyRequest, Judged>();
  // Requests whose handler was reached (their body read and parsed).
  const handled = new WeakSet<FastifyRequest>();
  for (const name of Object.keys(SERVER_ROUTES) as ServerRouteName[]) {
    const spec = SERVER_ROUTES[name];
    const handler = ROUTE_HANDLERS[name] as (input: unknown, call: CallContext) => Promise<unknown>;
    const judge = async (request: FastifyRequest, whole = false): Promise<Judged> => {
      const at = ctx.now();
      // Where the call comes from before who makes it: a server setting is not even signed in to from elsewhere.
      if (spec.local === true) requireThisMachine(isFromThisMachine(request.socket.remoteAddress, request.headers, options.localAdminKey), allowRemoteAdmin);
      // Who is asking comes first: a caller without a session learns nothing, not even which body is wrong.
      const presented = spec.access === 'public' ? undefined : bearer(request);
      const token = isAutomationToken(presented) ? await authenticateToken(ctx, presented, spec.tokenScope, request.ip) : undefined;
      if (!whole && token === undefined && spec.access === 'session' && SESSION_JUDGED_IN_HANDLER.has(name)) {
        return { auth: undefined, token, presented: presentedSession(presented, deviceOf(request)), at };
      }
      const auth = spec.access === 'public' || token !== undefined ? undefined : await authenticate(ctx, presented, deviceOf(request));
      // A session past its password step only gets the routes that finish signing in.
      if (spec.access === 'session' && auth !== undefined) requireSecondStep(auth);
      return { auth, token, presented: undefined, at };
    };
    app.route({
      method: spec.method,
      url: spec.path,
      ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }),
      // On the headers, before the body is read: a caller who may not call the route never has the
      // server buffer and parse a body (a push's may be 16 MiB), however slowly they would send it.
      onRequest: async (request) => {
        callers.set(request, await judge(request));
      },
      // A body refused before the handler (one that does not parse, is too large or of another type), on a route whose
      // session its handler judges, is told only once that session has been judged, as the handler tells one it refuses:
      // a caller not signed in gets UNAUTHORIZED, as on every other route (hostile review of 7 December).
      ...(SESSION_JUDGED_IN_HANDLER.has(name) ? {
        errorHandler: (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
          if (callers.get(request)?.presented === undefined || handled.has(request)) {
            replyError(error, request, reply);
            return;
          }
          void judge(request, true).then(() => error, (refusal: unknown) => refusal).then((told) => replyError(told, request, reply));
        },
      } : {}),
      handler: async (request, reply) => {
        handled.add(request);
        const judged = callers.get(request);
        // A body slow to arrive is judged again on its arrival: a session signed out, a token revoked
        // meanwhile, is refused as at its very next request (test/server/revoke-next-request.test.ts).
        const { auth, token, presented } = judged === undefined || ctx.now() - judged.at >= JUDGED_AGAIN_AFTER_MS ? await judge(request) : judged;
        let input: unknown;
        try {
          input = spec.input === null ? undefined : spec.input.parse(request.body ?? {});
        } catch (error) {
          // A session the handler would have judged is judged before the body's refusal is told.
          if (presented !== undefined) await judge(request, true);
          throw error;
        }
        const value = await handler(input, { ctx, version: options.version, auth, token, presented, source: request.ip, server });
        void reply.header('cache-control', 'no-store');
        // A value written as JSON already (stored records handed on as stored: json-text.ts).
        if (value instanceof JsonText) return reply.type('application/json; charset=utf-8').send(value.okReply());
        return { ok: true, value };
      },
    });
  }
  await registerSyncStream(app, ctx);
  await app.ready();
  return app;
}

/** How often an idle stream says it is alive (proxies drop connections silent for a minute). */
const KEEP_ALIVE_MS = 25_000;

/** The sync stream (shared/api/server-contract.ts SYNC_STREAM_PATH): not a JSON route, so registered here. */
async function registerSyncStream(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const notifier = await SyncNotifier.start(ctx.db, () => ctx.now());
  const open = new Set<() => void>();
  // Before the server waits for its connections to finish: a stream never would by itself.
  app.addHook('preClose', (done) => {
    for (const end of [...open]) end();
    done();
  });
  app.addHook('onClose', async () => {
    await notifier.close();
  });
  app.get(SYNC_STREAM_PATH, async (request, reply) => {
    const presented = bearer(request);
    // The stream lives as long as a session's access token; a token has no such end, so it pulls instead.
    if (isAutomationToken(presented)) throw new CrewvaultError('FORBIDDEN', 'An automation token does not open the sync stream: pull instead');
    const auth = await authenticate(ctx, presented, deviceOf(request));
    requireSecondStep(auth);
    const { vault } = syncStreamQuerySchema.parse(request.query ?? {});
    const held = await vaultInfo(ctx.db, vault);
    // A vault the server does not hold is answered as one the caller is not a person of (review 13a hole 4: no vault ids told).
    if (held === undefined) throw notAPerson();
    // Only a person of the vault hears where it stands (schema 14), as only they pull it.
    await pullingPerson(ctx.db, vault, held.createdBy, auth.user.id);
    const seq = held.seq;
    // Per process, per session and per account (review of 7 December: one session could hold them all).
    // Places held by the account's sessions ended since are given back first (endFallen), then judged again with no await
    // between that judgement and the place taken.
    if (notifier.refusal(auth.session.id, auth.user.id) !== undefined) await notifier.endFallen(auth.user.id).catch(() => undefined); // not judged (the database went): the refusal stands
    const refused = notifier.refusal(auth.session.id, auth.user.id);
    if (refused !== undefined) throw refused;
    void reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // Only forward: a notification of a push from before the stream opened may still arrive after it.
    let last = -1;
    const send = (at: number): void => {
      if (at <= last) return;
      last = at;
      raw.write(`event: seq\ndata: {"seq":${at}}\n\n`);
    };
    send(seq);
    // Judged again before each number it would tell (stream.ts): ended once its session or standing is gone (review 13a hole 2).
    const unsubscribe = notifier.subscribe(vault, { sessionId: auth.session.id, accountId: auth.user.id, createdBy: held.createdBy, send, end: () => end() });
    const keepAlive = setInterval(() => raw.write(': alive\n\n'), KEEP_ALIVE_MS);
    // Never longer than the session's access token: the desktop comes back with a fresh one.
    const expiry = setTimeout(() => end(), Math.max(0, auth.session.accessExpiresAt - ctx.now()));
    const end = (): void => {
      unsubscribe();
      clearInterval(keepAlive);
      clearTimeout(expiry);
      open.delete(end);
      raw.end();
    };
    open.add(end);
    request.raw.on('close', end);
    // The connection may have gone while the stream was authorised above: its 'close' was told before anyone listened,
    // and the place taken would be held until the access token's end (hostile review 4 of 7 December: 8 such a session
    // locked it out of live updates for that long). Checked in the same synchronous step as the place was taken.
    if (raw.destroyed || request.raw.socket.destroyed) end();
  });
}

/** For a `password` or `session` route's handler: the authenticated call (the app guarantees it). */
export function requireAuth(call: CallContext): Authenticated {
  if (call.auth === undefined) throw new CrewvaultError('UNAUTHORIZED', 'Sign in first');
  return call.auth;
}

/** For the handler of a route an automation token may reach: the session's caller, or the token's. */
export function requireCaller(call: CallContext): Caller {
  return call.token ?? requireAuth(call);
}
